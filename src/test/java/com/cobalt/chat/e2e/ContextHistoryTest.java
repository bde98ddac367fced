package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the provider is sent: system prompt, the last N messages of completed exchanges (each question followed by its
 * answer), the new message.
 */
class ContextHistoryTest {

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-context-messages", "4"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(5, 1), Chunks.done());
    }

    @Test
    void historyIsOldestFirstCutToTheLastMessagesAndSkipsFailedExchanges() {
        String token = Jwt.token("carol");
        String session = client.createSession(token, "{\"title\":\"ctx\",\"system_prompt\":\"You are terse.\"}");

        upstream.enqueue(answer("a1"));
        assertThat(client.chat(session, token, "q1").text()).isEqualTo("a1");
        upstream.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\"}}"));
        assertThat(client.chat(session, token, "q2 fails").status()).isEqualTo(503);
        upstream.enqueue(answer("a3"));
        assertThat(client.chat(session, token, "q3").text()).isEqualTo("a3");
        upstream.enqueue(answer("a4"));
        assertThat(client.chat(session, token, "q4").text()).isEqualTo("a4");
        upstream.reset();

        upstream.enqueue(answer("a5"));
        assertThat(client.chat(session, token, "q5").text()).isEqualTo("a5");

        assertThat(upstream.takeRequest(Duration.ofSeconds(5)).body()).isEqualTo(requestWithTurns("q3", "a3", "q4", "a4",
                "q5"));
    }

    /**
     * Four messages sent side by side into one session (the default CHAT_MAX_CONCURRENT_STREAMS): their questions are
     * stored before any answer, and the answers finish in another order, one of them cut. The next message's history
     * is still question/answer pairs, by when each question was accepted - strict chat templates (vLLM's Llama and
     * Mistral) refuse roles that do not alternate. Each answer is held open after its first token, so the questions
     * are stored in the order sent (no token reaches a client before its question is stored) and the answers in the
     * order the test lets them finish.
     */
    @Test
    void messagesSentSideBySideAreLaterHistoryAsQuestionAnswerPairs() throws Exception {
        upstream.reset();
        String token = Jwt.token("erin");
        String session = client.createSession(token, "{\"title\":\"side\",\"system_prompt\":\"You are terse.\"}");
        List<CountDownLatch> finish = new ArrayList<>();
        List<InputStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                CountDownLatch gate = new CountDownLatch(1);
                finish.add(gate);
                Script held = Script.sse(Chunks.delta("a" + i)).holdUntil(gate);
                // the answer to q1 breaks off: interrupted, never context
                upstream.enqueue(i == 1 ? held.cut()
                        : held.chunk(Chunks.finish("stop")).chunk(Chunks.usage(5, 1)).chunk(Chunks.done()));
                HttpResponse<InputStream> live = client.openChat(session, token, "q" + i);
                assertThat(live.statusCode()).isEqualTo(200);
                streams.add(live.body());
                StreamBreakTest.readUntil(live.body(), "data: {\"content\":\"a" + i + "\",\"done\":false}\n\n");
            }
            for (int i : new int[] {2, 0, 3}) {
                finish.get(i).countDown();
                assertThat(AnswerNotStoredTest.readToEnd(streams.get(i))).isEqualTo(
                        "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\ndata: [DONE]\n\n");
            }
            finish.get(1).countDown();
            assertThat(AnswerNotStoredTest.readToEnd(streams.get(1))).isEqualTo("event: error\n"
                    + "data: {\"error\":{\"code\":\"stream_interrupted\",\"message\":\"" + StreamBreakTest.BROKE_OFF
                    + "\"}}\n\n");
        } finally {
            finish.forEach(CountDownLatch::countDown);
            for (InputStream in : streams) {
                in.close();
            }
        }
        upstream.reset();

        upstream.enqueue(answer("a4"));
        assertThat(client.chat(session, token, "q4").text()).isEqualTo("a4");

        // chat.max-context-messages 4: the two newest complete exchanges by their questions, q2 and q3
        assertThat(upstream.takeRequest(Duration.ofSeconds(5)).body()).isEqualTo(requestWithTurns("q2", "a2", "q3", "a3",
                "q4"));
    }

    @Test
    void aNewSessionWithoutSystemPromptSendsOnlyTheUserMessage() {
        String token = Jwt.token("dave");
        String session = client.createSession(token);
        upstream.reset();
        upstream.enqueue(answer("hi"));

        assertThat(client.chat(session, token, "hello \"quoted\" ünïcödé").text()).isEqualTo("hi");

        assertThat(upstream.takeRequest(Duration.ofSeconds(5)).body()).isEqualTo(
                "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":["
                        + "{\"role\":\"user\",\"content\":\"hello \\\"quoted\\\" ünïcödé\"}],"
                        + "\"max_tokens\":2048,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    }

    /** The provider request of this class's gateway for a context of turns: user, assistant, ..., the new user turn. */
    static String requestWithTurns(String... turns) {
        StringBuilder messages = new StringBuilder("{\"role\":\"system\",\"content\":\"You are terse.\"}");
        for (int i = 0; i < turns.length; i++) {
            messages.append(",{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant").append("\",\"content\":\"")
                    .append(turns[i]).append("\"}");
        }
        return "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":[" + messages
                + "],\"max_tokens\":2048,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    }
}
