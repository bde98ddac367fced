package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Readiness is about this instance: its database is reachable and it is not shutting down. /observe/health and
 * /observe/health/ready are 200 while it can serve and 503 from SIGTERM on (while its streams drain); /live stays
 * 200, since the process needs no restart. Providers are not in it (ResilienceTest: a provider outage leaves every
 * instance ready).
 */
class ReadinessTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> get(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String status(JsonNode health, String check) {
        for (JsonNode c : health.get("checks")) {
            if (c.get("name").asText().equals(check)) {
                return c.get("status").asText();
            }
        }
        return "absent";
    }

    /** The routes a gateway with one sambanova provider runs: every route but the demo provider's. */
    static final List<String> RUNNING_ROUTES = List.of("admin-provider-selection", "admin-providers", "caller",
            "chat-enrich-session", "chat-http", "chat-record", "chat-router", "chat-stream-sse", "fallback-switch",
            "models-list", "openai-http", "openai-model", "openai-models", "provider-fallback", "provider-sambanova",
            "session-create", "session-delete", "session-get", "session-list", "usage-report", "web-asset",
            "web-assets", "web-page");

    /** The checks of a health answer, each as its JSON, in name order. */
    static List<String> checks(JsonNode health) {
        List<String> out = new ArrayList<>();
        health.get("checks").forEach(c -> out.add(c.toString()));
        out.sort(Comparator.comparing(c -> GatewayClient.json(c).get("name").asText()));
        return out;
    }

    /**
     * The demo provider's route starts only when a demo provider is configured; without one it serves nothing and is
     * no part of readiness (ops probe: Camel's route and consumer checks listed it UP, "externally managed"). Every
     * route that runs is still there, and with a demo provider its route is too.
     */
    @Test
    void readinessListsTheRoutesThatRunAndNotTheDemoRouteWithoutADemoProvider() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.start()) {
            RunningGateway g = RunningGateway.sambanovaAt(upstream, Map.of());
            try {
                HttpResponse<String> ready = get(g.managementUrl() + "/observe/health/ready");

                assertThat(ready.statusCode()).isEqualTo(200);
                JsonNode health = GatewayClient.json(ready.body());
                assertThat(health.get("status").asText()).isEqualTo("UP");
                List<String> expected = new ArrayList<>();
                expected.add("{\"name\":\"accepting-requests\",\"status\":\"UP\"}");
                RUNNING_ROUTES.forEach(r -> expected.add("{\"name\":\"consumer:" + r + "\",\"status\":\"UP\"}"));
                expected.add("{\"name\":\"database\",\"status\":\"UP\"}");
                RUNNING_ROUTES.forEach(r -> expected.add("{\"name\":\"route:" + r + "\",\"status\":\"UP\"}"));
                assertThat(checks(health)).containsExactlyElementsOf(expected);
                assertThat(health.fieldNames()).toIterable().containsExactly("status", "checks");
            } finally {
                g.close();
            }
        }
        RunningGateway demo = RunningGateway.start(Map.of("llm.provider", "demo"));
        try {
            JsonNode health = GatewayClient.json(get(demo.managementUrl() + "/observe/health/ready").body());
            assertThat(status(health, "route:demo-upstream")).isEqualTo("UP");
            assertThat(status(health, "consumer:demo-upstream")).isEqualTo("UP");
            assertThat(status(health, "route:provider-demo")).isEqualTo("UP");
        } finally {
            demo.close();
        }
    }

    @Test
    void readyWhileItCanServeAndNotReadyButLiveWhileItDrains() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.start()) {
            RunningGateway g = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "3"));
            String management = g.managementUrl();
            try {
                HttpResponse<String> ready = get(management + "/observe/health/ready");
                assertThat(ready.statusCode()).isEqualTo(200);
                JsonNode checks = GatewayClient.json(get(management + "/observe/health").body());
                assertThat(status(checks, "database")).isEqualTo("UP");
                assertThat(status(checks, "accepting-requests")).isEqualTo("UP");
                assertThat(checks.toString()).doesNotContain("provider:");

                // a stream in flight keeps the instance draining for the grace period once it is told to stop
                upstream.enqueue(Script.sse(Chunks.delta("Still talking")).stall());
                GatewayClient client = new GatewayClient(g);
                String token = Jwt.token("readiness-user");
                HttpResponse<InputStream> stream = client.openChat(client.createSession(token), token, "hi");
                assertThat(stream.statusCode()).isEqualTo(200);
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(g::close);

                long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                HttpResponse<String> draining = get(management + "/observe/health/ready");
                while (draining.statusCode() != 503 && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
                    draining = get(management + "/observe/health/ready");
                }
                assertThat(draining.statusCode()).as(draining.body()).isEqualTo(503);
                assertThat(status(GatewayClient.json(draining.body()), "accepting-requests")).isEqualTo("DOWN");
                assertThat(get(management + "/observe/health/live").statusCode()).isEqualTo(200);
                stream.body().close();
                stopping.get();
            } finally {
                g.close();
            }
        }
    }
}
