package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the provider is sent: system prompt, the last N messages of completed exchanges, the new message. */
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

        assertThat(upstream.takeRequest(Duration.ofSeconds(5)).body()).isEqualTo(
                "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":["
                        + "{\"role\":\"system\",\"content\":\"You are terse.\"},"
                        + "{\"role\":\"user\",\"content\":\"q3\"},{\"role\":\"assistant\",\"content\":\"a3\"},"
                        + "{\"role\":\"user\",\"content\":\"q4\"},{\"role\":\"assistant\",\"content\":\"a4\"},"
                        + "{\"role\":\"user\",\"content\":\"q5\"}],"
                        + "\"max_tokens\":2048,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
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
}
