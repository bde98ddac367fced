package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** LangChain4j's OpenAI streaming chat model pointed at the gateway, as an application built on it would use it. */
@Timeout(60)
class OpenAiLangChain4jTest {

    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    static FakeUpstream upstream;
    static RunningGateway gateway;
    OpenAiStreamingChatModel model;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        // the model declares no capabilities here (its default list is unset): a tool is the caller's 400
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("llm.model." + MODEL + ".capabilities", ""));
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void newModel() {
        upstream.reset();
        model = OpenAiStreamingChatModel.builder().baseUrl(gateway.baseUrl() + "/v1")
                .apiKey(Jwt.token("langchain4j-user")).modelName(MODEL).temperature(0.5)
                .timeout(Duration.ofSeconds(20)).build();
    }

    /** Collects what a streaming handler is told. */
    static final class Collector implements StreamingChatResponseHandler {
        final List<String> partials = new CopyOnWriteArrayList<>();
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

        @Override
        public void onPartialResponse(String partial) {
            partials.add(partial);
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
            done.complete(response);
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    @Test
    void aStreamedChatArrivesPieceByPieceWithItsUsage() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("Bonjour"), Chunks.delta(", "), Chunks.delta("monde."),
                Chunks.finish("stop"), Chunks.usage(11, 3), Chunks.done()));
        Collector handler = new Collector();

        model.chat(ChatRequest.builder().messages(SystemMessage.from("Answer in French."),
                UserMessage.from("Hello, world.")).build(), handler);
        ChatResponse response = handler.done.get(20, TimeUnit.SECONDS);

        assertThat(handler.partials).containsExactly("Bonjour", ", ", "monde.");
        assertThat(response.aiMessage().text()).isEqualTo("Bonjour, monde.");
        assertThat(response.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(response.modelName()).isEqualTo(MODEL);
        assertThat(response.tokenUsage().inputTokenCount()).isEqualTo(11);
        assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(3);
        RecordedRequest sent = upstream.takeRequest(Duration.ofSeconds(5));
        assertThat(GatewayClient.json(sent.body()).get("messages").toString()).isEqualTo(
                "[{\"role\":\"system\",\"content\":\"Answer in French.\"},{\"role\":\"user\",\"content\":\"Hello, world.\"}]");
        assertThat(GatewayClient.json(sent.body()).get("temperature").asDouble()).isEqualTo(0.5);
    }

    @Test
    void aToolTheModelDoesNotSupportReachesTheHandlersOnError() throws Exception {
        Collector handler = new Collector();

        model.chat(ChatRequest.builder().messages(UserMessage.from("Weather?"))
                .toolSpecifications(ToolSpecification.builder().name("get_weather").build()).build(), handler);

        Throwable error = handler.done.handle((r, t) -> t).get(20, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(error.getMessage()).contains("\"param\":\"tools\"").contains("model_lacks_capability");
        assertThat(upstream.requestCount()).isZero();
    }
}
