package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TwoProviders;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reasoning models (issue 16, item 4): DeepSeek-R1 on SambaNova writes its thinking inside the content between
 * {@code <think>} tags (configured {@code reasoning = think-tags} in application.properties); gpt-oss streams it in
 * {@code reasoning} deltas, DeepSeek's API in {@code reasoning_content}. Thinking is the provider's first output: no
 * first-token timeout (1 s here) and no fallback while a model thinks, but the stream idle timeout (1.5 s) still
 * applies. The session API sends it as {@code {"content":"","reasoning":...}} events and stores it beside the answer,
 * never in it, never as context; /v1 relays it as {@code reasoning_content}.
 *
 * <p>sambanova (DeepSeek-R1, gpt-oss-120b) at {@link #samba}, azure gpt-4o as their fallback at {@link #azure}.
 */
@Timeout(60)
class ReasoningTest {

    static final String R1 = "DeepSeek-R1";
    static final String OSS = "gpt-oss-120b";
    static final String THINKING = "\nDer Nutzer fragt nach 6×7. Über <b>Multiplikation</b>: 42.\n";
    static final String ANSWER = "Sechs mal sieben ist 42.";
    static TwoProviders providers;
    static FakeUpstream samba;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.models.sambanova", R1 + ", " + OSS);
        p.put("llm.models.azure", "gpt-4o");
        p.put("llm.fallback-provider", "azure");
        p.put("llm.model-equivalents", R1 + "=gpt-4o, " + OSS + "=gpt-4o");
        p.put("llm.first-token-timeout-ms", "1000");
        p.put("llm.stream-idle-timeout-ms", "1500");
        providers = TwoProviders.start("gpt-4o", "az-test-key-0164", p);
        samba = providers.samba;
        azure = providers.azure;
        gateway = providers.gateway;
        client = providers.client;
    }

    @AfterAll
    static void stop() {
        providers.close();
    }

    @BeforeEach
    void reset() {
        providers.reset();
        token = Jwt.token("reasoning-" + System.nanoTime());
    }

    /** R1's content deltas (tags cut anywhere), the whole SSE body then cut into 5-byte pieces (cutting "×" too). */
    static Script r1Answer() {
        String content = "<think>" + THINKING + "</think>\n\n" + ANSWER;
        int[] cuts = {3, 9, 20, 31, content.indexOf("</think>") + 4, content.indexOf("</think>") + 9, content.length() - 5};
        StringBuilder sse = new StringBuilder();
        int at = 0;
        for (int cut : cuts) {
            sse.append(Chunks.delta(content.substring(at, cut)));
            at = cut;
        }
        sse.append(Chunks.delta(content.substring(at))).append(Chunks.finish("stop")).append(Chunks.usage(20, 60))
                .append(Chunks.done());
        byte[] bytes = sse.toString().getBytes(StandardCharsets.UTF_8);
        Script s = Script.sse();
        for (int i = 0; i < bytes.length; i += 5) {
            s.chunk(Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + 5)));
        }
        return s;
    }

    static String ossDelta(String field, String text) {
        return "data: {\"choices\":[{\"delta\":{\"" + field + "\":" + Chunks.json(text) + "},\"finish_reason\":null,"
                + "\"index\":0,\"logprobs\":null}],\"created\":1732612345.1,\"id\":\"r1\",\"model\":\"" + OSS + "\","
                + "\"object\":\"chat.completion.chunk\"}\n\n";
    }

    /** [reasoning, content] of the session API's events; every reasoning event has an empty content. */
    static String[] sessionEvents(GatewayClient.Answer answer) {
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        for (String e : answer.events()) {
            if (!e.startsWith("data: {")) {
                continue;
            }
            JsonNode n = GatewayClient.json(e.substring(6));
            if (n.has("reasoning")) {
                assertThat(e).startsWith("data: {\"content\":\"\",\"reasoning\":").endsWith(",\"done\":false}");
                reasoning.append(n.get("reasoning").asText());
            }
            content.append(n.get("content").asText());
        }
        return new String[] {reasoning.toString(), content.toString()};
    }

    JsonNode awaitAnswerStored(String session, int messages) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            JsonNode m = client.session(session, token).get("messages");
            if (m.size() >= messages && !"streaming".equals(m.get(messages - 1).get("status").asText())) {
                return m;
            }
            assertThat(System.nanoTime()).as("answer stored in time").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    @Test
    void thinkTagsCutAnywhereAreSplitOffTheAnswerStoredBesideItAndNeverSentBack() {
        String session = client.createSession(token, "{\"model\":\"" + R1 + "\"}");
        samba.enqueue(r1Answer());

        GatewayClient.Answer answer = client.chat(session, token, "Was ist 6×7?");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(sessionEvents(answer)).containsExactly(THINKING, ANSWER);
        assertThat(answer.text()).isEqualTo(ANSWER);
        assertThat(answer.body()).doesNotContain("think>").endsWith("data: [DONE]\n\n");
        JsonNode stored = awaitAnswerStored(session, 2).get(1);
        assertThat(stored.get("content").asText()).isEqualTo(ANSWER);
        assertThat(stored.get("reasoning").asText()).isEqualTo(THINKING);
        assertThat(client.session(session, token).get("messages").get(0).has("reasoning")).isFalse();

        samba.takeRequest(Duration.ofSeconds(5));
        samba.enqueue(Script.sse(Chunks.delta("Gern."), Chunks.finish("stop"), Chunks.done()));
        assertThat(client.chat(session, token, "Danke").status()).isEqualTo(200);
        String context = samba.takeRequest(Duration.ofSeconds(5)).body();
        assertThat(context).contains("\"messages\":[{\"role\":\"user\",\"content\":\"Was ist 6×7?\"},"
                + "{\"role\":\"assistant\",\"content\":\"" + ANSWER + "\"},{\"role\":\"user\",\"content\":\"Danke\"}]");
        assertThat(context).doesNotContain("Multiplikation");
    }

    @Test
    void aModelThinkingLongerThanTheFirstTokenTimeoutIsNotFailedOver() {
        String session = client.createSession(token, "{\"model\":\"" + OSS + "\"}");
        // 2.4 s of thinking before the first content; the first-token timeout is 1 s
        Script s = Script.sse();
        for (String piece : List.of("The user", " wants", " a haiku", " about rain.")) {
            s.chunk(ossDelta("reasoning", piece)).delay(Duration.ofMillis(600));
        }
        samba.enqueue(s.chunk(Chunks.delta("Rain on the tin roof")).chunk(Chunks.finish("stop"))
                .chunk(Chunks.usage(30, 40)).chunk(Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "A haiku?");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(sessionEvents(answer)).containsExactly("The user wants a haiku about rain.", "Rain on the tin roof");
        assertThat(azure.requestCount()).as("no fallback while the model thinks").isZero();
        JsonNode stored = awaitAnswerStored(session, 2).get(1);
        assertThat(stored.get("status").asText()).isEqualTo("complete");
        assertThat(stored.get("content").asText()).isEqualTo("Rain on the tin roof");
        assertThat(stored.get("reasoning").asText()).isEqualTo("The user wants a haiku about rain.");
    }

    @Test
    void theStreamIdleTimeoutStillAppliesWhileAModelThinks() {
        String session = client.createSession(token, "{\"model\":\"" + OSS + "\"}");
        samba.enqueue(Script.sse(ossDelta("reasoning", "Hmm")).stall());

        GatewayClient.Answer answer = client.chat(session, token, "Think forever?");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("data: {\"content\":\"\",\"reasoning\":\"Hmm\",\"done\":false}\n\n"
                + "event: error\ndata: {\"error\":{\"code\":\"stream_idle_timeout\",\"message\":\"The provider's stream"
                + " broke off; the partial answer was kept\"}}\n\n");
        JsonNode stored = awaitAnswerStored(session, 2).get(1);
        assertThat(stored.get("status").asText()).isEqualTo("interrupted");
        assertThat(stored.get("content").asText()).isEmpty();
        assertThat(stored.get("reasoning").asText()).isEqualTo("Hmm");
        assertThat(azure.requestCount()).isZero();
    }

    @Test
    void v1RelaysReasoningAsReasoningContentAndPassesReasoningEffortThrough() {
        samba.enqueue(Script.sse(ossDelta("reasoning_content", "Six"), ossDelta("reasoning_content", " sevens."),
                Chunks.delta("42"), Chunks.finish("stop"), Chunks.usageWithDetails(12, 0, 9, 7), Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"" + OSS + "\",\"stream\":true,\"reasoning_effort\":\"high\",\"stream_options\":"
                        + "{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"6x7?\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        JsonNode usage = null;
        for (String e : r.body().split("\n\n")) {
            if (e.startsWith("data: {")) {
                JsonNode n = GatewayClient.json(e.substring(6));
                JsonNode delta = n.at("/choices/0/delta");
                reasoning.append(delta.path("reasoning_content").asText(""));
                content.append(delta.path("content").asText(""));
                if (n.get("usage") != null && !n.get("usage").isNull()) {
                    usage = n.get("usage");
                }
            }
        }
        assertThat(reasoning.toString()).isEqualTo("Six sevens.");
        assertThat(content.toString()).isEqualTo("42");
        assertThat(usage.at("/completion_tokens_details/reasoning_tokens").asInt()).isEqualTo(7);
        assertThat(samba.takeRequest(Duration.ofSeconds(5)).body()).contains("\"reasoning_effort\":\"high\"");

        samba.enqueue(Script.sse(ossDelta("reasoning", "Think."), Chunks.delta("Done."), Chunks.finish("stop"),
                Chunks.done()));
        HttpResponse<String> whole = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"" + OSS + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Go\"}]}");
        JsonNode message = GatewayClient.json(whole.body()).at("/choices/0/message");
        assertThat(message.get("content").asText()).isEqualTo("Done.");
        assertThat(message.get("reasoning_content").asText()).isEqualTo("Think.");
    }

    /**
     * The canonical SDK loop pushes {@code choices[0].message} back as is (black-box probe, OpenAI Node SDK: that was a
     * 400 unsupported_parameter on messages[1].reasoning_content, a field the gateway itself returns). The thinking is
     * accepted and not sent upstream: DeepSeek's API refuses it as input.
     */
    @Test
    void v1TakesBackTheAnswersReasoningAndDoesNotSendItUpstream() {
        samba.enqueue(Script.sse(ossDelta("reasoning_content", "Six sevens."), Chunks.delta("42"),
                Chunks.finish("stop"), Chunks.done()));
        HttpResponse<String> first = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"" + OSS + "\",\"messages\":[{\"role\":\"user\",\"content\":\"6x7?\"}]}");
        JsonNode message = GatewayClient.json(first.body()).at("/choices/0/message");
        assertThat(message.get("reasoning_content").asText()).isEqualTo("Six sevens.");
        samba.takeRequest(Duration.ofSeconds(5));

        samba.enqueue(Script.sse(Chunks.delta("Yes."), Chunks.finish("stop"), Chunks.done()));
        HttpResponse<String> second = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"" + OSS + "\",\"messages\":[{\"role\":\"user\",\"content\":\"6x7?\"}," + message
                        + ",{\"role\":\"assistant\",\"content\":\"Sure.\",\"reasoning\":\"Hm.\","
                        + "\"reasoning_content\":null},{\"role\":\"user\",\"content\":\"Sure?\"}]}");

        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        assertThat(samba.takeRequest(Duration.ofSeconds(5)).body()).startsWith("{\"model\":\"" + OSS + "\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"6x7?\"},{\"role\":\"assistant\",\"content\":\"42\"},"
                + "{\"role\":\"assistant\",\"content\":\"Sure.\"},{\"role\":\"user\",\"content\":\"Sure?\"}],");
    }
}
