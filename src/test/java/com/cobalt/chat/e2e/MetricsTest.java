package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

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
 * The operations endpoints on the management port: Prometheus metrics after scripted traffic (two answers, one
 * primary failure answered by the fallback, one 400 rejection), and health.
 */
class MetricsTest {

    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;
    static GatewayClient client;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(primary, Map.of(
                "llm.fallback-provider", "azure",
                "azure.ai.endpoint", fallback.baseUrl(),
                "azure.ai.api-key", "az-test-key-0002",
                "azure.ai.deployment", "gpt-4o-mini"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        primary.close();
        fallback.close();
    }

    @Test
    void requestsFallbacksAndLatenciesAreCountedPerProviderWithoutUserOrSessionLabels() throws Exception {
        String alice = "metrics-user-alice-7f3a";
        String bob = "metrics-user-bob-91c2";
        String aliceToken = Jwt.token(alice);
        String bobToken = Jwt.token(bob);
        String aliceSession = client.createSession(aliceToken);
        String bobSession = client.createSession(bobToken);

        // two answers from the primary
        primary.enqueue(Script.sse(Chunks.delta("One."), Chunks.finish("stop"), Chunks.usage(5, 1), Chunks.done()));
        primary.enqueue(Script.sse(Chunks.delta("Two."), Chunks.finish("stop"), Chunks.usage(7, 1), Chunks.done()));
        assertThat(client.chat(aliceSession, aliceToken, "first").text()).isEqualTo("One.");
        assertThat(client.chat(bobSession, bobToken, "second").text()).isEqualTo("Two.");

        // the primary fails before its stream, the fallback answers
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Three."), Chunks.finish("stop"),
                Chunks.usage(9, 1), Chunks.done()));
        GatewayClient.Answer fellBack = client.chat(aliceSession, aliceToken, "third");
        assertThat(fellBack.status()).isEqualTo(200);
        assertThat(fellBack.text()).isEqualTo("Three.");

        // the primary rejects the request
        primary.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
        GatewayClient.Answer rejected = client.chat(bobSession, bobToken, "fourth");
        assertThat(rejected.status()).isEqualTo(400);
        assertThat(GatewayClient.json(rejected.body()).at("/error/code").asText())
                .isEqualTo("provider_rejected_request");

        assertThat(primary.requestCount()).isEqualTo(4);
        assertThat(fallback.requestCount()).isEqualTo(1);

        // answers are counted once their stream ended, off the response path: wait for the last of them
        Map<String, Double> m = awaitMetrics(samples -> samples.getOrDefault(
                "llm_request_duration_seconds_count{provider=\"sambanova\",variant=\"none\"}", 0.0) >= 2
                && samples.getOrDefault("llm_request_duration_seconds_count{provider=\"azure\",variant=\"none\"}",
                0.0) >= 1
                && samples.getOrDefault("llm_requests_total{"
                + "provider=\"sambanova\",status=\"rejected\",variant=\"none\"}", 0.0) >= 1);

        // every meter exists from start, zero-valued: the counts that moved are the ones above zero
        Map<String, Double> requests = counted(withPrefix(m, "llm_requests_total{"));
        assertThat(requests).containsExactlyInAnyOrderEntriesOf(Map.of(
                "llm_requests_total{provider=\"sambanova\",status=\"success\",variant=\"none\"}", 2.0,
                "llm_requests_total{provider=\"sambanova\",status=\"error\",variant=\"none\"}", 1.0,
                "llm_requests_total{provider=\"sambanova\",status=\"rejected\",variant=\"none\"}", 1.0,
                "llm_requests_total{provider=\"azure\",status=\"success\",variant=\"none\"}", 1.0));
        assertThat(counted(withPrefix(m, "llm_fallback_triggered_total{"))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "llm_fallback_triggered_total{from=\"sambanova\",to=\"azure\"}", 1.0));
        // each session's first chat read its history from the database, its second from this instance's copy
        assertThat(withPrefix(m, "chat_history_reads_total{")).containsExactlyInAnyOrderEntriesOf(Map.of(
                "chat_history_reads_total{source=\"copy\"}", 2.0,
                "chat_history_reads_total{source=\"database\"}", 2.0));
        // the same figures on JMX
        var jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        var gatewayMBean = new javax.management.ObjectName("com.cobalt.chat:context="
                + javax.management.ObjectName.quote(gateway.camel().getManagementName()) + ",type=Gateway");
        assertThat(jmx.getAttribute(gatewayMBean, "Requests")).isEqualTo(5.0);
        assertThat(jmx.getAttribute(gatewayMBean, "FallbacksTriggered")).isEqualTo(1.0);
        assertThat(jmx.getAttribute(gatewayMBean, "ActiveStreams")).isEqualTo(0);
        assertThat(withPrefix(m, "llm_request_duration_seconds_count{")).containsExactlyInAnyOrderEntriesOf(Map.of(
                "llm_request_duration_seconds_count{provider=\"sambanova\",variant=\"none\"}", 2.0,
                "llm_request_duration_seconds_count{provider=\"azure\",variant=\"none\"}", 1.0));

        // the fixed latency buckets, cumulative, ending with +Inf = count
        String[] le = {"0.05", "0.1", "0.25", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0", "120.0", "+Inf"};
        for (String provider : new String[] {"sambanova", "azure"}) {
            List<String> buckets = new ArrayList<>();
            double previous = 0;
            for (String bound : le) {
                String key = "llm_request_duration_seconds_bucket{provider=\"" + provider + "\",variant=\"none\",le=\""
                        + bound + "\"}";
                assertThat(m).as("bucket line %s", key).containsKey(key);
                assertThat(m.get(key)).as(key).isGreaterThanOrEqualTo(previous);
                previous = m.get(key);
                buckets.add(key);
            }
            assertThat(withPrefix(m, "llm_request_duration_seconds_bucket{provider=\"" + provider + "\""))
                    .containsOnlyKeys(buckets);
            assertThat(previous).isEqualTo(provider.equals("sambanova") ? 2.0 : 1.0);
        }

        // Camel's route metrics: each chat counted once on the routes it entered (chat-http, the provider routes it
        // called), nowhere for the direct: routes inside it, and no context-wide series counting it again
        Map<String, Double> routeTotals = new LinkedHashMap<>();
        withPrefix(m, "camel_exchanges_total{").forEach((k, v) -> {
            assertThat(k).contains("eventType=\"route\"");
            routeTotals.put(k.replaceAll(".*routeId=\"([^\"]*)\".*", "$1"), v);
        });
        assertThat(routeTotals).containsEntry("chat-http", 4.0).containsEntry("session-create", 2.0)
                .containsEntry("provider-sambanova", 4.0).containsEntry("provider-azure", 1.0)
                .doesNotContainKeys("chat-router", "chat-enrich-session", "chat-stream-sse", "chat-record",
                        "provider-fallback", "");
        assertThat(withPrefix(m, "camel_route_policy_seconds_count{").keySet())
                .anySatisfy(k -> assertThat(k).contains("routeId=\"chat-http\""))
                .noneSatisfy(k -> assertThat(k).contains("routeId=\"chat-record\""));

        // nothing identifying a user or a conversation is ever a label value
        String text = scrape().body();
        for (String id : new String[] {alice, bob, aliceSession, bobSession}) {
            assertThat(text).as("metrics mention %s", id).doesNotContain(id);
        }
    }

    @Test
    void healthIsUp() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl() + "/observe/health"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(GatewayClient.json(r.body()).get("status").asText()).as(r.body()).isEqualTo("UP");
    }

    // ------------------------------------------------------------------------------- helpers

    static HttpResponse<String> scrape() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl()
                    + "/observe/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            return r;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Prometheus text format: {@code name{labels} value} per sample line; comments skipped. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String value = line.substring(space + 1);
            samples.put(line.substring(0, space), value.equals("+Inf") ? Double.POSITIVE_INFINITY
                    : Double.parseDouble(value));
        }
        return samples;
    }

    static Map<String, Double> withPrefix(Map<String, Double> samples, String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        samples.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** The samples that moved: every documented meter exists from start with the value 0. */
    static Map<String, Double> counted(Map<String, Double> samples) {
        Map<String, Double> out = new LinkedHashMap<>(samples);
        out.values().removeIf(v -> v == 0.0);
        return out;
    }

    static Map<String, Double> awaitMetrics(java.util.function.Predicate<Map<String, Double>> ready) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            String text = scrape().body();
            Map<String, Double> samples = parse(text);
            if (ready.test(samples)) {
                return samples;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("metrics not there within 5 s:\n" + text);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }
}
