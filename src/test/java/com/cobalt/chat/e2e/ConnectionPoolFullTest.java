package com.cobalt.chat.e2e;

import static com.cobalt.chat.e2e.ResilienceTest.provider;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.Test;

/**
 * A chat that finds every connection to its provider carrying another answer (LLM_MAX_CONNECTIONS, here 1) waits for
 * one up to its first-token wait, then goes to the fallback - and the provider's breaker does not count it: the pool
 * is the gateway's limit, not the provider's failure. Before, the wait ended after LLM_CONNECT_TIMEOUT_MS as a
 * connect error, was retried, and counted: a burst past the pool opened a healthy provider's breaker (a 3,000-stream
 * probe). When every provider's pool is full the chat gets 503 {@code overloaded} with Retry-After 1.
 */
class ConnectionPoolFullTest {

    static final String BUSY_WARN = "Provider sambanova: a chat waited 1000 ms and found every connection to it in use"
            + " (LLM_MAX_CONNECTIONS=1); such chats go to the fallback and are not counted by its breaker (logged at"
            + " most once a minute)";

    @Test
    void aFullPoolSendsTheChatToTheFallbackWithoutChargingTheBreaker() throws Exception {
        try (FakeUpstream p = FakeUpstream.start(); FakeUpstream f = FakeUpstream.start()) {
            Map<String, String> props = new LinkedHashMap<>();
            props.put("llm.fallback-provider", "azure");
            props.put("azure.ai.endpoint", f.baseUrl());
            props.put("azure.ai.api-key", "az-test-key-0003");
            props.put("azure.ai.deployment", "gpt-4o-mini");
            props.put("llm.max-connections", "1");
            props.put("llm.connect-timeout-ms", "200");
            props.put("llm.first-token-timeout-ms", "1000");
            props.put("llm.max-retries", "2");
            props.put("llm.retry-base-delay-ms", "5");
            props.put("llm.retry-max-delay-ms", "20");
            // one counted failure opens it: a full pool counted as a connect error would open it at once
            props.put("llm.breaker.sambanova.minimum-number-of-calls", "1");
            props.put("llm.breaker.sambanova.sliding-window-size", "1");
            props.put("llm.breaker.sambanova.failure-rate-threshold", "50");
            props.put("llm.breaker.sambanova.wait-in-open-ms", "60000");
            try (RunningGateway g = RunningGateway.sambanovaAt(p, props); LogCapture logs = LogCapture.start()) {
                GatewayClient client = new GatewayClient(g);
                String token = Jwt.token("pool-pia");
                List<CountDownLatch> gates = new ArrayList<>();
                List<InputStream> open = new ArrayList<>();
                try {
                    // the primary's one connection carries a streaming answer
                    open.add(heldAnswer(client, token, p, "P", gates));
                    // the next chat finds it in use: the fallback answers it (and holds the fallback's one connection)
                    open.add(heldAnswer(client, token, f, "F", gates));
                    assertThat(p.requestCount()).isEqualTo(1);
                    assertThat(provider(g, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");

                    // both pools full: 503 overloaded after the wait at each, no request reaches either provider
                    long started = System.nanoTime();
                    HttpResponse<String> refused = client.send("POST", "/api/v1/chat/sessions/"
                            + client.createSession(token) + "/messages", token, "application/json",
                            "{\"content\":\"and one more\"}");
                    long tookMs = (System.nanoTime() - started) / 1_000_000;
                    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
                    assertThat(refused.body()).isEqualTo("{\"error\":{\"code\":\"overloaded\",\"message\":\"Every"
                            + " connection to the providers of this model is in use; retry shortly\"}}");
                    assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                    assertThat(tookMs).as("waited at the primary, then at the fallback").isGreaterThanOrEqualTo(2000);
                    assertThat(p.requestCount()).isEqualTo(1);
                    assertThat(f.requestCount()).isEqualTo(1);
                    assertThat(provider(g, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");
                    assertThat(provider(g, "azure").get("breaker_state").asText()).isEqualTo("CLOSED");
                } finally {
                    gates.forEach(CountDownLatch::countDown);
                    for (InputStream in : open) {
                        in.close();
                    }
                }
                // the held answers end: the primary answers the next chat (its breaker never opened)
                p.enqueue(Script.sse(Chunks.delta("Back."), Chunks.finish("stop"), Chunks.done()));
                GatewayClient.Answer after = client.chat(client.createSession(token), token, "again");
                assertThat(after.status()).as(after.body()).isEqualTo(200);
                assertThat(after.text()).isEqualTo("Back.");
                assertThat(provider(g, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");

                // three chats found the primary full (the fallback's, the refused one's two waits): one WARN
                assertThat(logs.lines().stream().filter(l -> l.level().equals("WARN")).map(LogCapture.Line::message)
                        .filter(m -> m.contains("sambanova")).toList()).containsExactly(BUSY_WARN);
            }
        }
    }

    /** A chat whose answer begins (its first delta read) and then waits for the test's gate. */
    static InputStream heldAnswer(GatewayClient client, String token, FakeUpstream upstream, String text,
                                  List<CountDownLatch> gates) throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        gates.add(gate);
        upstream.enqueue(Script.sse(Chunks.delta(text)).holdUntil(gate).chunk(Chunks.finish("stop"))
                .chunk(Chunks.done()));
        HttpResponse<InputStream> live = client.openChat(client.createSession(token), token, "hold " + text);
        assertThat(live.statusCode()).isEqualTo(200);
        StreamBreakTest.readUntil(live.body(), "data: {\"content\":\"" + text + "\",\"done\":false}\n\n");
        return live.body();
    }
}
