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
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What one user can make the gateway hold: sessions kept (CHAT_MAX_SESSIONS_PER_USER), sessions created a minute
 * (CHAT_SESSION_CREATE_RATE_PER_MINUTE), and the text of one answer (CHAT_MAX_ANSWER_BYTES), which is cut there
 * and ends like an answer at its max_tokens: finish_reason "length", relayed and stored so.
 */
class CapsTest {

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-sessions-per-user", "3",
                "chat.session-create-rate-per-minute", "5", "chat.max-answer-bytes", "12"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void aUserKeepsAtMostTheSessionCapAndMayCreateAnotherAfterDeletingOne() {
        String token = Jwt.token("caps-keeper");
        String first = client.createSession(token);
        client.createSession(token);
        client.createSession(token);

        HttpResponse<String> fourth = client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}");
        assertThat(fourth.statusCode()).isEqualTo(409);
        assertThat(GatewayClient.json(fourth.body()).at("/error/code").asText()).isEqualTo("too_many_sessions");
        assertThat(client.createSession(Jwt.token("caps-someone-else"))).isNotBlank();

        assertThat(client.send("DELETE", "/api/v1/chat/sessions/" + first, token, null, null).statusCode())
                .isEqualTo(204);
        assertThat(client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}").statusCode())
                .isEqualTo(201);
    }

    @Test
    void creatingSessionsFasterThanTheRateIsA429WithRetryAfterEvenWhenTheyWereDeleted() {
        String token = Jwt.token("caps-creator");
        for (int i = 0; i < 5; i++) {
            String id = client.createSession(token);
            // deleting keeps the user under the session cap: creations still count against the rate
            assertThat(client.send("DELETE", "/api/v1/chat/sessions/" + id, token, null, null).statusCode())
                    .isEqualTo(204);
        }

        HttpResponse<String> sixth = client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}");
        assertThat(sixth.statusCode()).isEqualTo(429);
        assertThat(GatewayClient.json(sixth.body()).at("/error/code").asText())
                .isEqualTo("session_rate_limit_exceeded");
        long retryAfter = Long.parseLong(sixth.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 60L);
    }

    @Test
    void anAnswerLongerThanTheCapIsCutThereEndsWithLengthAndIsStoredSo() {
        String token = Jwt.token("caps-reader");
        String session = client.createSession(token);
        // 12 bytes: "Hé, " is 5 bytes, "wörld" 6, then "🚀" (4) no longer fits whole and is not split
        upstream.enqueue(Script.sse(Chunks.delta("Hé, "), Chunks.delta("wörld"), Chunks.delta("🚀 and on"),
                Chunks.delta(" and on"), Chunks.finish("stop"), Chunks.done()).stall());

        GatewayClient.Answer a = client.chat(session, token, "talk");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("Hé, wörld");
        List<String> events = a.events();
        assertThat(events.get(events.size() - 2)).isEqualTo("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"length\"}");
        assertThat(events.get(events.size() - 1)).isEqualTo("data: [DONE]");
        assertThat(upstream.awaitDisconnect(Duration.ofSeconds(5))).as("the provider is cut off").isTrue();
        JsonNode stored = client.session(session, token).get("messages").get(1);
        assertThat(stored.get("content").asText()).isEqualTo("Hé, wörld");
        assertThat(stored.get("status").asText()).isEqualTo("complete");
        // and says it was cut, once it is read again (audit, 2026-12-04: a cut answer read as a whole one)
        assertThat(stored.get("finish_reason").asText()).isEqualTo("length");
        assertThat(client.session(session, token).get("messages").get(0).has("finish_reason"))
                .as("a question has none").isFalse();
    }
}
