package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Chats still waiting for their provider's first output when the shutdown grace ends (a provider that thinks long, a
 * rolling restart meanwhile). Nothing of their answers was sent, so they get the shutdown's 503 {@code shutting_down}
 * with {@code Retry-After} - which a balancer or an SDK sends again to another instance - and their provider requests
 * are reset; before, they were left to the end of the stop and their connections closed without any response.
 */
@Timeout(60)
class PendingAtShutdownTest {

    FakeUpstream upstream;

    @AfterEach
    void stop() {
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void chatsWaitingForTheirFirstTokenWhenTheGraceEndsGet503ShuttingDown() throws Exception {
        upstream = FakeUpstream.start();
        // headers, then nothing: both providers think on, well past the 1 s grace (the first-token timeout is 20 s)
        upstream.enqueue(Script.sse().stall());
        upstream.enqueue(Script.sse().stall());
        RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "1"));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("patient-pat");
        String session = client.createSession(token);

        CompletableFuture<HttpResponse<String>> sessionChat = CompletableFuture.supplyAsync(() -> client.send("POST",
                "/api/v1/chat/sessions/" + session + "/messages", token, "application/json",
                "{\"content\":\"Think hard\"}"));
        CompletableFuture<HttpResponse<String>> openAiChat = CompletableFuture.supplyAsync(() -> client.send("POST",
                "/v1/chat/completions", token, "application/json",
                "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Think hard\"}]}"));
        upstream.takeRequest(Duration.ofSeconds(10));
        upstream.takeRequest(Duration.ofSeconds(10));
        LogCapture log = LogCapture.start();
        long stopping = System.nanoTime();
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);

        HttpResponse<String> r = sessionChat.get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"shutting_down\","
                + "\"message\":\"The gateway is shutting down; retry the request\"}}");
        HttpResponse<String> o = openAiChat.get(20, TimeUnit.SECONDS);
        assertThat(o.statusCode()).as(o.body()).isEqualTo(503);
        assertThat(o.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(o.body()).isEqualTo("{\"error\":{\"message\":\"The gateway is shutting down; retry the request\","
                + "\"type\":\"service_unavailable\",\"param\":null,\"code\":\"shutting_down\"}}");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping))
                .as("answered once the 1 s grace is over, not at the end of the stop").isBetween(1000L, 8000L);
        assertThat(upstream.awaitDisconnects(2, Duration.ofSeconds(5))).as("both provider requests were reset")
                .isTrue();
        assertThat(upstream.requestCount()).as("no fallback, no retry").isEqualTo(2);
        stopped.get(30, TimeUnit.SECONDS);
        log.close();
        // both exchanges are recorded with the code their callers got, not as a provider's failure
        assertThat(log.lines("cobalt.exchange")).extracting(l -> GatewayClient.json(l.message()))
                .extracting(line -> line.get("status").asText() + " " + line.get("error_code").asText())
                .containsExactly("failed shutting_down", "failed shutting_down");
    }
}
