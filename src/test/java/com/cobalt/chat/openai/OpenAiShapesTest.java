package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OpenAI-compatible endpoint byte for byte, over real HTTP against a fake SambaNova: the chunks, the usage chunk,
 * [DONE], the whole chat.completion, the model list, and the error after the first delta.
 */
@Timeout(60)
class OpenAiShapesTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    /** A model id with a '/', as Hugging Face names models: a second SambaNova model of the catalog. */
    static final String ORG_MODEL = "meta-llama/Llama-3.3-70B-Instruct";
    /** Cooldowns after one test's 429 must not leak into the next: each test starts an hour later. */
    static final TestClock CLOCK = new TestClock();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-tokens", "512",
                "llm.models.sambanova", MODEL + ", " + ORG_MODEL), Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        CLOCK.advance(Duration.ofHours(1));
        upstream.reset();
        token = Jwt.token("openai-shapes");
    }

    static Script helloAnswer() {
        return Script.sse(Chunks.delta("Hel"), Chunks.delta("lo!"), Chunks.finish("stop"), Chunks.usage(12, 3),
                Chunks.done());
    }

    HttpResponse<String> post(String body) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", body);
    }

    static long created() {
        return CLOCK.instant().getEpochSecond();
    }

    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String e : body.split("\n\n")) {
            if (!e.isEmpty()) {
                out.add(e);
            }
        }
        return out;
    }

    /** The events with the answer's id replaced by ID, after checking every chunk carries the same one. */
    static List<String> withIdMasked(List<String> events) {
        String id = null;
        List<String> out = new ArrayList<>();
        for (String e : events) {
            if (e.startsWith("data: {\"id\":\"")) {
                String thisId = GatewayClient.json(e.substring(6)).get("id").asText();
                assertThat(thisId).matches("chatcmpl-[0-9a-f]{32}");
                if (id == null) {
                    id = thisId;
                }
                assertThat(thisId).as("one id for every chunk of the answer").isEqualTo(id);
                e = e.replace(thisId, "ID");
            }
            out.add(e);
        }
        return out;
    }

    static String chunk(String delta, String finish) {
        return "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":" + created() + ",\"model\":\""
                + MODEL + "\",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":" + delta
                + ",\"logprobs\":null,\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}";
    }

    static String chunkWithUsageNull(String delta, String finish) {
        return chunk(delta, finish).replaceFirst("}$", ",\"usage\":null}");
    }

    static final String ROLE = "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}";

    @Test
    void aStreamedAnswerIsChatCompletionChunksThenDone() {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"model\":\"" + MODEL + "\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        assertThat(r.headers().firstValue("X-Cobalt-Provider")).hasValue("sambanova");
        assertThat(withIdMasked(events(r.body()))).containsExactly(
                chunk(ROLE, null),
                chunk("{\"content\":\"Hel\"}", null),
                chunk("{\"content\":\"lo!\"}", null),
                chunk("{}", "stop"),
                "data: [DONE]");
    }

    @Test
    void aWholeAnswerIsOneChatCompletionWithUsage() {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("X-Cobalt-Provider")).hasValue("sambanova");
        String id = GatewayClient.json(r.body()).get("id").asText();
        assertThat(id).matches("chatcmpl-[0-9a-f]{32}");
        assertThat(r.body()).isEqualTo("{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"created\":" + created()
                + ",\"model\":\"" + MODEL + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"Hello!\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15},"
                + "\"system_fingerprint\":null}");
    }

    /** A structured-output refusal as OpenAI and Azure stream it: {@code delta.refusal} pieces, no content. */
    static Script refusalAnswer() {
        String prefix = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":";
        String suffix = ",\"finish_reason\":null}]}\n\n";
        return Script.sse(prefix + "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"}" + suffix,
                prefix + "{\"refusal\":\"I'm sorry,\"}" + suffix, prefix + "{\"refusal\":\" I can't help.\"}" + suffix,
                Chunks.finish("stop"), Chunks.usage(12, 5), Chunks.done());
    }

    /** OpenAI's role chunk of an answer that begins with a refusal: no content. */
    static final String REFUSAL_ROLE = "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"}";

    /**
     * A streamed refusal that an SDK reassembles is the whole one (black-box probe: the OpenAI SDK's accumulator gave
     * {@code "content": ""} beside the refusal, from the role chunk's empty content, where the whole completion and
     * OpenAI's stream have null).
     */
    @Test
    void aStreamedRefusalReassembledByTheSdkHasNoContentLikeTheWholeOne() {
        upstream.enqueue(refusalAnswer());
        upstream.enqueue(refusalAnswer());
        OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(token)
                .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Hi")
                .build();

        ChatCompletionAccumulator streamed = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
            stream.stream().forEach(streamed::accumulate);
        }
        ChatCompletion whole = openai.chat().completions().create(params);

        ChatCompletionMessage wholeMessage = whole.choices().get(0).message();
        ChatCompletionMessage streamedMessage = streamed.chatCompletion().choices().get(0).message();
        assertThat(wholeMessage.content()).isEmpty();
        assertThat(wholeMessage.refusal()).hasValue("I'm sorry, I can't help.");
        assertThat(streamedMessage.content()).isEmpty();
        assertThat(streamedMessage.refusal()).hasValue("I'm sorry, I can't help.");
    }

    /**
     * A model's refusal (structured outputs) is relayed as OpenAI's: {@code refusal} deltas when streamed,
     * {@code message.refusal} with no content when whole (black-box audit with the OpenAI SDK, 2026-12-04: it was
     * dropped, and the SDK's parse() could not tell a refusal from an empty answer).
     */
    @Test
    void aRefusalIsRelayedAsRefusalDeltasAndTheWholeMessagesRefusal() {
        upstream.enqueue(refusalAnswer());
        upstream.enqueue(refusalAnswer());

        HttpResponse<String> streamed = post("{\"model\":\"" + MODEL + "\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        HttpResponse<String> whole = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(withIdMasked(events(streamed.body()))).containsExactly(
                chunk(REFUSAL_ROLE, null),
                chunk("{\"refusal\":\"I'm sorry,\"}", null),
                chunk("{\"refusal\":\" I can't help.\"}", null),
                chunk("{}", "stop"),
                "data: [DONE]");
        assertThat(whole.statusCode()).isEqualTo(200);
        String id = GatewayClient.json(whole.body()).get("id").asText();
        assertThat(whole.body()).isEqualTo("{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"created\":"
                + created() + ",\"model\":\"" + MODEL + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                + "\"assistant\",\"content\":null,\"refusal\":\"I'm sorry, I can't help.\"},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,"
                + "\"total_tokens\":17},\"system_fingerprint\":null}");
    }

    @Test
    void withIncludeUsageEveryChunkCarriesUsageNullAndAUsageChunkPrecedesDone() {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(withIdMasked(events(r.body()))).containsExactly(
                chunkWithUsageNull(ROLE, null),
                chunkWithUsageNull("{\"content\":\"Hel\"}", null),
                chunkWithUsageNull("{\"content\":\"lo!\"}", null),
                chunkWithUsageNull("{}", "stop"),
                "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":" + created() + ",\"model\":\""
                        + MODEL + "\",\"system_fingerprint\":null,\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                        + "\"completion_tokens\":3,\"total_tokens\":15}}",
                "data: [DONE]");
    }

    @Test
    void azuresEmptyChoicesChunksAndSambaNovasExtraUsageFieldsAreNormalisedAway() {
        upstream.enqueue(Script.sse(Chunks.azurePromptFilter(),
                "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\"}\n\n",
                Chunks.delta("Hi"), Chunks.finish("stop"),
                "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.5,\"model\":\"m\","
                        + "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6,"
                        + "\"time_to_first_token\":0.08,\"completion_tokens_after_first_per_sec\":512.3,"
                        + "\"is_last_response\":true}}\n\n",
                Chunks.done()));

        HttpResponse<String> r = post("{\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(withIdMasked(events(r.body()))).containsExactly(
                chunkWithUsageNull(ROLE, null),
                chunkWithUsageNull("{\"content\":\"Hi\"}", null),
                chunkWithUsageNull("{}", "stop"),
                "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":" + created() + ",\"model\":\""
                        + MODEL + "\",\"system_fingerprint\":null,\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
                        + "\"completion_tokens\":1,\"total_tokens\":6}}",
                "data: [DONE]");
    }

    @Test
    void aProviderFinishReasonIsPassedOn() {
        upstream.enqueue(Script.sse(Chunks.delta("Cut"), Chunks.finish("length"), Chunks.done()));

        HttpResponse<String> r = post("{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(withIdMasked(events(r.body()))).containsExactly(
                chunk(ROLE, null), chunk("{\"content\":\"Cut\"}", null), chunk("{}", "length"), "data: [DONE]");
    }

    @Test
    void withoutProviderUsageTheWholeAnswerCarriesTheGatewaysEstimate() {
        upstream.enqueue(Script.sse(Chunks.delta("Hello there"), Chunks.finish("stop"), Chunks.done()));

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode usage = GatewayClient.json(r.body()).get("usage");
        // cl100k_base: "Hello there" is 2 tokens; the prompt is 3 priming + 3 per message + "user" + "Hi"
        assertThat(usage.toString()).isEqualTo("{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10}");
    }

    static String toolDelta(String calls) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":" + calls + "},"
                + "\"finish_reason\":null}]}\n\n";
    }

    /** Two tool calls in fragments, as the probe's fake sends them, and no usage at all (Azure AI Foundry's shape). */
    static Script toolCallsWithoutUsage() {
        return Script.sse(
                toolDelta("[{\"index\":0,\"id\":\"call_AAA\",\"type\":\"function\",\"function\":{\"name\":"
                        + "\"get_weather\",\"arguments\":\"\"}}]"),
                toolDelta("[{\"index\":0,\"function\":{\"arguments\":\"{\\\"lo\"}}]"),
                toolDelta("[{\"index\":0,\"function\":{\"arguments\":\"cation\\\"\"}}]"),
                toolDelta("[{\"index\":0,\"function\":{\"arguments\":\": \\\"Par\"}}]"),
                toolDelta("[{\"index\":0,\"function\":{\"arguments\":\"is\\\"}\"}}]"),
                toolDelta("[{\"index\":1,\"id\":\"call_BBB\",\"type\":\"function\",\"function\":{\"name\":"
                        + "\"get_time\",\"arguments\":\"\"}}]"),
                toolDelta("[{\"index\":1,\"function\":{\"arguments\":\"{\\\"tz\\\"\"}}]"),
                toolDelta("[{\"index\":1,\"function\":{\"arguments\":\": \\\"CET\\\"}\"}}]"),
                Chunks.finish("tool_calls"), Chunks.done());
    }

    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":"
            + "\"Weather in a city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
            + "\"string\"}},\"required\":[\"city\"]}}},{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}]";
    /**
     * cl100k_base: 8 for the message (as above), plus the tools: "get_weather" 2, "Weather in a city" 4, the
     * parameters' compact JSON 18, "get_time" 2.
     */
    static final int TOOLS_PROMPT = 34;
    /** cl100k_base: "get_weather" 2, {"location": "Paris"} 6, "get_time" 2, {"tz": "CET"} 7. */
    static final int TOOL_CALLS_COMPLETION = 17;

    /**
     * Without provider usage a tool-call answer's estimate counts the calls' names and arguments as completion and the
     * request's tool definitions as prompt (black-box probe: completion_tokens 0, and a prompt with tools counted no
     * more than one without), in the answer and in the usage ledger.
     */
    @Test
    void withoutProviderUsageTheEstimateCountsToolCallsAndToolDefinitions() {
        token = Jwt.token("openai-tool-estimate-" + System.nanoTime());
        upstream.enqueue(toolCallsWithoutUsage());

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = GatewayClient.json(r.body());
        assertThat(answer.at("/choices/0/message/tool_calls/1/function/arguments").asText()).isEqualTo("{\"tz\": \"CET\"}");
        assertThat(answer.get("usage").toString()).isEqualTo("{\"prompt_tokens\":" + TOOLS_PROMPT
                + ",\"completion_tokens\":" + TOOL_CALLS_COMPLETION + ",\"total_tokens\":"
                + (TOOLS_PROMPT + TOOL_CALLS_COMPLETION) + "}");
        JsonNode total = awaitUsage(1).get("total");
        assertThat(total.get("estimated_answers").asLong()).isEqualTo(1);
        assertThat(total.get("estimated_prompt_tokens").asLong()).isEqualTo(TOOLS_PROMPT);
        assertThat(total.get("estimated_completion_tokens").asLong()).isEqualTo(TOOL_CALLS_COMPLETION);
    }

    /** The same estimate in a stream's usage chunk, where the calls were relayed as deltas and never assembled. */
    @Test
    void withoutProviderUsageAStreamsUsageChunkCountsItsToolCalls() {
        upstream.enqueue(toolCallsWithoutUsage());

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"tools\":" + TOOLS
                + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

        assertThat(r.statusCode()).isEqualTo(200);
        List<String> events = events(r.body());
        assertThat(events.get(events.size() - 1)).isEqualTo("data: [DONE]");
        assertThat(GatewayClient.json(events.get(events.size() - 2).substring(6)).get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":" + TOOLS_PROMPT + ",\"completion_tokens\":" + TOOL_CALLS_COMPLETION
                        + ",\"total_tokens\":" + (TOOLS_PROMPT + TOOL_CALLS_COMPLETION) + "}");
    }

    /**
     * A refusal kept apart from the content is completion too, and a json_schema response format is part of the
     * prompt (black-box probe: a refusal was counted 0 completion tokens). cl100k_base: "I'm sorry, I can't help." 9;
     * the prompt 8 + "answer" 1 + the schema's compact JSON 14.
     */
    @Test
    void withoutProviderUsageTheEstimateCountsARefusalAndTheResponseFormatsSchema() {
        String prefix = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":";
        String suffix = ",\"finish_reason\":null}]}\n\n";
        upstream.enqueue(Script.sse(prefix + "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"}" + suffix,
                prefix + "{\"refusal\":\"I'm sorry,\"}" + suffix, prefix + "{\"refusal\":\" I can't help.\"}" + suffix,
                Chunks.finish("stop"), Chunks.done()));

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"response_format\":"
                + "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer\",\"schema\":{\"type\":\"object\","
                + "\"properties\":{\"a\":{\"type\":\"string\"}}}}}}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = GatewayClient.json(r.body());
        assertThat(answer.at("/choices/0/message/refusal").asText()).isEqualTo("I'm sorry, I can't help.");
        assertThat(answer.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":23,\"completion_tokens\":9,\"total_tokens\":32}");
    }

    @Test
    void aStreamThatBreaksAfterItsFirstDeltaEndsWithAnErrorEventAndNoDone() {
        upstream.enqueue(Script.sse(Chunks.delta("Hel")).delay(Duration.ofMillis(100)).cut());

        HttpResponse<String> r = post("{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(withIdMasked(events(r.body()))).containsExactly(
                chunk(ROLE, null),
                chunk("{\"content\":\"Hel\"}", null),
                "event: error\ndata: {\"error\":{\"message\":\"The provider's stream broke off\",\"type\":\"api_error\","
                        + "\"param\":null,\"code\":\"stream_interrupted\"}}");
    }

    @Test
    void aWholeAnswerThatBreaksAfterItsFirstDeltaIsA502() {
        upstream.enqueue(Script.sse(Chunks.delta("Hel")).delay(Duration.ofMillis(100)).cut());

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"The provider's answer broke off before it was "
                + "complete; retry the request\",\"type\":\"api_error\",\"param\":null,\"code\":\"stream_interrupted\"}}");
    }

    @Test
    void aClientThatLeavesMidStreamCancelsTheUpstreamRequest() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("First")).delay(Duration.ofSeconds(10)).chunk(Chunks.delta("never"))
                .chunk(Chunks.finish("stop")).chunk(Chunks.done()));
        HttpRequest req = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}")).build();

        HttpResponse<InputStream> live = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(live.statusCode()).isEqualTo(200);
        try (InputStream in = live.body()) {
            String seen = readUntil(in, "\"First\"");
            assertThat(seen).contains("\"content\":\"First\"");
        }

        assertThat(upstream.awaitDisconnect(Duration.ofSeconds(3))).as("the upstream request was cancelled").isTrue();
    }

    static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder b = new StringBuilder();
        byte[] buf = new byte[256];
        while (!b.toString().contains(marker)) {
            int n = in.read(buf);
            if (n < 0) {
                throw new AssertionError("stream ended before " + marker + ": " + b);
            }
            b.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return b.toString();
    }

    @Test
    void theProviderGetsTheCallersMessagesModelAndSamplingButNotItsUserOrHeaders() {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"model\":\"" + MODEL + "\",\"messages\":["
                + "{\"role\":\"developer\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi \"},{\"type\":\"text\",\"text\":\"there\"}]},"
                + "{\"role\":\"assistant\",\"content\":\"Hello.\"},{\"role\":\"user\",\"content\":\"Again\"}],"
                + "\"max_completion_tokens\":100000,\"temperature\":0.2,\"top_p\":0.9,\"stop\":\"END\","
                + "\"user\":\"end-user-7\",\"n\":1,\"logprobs\":false,\"tools\":[],\"seed\":null}");

        assertThat(r.statusCode()).isEqualTo(200);
        RecordedRequest sent = upstream.takeRequest(WAIT);
        assertThat(sent.path()).isEqualTo("/v1/chat/completions");
        assertThat(sent.body()).isEqualTo("{\"model\":\"" + MODEL + "\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi there\"},"
                + "{\"role\":\"assistant\",\"content\":\"Hello.\"},{\"role\":\"user\",\"content\":\"Again\"}],"
                + "\"max_tokens\":512,\"temperature\":0.2,\"top_p\":0.9,\"stop\":[\"END\"],\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}");
        assertThat(sent.headers()).containsEntry("authorization", List.of("Bearer sn-test-key-0001"));
    }

    /**
     * An empty stop string is no stop sequence (black-box probe: {@code "stop": ""} went upstream as
     * {@code "stop": [""]}, which an OpenAI-compatible provider may take as a sequence that matches at once): empty
     * strings are dropped, and a stop of nothing but them is not sent at all.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "[\"\"]", "[\"\",\"\"]", "[\"\",\"END\",\"\"]"})
    void anEmptyStopStringIsNoStopSequence(String stop) {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                + "\"stop\":" + stop + "}");

        assertThat(r.statusCode()).isEqualTo(200);
        String sentStop = stop.contains("END") ? "\"stop\":[\"END\"]," : "";
        assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + MODEL + "\",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":512," + sentStop + "\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}");
    }

    /**
     * An assistant's refusal sent back as context, as the SDKs hand it back (black-box probe, OpenAI Node SDK: pushing
     * {@code choices[0].message} of a refused structured answer - {@code "content": null, "refusal": "..."} - was a 400
     * missing_required_parameter on its content, and a {@code refusal} content part a 400 saying only text and images
     * were supported): both go upstream as sent, as OpenAI's spec has them. A developer message that is more than a
     * role and a text (here with a name) goes as {@code system} like a plain one, never as {@code developer}.
     */
    @Test
    void anAssistantsRefusalGoesUpstreamAsSentAndADeveloperMessageAsSystem() {
        upstream.enqueue(helloAnswer());
        String refused = "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"}";
        String refusedAsPart = "{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"No.\"}]}";
        String refusedBeside = "{\"role\":\"assistant\",\"content\":\"Partly.\",\"refusal\":\"Not the rest.\"}";

        HttpResponse<String> r = post("{\"model\":\"" + MODEL + "\",\"messages\":["
                + "{\"role\":\"developer\",\"content\":\"Be brief.\",\"name\":\"ops\"},"
                + "{\"role\":\"user\",\"content\":\"Q1\"}," + refused + ","
                + "{\"role\":\"user\",\"content\":\"Q2\"}," + refusedAsPart + ","
                + "{\"role\":\"user\",\"content\":\"Q3\"}," + refusedBeside + ","
                + "{\"role\":\"user\",\"content\":\"Q4\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + MODEL + "\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"Be brief.\",\"name\":\"ops\"},"
                + "{\"role\":\"user\",\"content\":\"Q1\"}," + refused + ","
                + "{\"role\":\"user\",\"content\":\"Q2\"}," + refusedAsPart + ","
                + "{\"role\":\"user\",\"content\":\"Q3\"}," + refusedBeside + ","
                + "{\"role\":\"user\",\"content\":\"Q4\"}],"
                + "\"max_tokens\":512,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    }

    /**
     * CHAT_MAX_MESSAGE_LENGTH (4000 here) caps the new user turn only (black-box probe, OpenAI Node SDK: the gateway's
     * own long answer sent back as context was a 400 string_above_max_length on messages[1].content). Earlier
     * messages of any role are the conversation so far and go upstream as sent.
     */
    @Test
    void longEarlierMessagesOfAnyRoleAreContextAndReachTheProviderAsSent() {
        upstream.enqueue(helloAnswer());
        String messages = "[{\"role\":\"system\",\"content\":\"" + "s".repeat(4500) + "\"},"
                + "{\"role\":\"user\",\"content\":\"" + "\u00e9".repeat(4001) + "\"},"
                + "{\"role\":\"assistant\",\"content\":\"" + "An answer.".repeat(500) + "\"},"
                + "{\"role\":\"user\",\"content\":\"" + "\u00e9".repeat(4000) + "\"}]";

        HttpResponse<String> r = post("{\"model\":\"" + MODEL + "\",\"messages\":" + messages + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + MODEL + "\",\"messages\":"
                + messages + ",\"max_tokens\":512,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    }

    /** The new user turn is still capped, in characters, as a string or as text parts joined. */
    @ParameterizedTest
    @ValueSource(strings = {"\"%s\"", "[{\"type\":\"text\",\"text\":\"%s\"},{\"type\":\"text\",\"text\":\"\u00e9\"}]"})
    void aNewUserTurnOverTheCapIsRefusedAfterALongAnswer(String content) {
        String last = String.format(content, "\u00e9".repeat(content.startsWith("[") ? 4000 : 4001));

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"" + "a".repeat(5000) + "\"},"
                + "{\"role\":\"user\",\"content\":" + last + "}]}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"Invalid 'messages[2].content': string too long."
                + " Expected at most 4000 characters.\",\"type\":\"invalid_request_error\","
                + "\"param\":\"messages[2].content\",\"code\":\"string_above_max_length\"}}");
        assertThat(upstream.requestCount()).as("nothing went upstream").isZero();
    }

    /** An integer past 2^31 is an integer (helper audit, 2026-12-04: it was "expected an integer"): capped the same. */
    @ParameterizedTest
    @ValueSource(strings = {"\"max_tokens\":2147483648", "\"max_tokens\":9007199254740993",
            "\"max_completion_tokens\":5000000000"})
    void aMaxTokensBeyondTheIntRangeIsCappedLikeAnyLargeValue(String field) {
        upstream.enqueue(helloAnswer());

        HttpResponse<String> r = post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]," + field + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(upstream.takeRequest(WAIT).body()).contains("\"max_tokens\":512,");
    }

    @Test
    void nothingIsStoredInSessionsButTheUsageIsCountedForTheCaller() {
        token = Jwt.token("openai-usage-" + System.nanoTime());
        upstream.enqueue(helloAnswer());

        assertThat(post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").statusCode()).isEqualTo(200);

        assertThat(client.get("/api/v1/chat/sessions", token).body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
        JsonNode total = awaitUsage(1).get("total");
        assertThat(total.get("answers").asLong()).isEqualTo(1);
        assertThat(total.get("prompt_tokens").asLong()).isEqualTo(12);
        assertThat(total.get("completion_tokens").asLong()).isEqualTo(3);
        assertThat(total.get("estimated_answers").asLong()).isZero();
    }

    JsonNode awaitUsage(int answers) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            HttpResponse<String> r = client.get("/api/v1/usage?from=2020-01-01&to=2030-12-31", token);
            JsonNode doc = GatewayClient.json(r.body());
            if (doc.path("total").path("answers").asLong() >= answers || System.nanoTime() > deadline) {
                return doc;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    @Test
    void theModelListIsOpenAisListShape() {
        HttpResponse<String> r = client.get("/v1/models", token);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).matches("\\{\"object\":\"list\",\"data\":\\[\\{\"id\":\"" + MODEL
                + "\",\"object\":\"model\",\"created\":\\d+,\"owned_by\":\"cobalt-chat-gateway\","
                + "\"capabilities\":\\[\"tools\",\"json_schema\"]},\\{\"id\":\"" + ORG_MODEL
                + "\",\"object\":\"model\",\"created\":\\d+,\"owned_by\":\"cobalt-chat-gateway\","
                + "\"capabilities\":\\[]}]}");
    }

    @Test
    void oneModelIsOpenAisModelShape() {
        HttpResponse<String> r = client.get("/v1/models/" + MODEL, token);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).matches("\\{\"id\":\"" + MODEL
                + "\",\"object\":\"model\",\"created\":\\d+,\"owned_by\":\"cobalt-chat-gateway\","
                + "\"capabilities\":\\[\"tools\",\"json_schema\"]}");
    }

    /**
     * A model id holding a '/' is found however the caller writes it (black-box probe: the OpenAI Python SDK sends
     * {@code models.retrieve("meta-llama/Llama-3.3-70B-Instruct")} unencoded, which was a 404 not_found); an id
     * under it that is not in the catalog is still 404 model_not_found.
     */
    @ParameterizedTest
    @ValueSource(strings = {"meta-llama/Llama-3.3-70B-Instruct", "meta-llama%2FLlama-3.3-70B-Instruct"})
    void aModelWhoseIdHoldsASlashIsFoundSentPlainOrEncoded(String path) throws Exception {
        HttpResponse<String> r = client.get("/v1/models/" + path, token);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).matches("\\{\"id\":\"" + ORG_MODEL
                + "\",\"object\":\"model\",\"created\":\\d+,\"owned_by\":\"cobalt-chat-gateway\","
                + "\"capabilities\":\\[]}");

        // a request header named like a path parameter is not taken for it (Camel appended the two into a list)
        HttpResponse<String> withHeaders = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/models/"
                + path)).header("Authorization", "Bearer " + token).header("model", "gpt-9").header("*", "/x").GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(withHeaders.statusCode()).as(withHeaders.body()).isEqualTo(200);
        assertThat(GatewayClient.json(withHeaders.body()).get("id").asText()).isEqualTo(ORG_MODEL);

        HttpResponse<String> unknown = client.get("/v1/models/" + path + "/extra", token);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(GatewayClient.json(unknown.body()).at("/error/code").asText()).isEqualTo("model_not_found");
        assertThat(GatewayClient.json(unknown.body()).at("/error/message").asText())
                .startsWith("The model `" + ORG_MODEL + "/extra` does not exist");
    }
}
