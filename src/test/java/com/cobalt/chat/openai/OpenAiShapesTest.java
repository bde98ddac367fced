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

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The OpenAI-compatible endpoint byte for byte, over real HTTP against a fake SambaNova: the chunks, the usage chunk,
 * [DONE], the whole chat.completion, the model list, and the error after the first delta.
 */
@Timeout(60)
class OpenAiShapesTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    /** TestClock's start, 2026-11-26T12:00:00Z: every created of this test. */
    static final long CREATED = 1795694400L;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-tokens", "512"),
                Map.of("clock", new TestClock()));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
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
        return "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":" + CREATED + ",\"model\":\""
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
        assertThat(r.body()).isEqualTo("{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"created\":" + CREATED
                + ",\"model\":\"" + MODEL + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"Hello!\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15},"
                + "\"system_fingerprint\":null}");
    }
}
