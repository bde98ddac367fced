package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A whole (not streamed) {@code /v1} answer still being assembled when the gateway stops: once the shutdown grace is
 * over the caller gets what the API promises for a shutdown - 503 {@code shutting_down} with {@code Retry-After}, so an
 * SDK or a balancer sends it again to another instance - not a 502 that blames the provider for the gateway's stop.
 */
@Timeout(60)
class OpenAiShutdownTest {

    FakeUpstream upstream;
    RunningGateway gateway;

    @AfterEach
    void stop() {
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void aWholeAnswerCutByTheShutdownGraceIsA503ShuttingDownNotTheProvidersFault() throws Exception {
        upstream = FakeUpstream.start();
        // the provider has begun its answer and then thinks on, past the 1 s grace
        upstream.enqueue(Script.sse(Chunks.delta("Hel")).stall());
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "1"));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("whole-answer-wendy");

        CompletableFuture<HttpResponse<String>> answer = CompletableFuture.supplyAsync(() -> client.send("POST",
                "/v1/chat/completions", token, "application/json",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"));
        // its first delta arrived: the answer streams from the provider, and the caller waits for the whole of it
        PrometheusText.await(gateway, m -> Double.valueOf(1.0).equals(m.value("chat_active_streams", Map.of())));
        gateway.close();

        HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"The gateway is shutting down; retry the request\","
                + "\"type\":\"service_unavailable\",\"param\":null,\"code\":\"shutting_down\"}}");
        assertThat(upstream.awaitDisconnect(Duration.ofSeconds(5))).as("the provider's request was reset").isTrue();
    }
}
