package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.SseException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.models.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official OpenAI Java SDK, unchanged but for its base URL and key, against the running gateway: sambanova at
 * the fake upstream P as primary, azure at the fake upstream F as fallback. The SDK's retries are off, so what it
 * raises is what the gateway answered.
 */
@Timeout(60)
class OpenAiSdkTest {

    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    static final String DEPLOYMENT = "gpt-4o-mini";
    static final TestClock CLOCK = new TestClock();
    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;

    String user;
    OpenAIClient openai;

    @BeforeAll
    static void start() {
        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", fallback.baseUrl());
        p.put("azure.ai.api-key", "az-test-key-0002");
        p.put("azure.ai.deployment", DEPLOYMENT);
        p.put("chat.rate-limit-per-minute", "3");
        // the model declares no capabilities here (its default list is unset): a tool is the caller's 400
        p.put("llm.model." + MODEL + ".capabilities", "");
        gateway = RunningGateway.sambanovaAt(primary, p, Map.of("clock", CLOCK));
    }

    @AfterAll
    static void stop() {
        gateway.close();
        primary.close();
        fallback.close();
    }

    @BeforeEach
    void newCaller() {
        CLOCK.advance(Duration.ofHours(1));
        primary.reset();
        fallback.reset();
        user = "sdk-user-" + System.nanoTime();
        openai = client(Jwt.token(user));
    }

    static OpenAIClient client(String apiKey) {
        return OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(apiKey).maxRetries(0)
                .timeout(Duration.ofSeconds(20)).build();
    }

    static Script answer(String... pieces) {
        Script s = Script.sse();
        for (String p : pieces) {
            s.chunk(Chunks.delta(p));
        }
        return s.chunk(Chunks.finish("stop")).chunk(Chunks.usage(9, pieces.length)).chunk(Chunks.done());
    }

    static ChatCompletionCreateParams.Builder hello() {
        return ChatCompletionCreateParams.builder().model(MODEL).addSystemMessage("Be brief.").addUserMessage("Hi!");
    }

    @Test
    void aWholeCompletion() {
        primary.enqueue(answer("Hello", " from", " the gateway."));

        ChatCompletion completion = openai.chat().completions().create(hello().temperature(0.3).build());

        completion.validate();
        assertThat(completion.model()).isEqualTo(MODEL);
        assertThat(completion.choices()).hasSize(1);
        assertThat(completion.choices().get(0).message().content()).hasValue("Hello from the gateway.");
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(completion.usage()).hasValueSatisfying(u -> {
            assertThat(u.promptTokens()).isEqualTo(9);
            assertThat(u.completionTokens()).isEqualTo(3);
            assertThat(u.totalTokens()).isEqualTo(12);
        });
    }

    @Test
    void aStreamedCompletionWithUsage() {
        primary.enqueue(answer("Hello", " from", " the gateway."));
        List<ChatCompletionChunk> chunks = new ArrayList<>();

        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(hello()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunks::add);
        }

        chunks.forEach(ChatCompletionChunk::validate);
        StringBuilder text = new StringBuilder();
        chunks.forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        assertThat(text).hasToString("Hello from the gateway.");
        assertThat(chunks).extracting(ChatCompletionChunk::id).containsOnly(chunks.get(0).id());
        assertThat(chunks).extracting(ChatCompletionChunk::model).containsOnly(MODEL);
        assertThat(chunks.get(chunks.size() - 2).choices().get(0).finishReason())
                .hasValue(ChatCompletionChunk.Choice.FinishReason.STOP);
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage()).hasValueSatisfying(u -> assertThat(u.totalTokens()).isEqualTo(12));
    }

    @Test
    void aFallbackIsInvisibleToTheSdkButNamedInAHeader() {
        primary.enqueue(Script.json(503, "{\"error\":{\"message\":\"overloaded\"}}"));
        fallback.enqueue(answer("Fallback", " answer."));

        HttpResponseFor<ChatCompletion> raw = openai.chat().completions().withRawResponse().create(hello().build());
        ChatCompletion completion = raw.parse();

        completion.validate();
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().values("X-Cobalt-Provider")).containsExactly("azure");
        assertThat(completion.model()).as("the model asked for, not the fallback's deployment").isEqualTo(MODEL);
        assertThat(completion.choices().get(0).message().content()).hasValue("Fallback answer.");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    @Test
    void aFallbackIsInvisibleInAStreamToo() {
        primary.enqueue(Script.sse("event: error\ndata: {\"error\":{\"message\":\"model crashed\"}}\n\n"));
        fallback.enqueue(answer("Still", " here."));
        StringBuilder text = new StringBuilder();
        List<String> models = new ArrayList<>();

        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(hello().build())) {
            stream.stream().forEach(c -> {
                models.add(c.model());
                c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append));
            });
        }

        assertThat(text).hasToString("Still here.");
        assertThat(models).containsOnly(MODEL);
    }

    @Test
    void theDefaultModelAndTheCatalog() {
        primary.enqueue(answer("Default."));

        List<String> ids = openai.models().list().data().stream().map(Model::id).toList();
        ChatCompletion completion = openai.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(ids.get(0)).addUserMessage("Hi").build());

        assertThat(ids).containsExactly(MODEL, DEPLOYMENT);
        assertThat(completion.choices().get(0).message().content()).hasValue("Default.");
        Model one = openai.models().retrieve(DEPLOYMENT);
        one.validate();
        assertThat(one.id()).isEqualTo(DEPLOYMENT);
        assertThat(one.ownedBy()).isEqualTo("cobalt-chat-gateway");
    }

    @Test
    void namingTheFallbacksModelGoesToItsProviderFirst() {
        fallback.enqueue(answer("Azure", " here."));

        ChatCompletion completion = openai.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(DEPLOYMENT).addUserMessage("Hi").build());

        assertThat(completion.model()).isEqualTo(DEPLOYMENT);
        assertThat(completion.choices().get(0).message().content()).hasValue("Azure here.");
        assertThat(primary.requestCount()).isZero();
    }

    @Test
    void theRateLimitIsTheSdksRateLimitException() {
        for (int i = 0; i < 3; i++) {
            primary.enqueue(answer("ok"));
            openai.chat().completions().create(hello().build());
        }

        RateLimitException e = catchThrowableOfType(RateLimitException.class,
                () -> openai.chat().completions().create(hello().build()));

        assertThat(e.statusCode()).isEqualTo(429);
        assertThat(e.type()).hasValue("rate_limit_error");
        assertThat(e.code()).hasValue("rate_limit_exceeded");
        assertThat(e.headers().values("Retry-After")).singleElement()
                .satisfies(v -> assertThat(Long.parseLong(v)).isBetween(1L, 61L));
        assertThat(primary.requestCount()).isEqualTo(3);
    }

    @Test
    void aToolForAModelWithoutToolsIsTheSdksBadRequestException() {
        ChatCompletionCreateParams withTool = hello().addTool(ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder().name("get_weather").build()).build()).build();

        BadRequestException e = catchThrowableOfType(BadRequestException.class,
                () -> openai.chat().completions().create(withTool));

        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.type()).hasValue("invalid_request_error");
        assertThat(e.param()).hasValue("tools");
        assertThat(e.code()).hasValue("model_lacks_capability");
        assertThat(e.getMessage()).contains("The model 'Meta-Llama-3.3-70B-Instruct' does not support tools");
        assertThat(primary.requestCount()).isZero();
    }

    @Test
    void aJsonResponseFormatForAModelWithoutJsonSchemaIsTheSdksBadRequestException() {
        BadRequestException e = catchThrowableOfType(BadRequestException.class,
                () -> openai.chat().completions().create(hello()
                        .responseFormat(com.openai.models.ResponseFormatJsonObject.builder().build()).build()));

        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.param()).hasValue("response_format");
        assertThat(e.code()).hasValue("model_lacks_capability");
        assertThat(e.getMessage()).contains("The model 'Meta-Llama-3.3-70B-Instruct' does not support json_schema"
                + " (response_format json_object or json_schema)");
        assertThat(primary.requestCount()).isZero();
    }

    @Test
    void aBadKeyIsTheSdksUnauthorizedException() {
        UnauthorizedException e = catchThrowableOfType(UnauthorizedException.class,
                () -> client(Jwt.signedWith("another-secret-that-is-long-enough-0123456789", user))
                        .chat().completions().create(hello().build()));

        assertThat(e.type()).hasValue("authentication_error");
        assertThat(e.code()).hasValue("invalid_token");
    }

    @Test
    void anUnknownModelIsTheSdksNotFoundException() {
        NotFoundException e = catchThrowableOfType(NotFoundException.class, () -> openai.chat().completions()
                .create(ChatCompletionCreateParams.builder().model("gpt-9").addUserMessage("Hi").build()));

        assertThat(e.code()).hasValue("model_not_found");
        assertThat(e.param()).hasValue("model");
    }

    @Test
    void aStreamThatBreaksAfterItBeganIsTheSdksSseException() {
        primary.enqueue(Script.sse(Chunks.delta("Half")).delay(Duration.ofMillis(100)).cut());
        StringBuilder text = new StringBuilder();

        SseException e = catchThrowableOfType(SseException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> stream =
                         openai.chat().completions().createStreaming(hello().build())) {
                stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
            }
        });

        assertThat(text).hasToString("Half");
        assertThat(e.code()).hasValue("stream_interrupted");
        assertThat(e.type()).hasValue("api_error");
    }
}
