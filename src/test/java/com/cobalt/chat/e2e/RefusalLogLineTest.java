package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * A chat refused before any provider was asked - a 429, a 401, a 400 - gets one JSON line on {@code cobalt.exchange}
 * like an answered one, so the X-Request-Id a caller quotes from a refusal is in the log. Before, only exchanges that
 * reached a provider had a line (observability probe's left item).
 */
class RefusalLogLineTest {

    @Test
    void aChatRefusedBeforeAnyProviderWasAskedHasItsOwnLogLineAndOtherRoutesRefusalsHaveNone() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "demo");
        p.put("chat.rate-limit-per-minute", "1");
        try (RunningGateway gateway = RunningGateway.start(p); LogCapture logs = LogCapture.start()) {
            GatewayClient client = new GatewayClient(gateway);
            String token = Jwt.token("refused-user");
            String session = client.createSession(token);
            String chat = "/api/v1/chat/sessions/" + session + "/messages";
            assertThat(client.send("POST", chat, token, "application/json", "{\"content\":\"Hi\"}").statusCode())
                    .isEqualTo(200);

            HttpResponse<String> limited = client.send("POST", chat, token, "application/json",
                    "{\"content\":\"Again\"}");
            HttpResponse<String> badToken = client.send("POST", "/v1/chat/completions", "not-a-jwt",
                    "application/json", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
            HttpResponse<String> badRequest = client.send("POST", "/v1/chat/completions", token, "application/json",
                    "{\"messages\":[]}");
            // not a chat: a session that does not exist is a 404 without a line
            assertThat(client.get("/api/v1/chat/sessions/00000000-0000-0000-0000-000000000000", token).statusCode())
                    .isEqualTo(404);
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(badToken.statusCode()).isEqualTo(401);
            assertThat(badRequest.statusCode()).isEqualTo(400);

            List<JsonNode> refused = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (refused.size() < 3 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                refused.clear();
                for (LogCapture.Line line : logs.lines("cobalt.exchange")) {
                    JsonNode json = GatewayClient.json(line.message());
                    if (json.get("event").asText().equals("chat_refused")) {
                        refused.add(json);
                    }
                }
            }
            assertThat(refused).extracting(RefusalLogLineTest::withoutTimes).containsExactly(
                    "{\"event\":\"chat_refused\",\"request_id\":\"" + requestId(limited) + "\",\"trace_id\":null,"
                            + "\"user_id\":\"refused-user\",\"http_status\":429,\"error_code\":\"rate_limit_exceeded\"}",
                    "{\"event\":\"chat_refused\",\"request_id\":\"" + requestId(badToken) + "\",\"trace_id\":null,"
                            + "\"user_id\":null,\"http_status\":401,\"error_code\":\"invalid_token\"}",
                    "{\"event\":\"chat_refused\",\"request_id\":\"" + requestId(badRequest) + "\",\"trace_id\":null,"
                            + "\"user_id\":\"refused-user\",\"http_status\":400,\"error_code\":\"empty_array\"}");
            assertThat(refused).allSatisfy(line -> {
                assertThat(line.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                assertThat(line.get("duration_ms").asLong()).isBetween(0L, 5000L);
            });
            // the answered chat has its exchange line, and only that one
            assertThat(logs.lines("cobalt.exchange")).hasSize(4);
        }
    }

    private static String requestId(HttpResponse<String> r) {
        return r.headers().firstValue("X-Request-Id").orElseThrow();
    }

    private static String withoutTimes(JsonNode line) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = line.deepCopy();
        copy.remove("ts");
        copy.remove("duration_ms");
        return copy.toString();
    }
}
