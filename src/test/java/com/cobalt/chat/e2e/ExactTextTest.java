package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a user sends reaches the provider and the store exactly, on both APIs: quotes, the words null and true,
 * numbers, surrounding spaces, tabs and newlines, text that looks like a Camel expression or property placeholder,
 * any Unicode. Values cross from the routes to the beans as named inputs, so nothing re-parses them.
 */
class ExactTextTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    static List<String> texts() {
        return List.of("\"Hello\"", "'Hello'", "null", "NULL", "true", "42", "  spaced  ", "\ttab\t", "\nnew\nline\n",
                "${body}", "${header.Authorization}", "{{chat.max-tokens}}", "${exchange}", "#{x}", "a, b)",
                "Grüße, 日本語, emoji 🚀, RTL \u05e9\u05dc\u05d5\u05dd", "\\\"escaped\\\"");
    }

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of());
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void clear() {
        upstream.reset();
    }

    static Script answer() {
        return Script.sse(Chunks.delta("ok"), Chunks.finish("stop"), Chunks.usage(3, 1), Chunks.done());
    }

    @ParameterizedTest
    @MethodSource("texts")
    void theSessionApiSendsAndStoresTheMessageTitleAndSystemPromptExactly(String text) {
        String token = Jwt.token("exact-user");
        String session = client.createSession(token, "{\"title\":" + Chunks.json(text) + ",\"system_prompt\":"
                + Chunks.json(text) + "}");
        upstream.enqueue(answer());

        GatewayClient.Answer a = client.chat(session, token, text);

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        RecordedRequest sent = upstream.takeRequest(WAIT);
        JsonNode messages = GatewayClient.json(sent.body()).get("messages");
        assertThat(messages.get(0).get("role").asText()).isEqualTo("system");
        assertThat(messages.get(0).get("content").asText()).isEqualTo(text);
        assertThat(messages.get(messages.size() - 1).get("content").asText()).isEqualTo(text);
        JsonNode stored = client.session(session, token);
        assertThat(stored.get("title").asText()).isEqualTo(text);
        assertThat(stored.get("messages").get(0).get("content").asText()).isEqualTo(text);
    }

    @ParameterizedTest
    @MethodSource("texts")
    void theOpenAiApiSendsTheMessagesExactly(String text) {
        upstream.enqueue(answer());
        String body = "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":[{\"role\":\"system\",\"content\":"
                + Chunks.json(text) + "},{\"role\":\"user\",\"content\":" + Chunks.json(text) + "}]}";

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.token("exact-user"),
                "application/json", body);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode messages = GatewayClient.json(upstream.takeRequest(WAIT).body()).get("messages");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("content").asText()).isEqualTo(text);
        assertThat(messages.get(1).get("content").asText()).isEqualTo(text);
    }

    /**
     * A NUL character (U+0000) in a provider's answer is dropped before it is relayed: PostgreSQL cannot store it, and
     * such an answer was streamed whole, then ended with answer_not_stored and was missing from the session there,
     * while the embedded H2 kept it. Now the client and the session have the same text on both databases.
     */
    @Test
    void aNulInTheProvidersAnswerIsDroppedSoWhatIsRelayedIsWhatIsStoredOnEveryDatabase() {
        assertRelayedAndStoredWithoutNul(client);
        if (Postgres.available()) {
            try (Postgres.Schema schema = Postgres.newSchema("exact_nul");
                 RunningGateway pg = RunningGateway.sambanovaAt(upstream, Map.of("chat.db.url", schema.url(),
                         "chat.db.user", Postgres.USER))) {
                assertRelayedAndStoredWithoutNul(new GatewayClient(pg));
            }
        }
    }

    private static void assertRelayedAndStoredWithoutNul(GatewayClient on) {
        String token = Jwt.token("exact-user");
        String session = on.createSession(token, "{\"title\":\"nul\"}");
        upstream.enqueue(Script.sse(Chunks.delta("A\u0000B"), Chunks.delta("\u0000"), Chunks.delta("C"),
                Chunks.finish("stop"), Chunks.usage(3, 3), Chunks.done()));

        GatewayClient.Answer a = on.chat(session, token, "Say it");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("ABC");
        assertThat(a.body()).endsWith("data: [DONE]\n\n");
        JsonNode answer = on.session(session, token).get("messages").get(1);
        assertThat(answer.get("status").asText()).isEqualTo("complete");
        assertThat(answer.get("content").asText()).isEqualTo("ABC");
    }
}
