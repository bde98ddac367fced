package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Right blame: a client that stops reading while the provider still streams makes the gateway pause the provider.
 * That silence is the client's, not the provider's: after LLM_STREAM_IDLE_TIMEOUT_MS the answer is stored
 * cancelled (client_too_slow), the provider is cut off, and neither its health, its breaker nor the error count
 * blame it. (Before, the paused provider tripped its own idle timeout: stored interrupted, counted as an error.)
 */
class SlowClientTest {

    @Test
    void aClientThatStopsReadingIsCancelledAndTheProviderIsNotBlamed() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway g = RunningGateway.sambanovaAt(upstream, Map.of("llm.stream-idle-timeout-ms", "1000",
                     "chat.max-answer-bytes", "100000000"))) {
            GatewayClient client = new GatewayClient(g);
            String token = Jwt.token("slow-reader");
            String session = client.createSession(token);
            // far more than the loopback socket buffers hold, then the end of the answer
            Script answer = Script.sse(Chunks.delta("start"));
            String piece = Chunks.delta("x".repeat(64_000));
            for (int i = 0; i < 150; i++) {
                answer.chunk(piece);
            }
            upstream.enqueue(answer.chunk(Chunks.finish("stop")).chunk(Chunks.done()));

            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", g.port()));
                String body = "{\"content\":\"flood me\"}";
                OutputStream out = socket.getOutputStream();
                out.write(("POST /api/v1/chat/sessions/" + session + "/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                // and never read

                JsonNode stored = awaitAnswer(client, session, token);
                assertThat(stored.get("status").asText()).isEqualTo("cancelled");
                assertThat(stored.get("content").asText()).startsWith("start");
            }
            assertThat(upstream.awaitDisconnect(Duration.ofSeconds(5))).as("the provider was cut off").isTrue();

            PrometheusText m = PrometheusText.await(g, x -> Double.valueOf(1.0).equals(x.value("llm_requests_total",
                    Map.of("provider", "sambanova", "status", "cancelled", "variant", "none"))));
            assertThat(m.value("llm_requests_total", Map.of("provider", "sambanova", "status", "error",
                    "variant", "none"))).isEqualTo(0.0);
            assertThat(m.value("llm_provider_up", Map.of("provider", "sambanova"))).isEqualTo(1.0);
            JsonNode admin = GatewayClient.json(client.get("/api/v1/admin/providers",
                    ResilienceTest.tokenWith("ops-admin", "roles", java.util.List.of("admin"))).body());
            JsonNode sambanova = admin.get("providers").get(0);
            assertThat(sambanova.get("failures").asLong()).isZero();
            assertThat(sambanova.get("breaker_state").asText()).isEqualTo("CLOSED");
        }
    }

    static JsonNode awaitAnswer(GatewayClient client, String session, String token) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode messages = client.session(session, token).get("messages");
            // while it streams the answer is checkpointed with status "streaming"
            if (messages.size() == 2 && !messages.get(1).get("status").asText().equals("streaming")) {
                return messages.get(1);
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("no finished answer stored in time");
    }
}
