package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * OpenAI calls are admitted and released like session messages (here: one concurrent stream per user), and counted
 * in the same metrics.
 */
@Timeout(60)
class OpenAiLimitsAndMetricsTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String HI = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-concurrent-streams", "1"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
        token = Jwt.token("openai-limits-" + System.nanoTime());
    }

    HttpResponse<String> post(String body) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", body);
    }

    @Test
    void aSecondStreamOfTheSameUserIsRefusedUntilTheFirstEnds() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("First")).stall());
        HttpRequest first = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(HI)).build();
        HttpResponse<InputStream> live = HttpClient.newHttpClient().send(first,
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = live.body()) {
            OpenAiShapesTest.readUntil(in, "\"First\"");

            HttpResponse<String> second = post(HI);

            assertThat(second.statusCode()).isEqualTo(429);
            assertThat(second.body()).isEqualTo("{\"error\":{\"message\":\"More than 1 answers streaming at once\","
                    + "\"type\":\"rate_limit_error\",\"param\":null,\"code\":\"concurrent_streams_exceeded\"}}");
            assertThat(second.headers().allValues("Retry-After")).containsExactly("1");
        }
        // the caller left: the upstream is cancelled and the slot freed
        assertThat(upstream.awaitDisconnect(WAIT)).isTrue();
        upstream.enqueue(OpenAiShapesTest.helloAnswer());
        assertThat(postUntilAdmitted(HI).statusCode()).isEqualTo(200);
    }

    @Test
    void aCallThatFailedFreesItsSlotAtOnce() {
        upstream.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\"}}"));
        upstream.enqueue(OpenAiShapesTest.helloAnswer());

        assertThat(post(HI).statusCode()).isEqualTo(503);
        assertThat(post(HI).statusCode()).as("no slot left behind by the failure").isEqualTo(200);
    }

    @Test
    void aCompletedCallFreesItsSlotBeforeTheCallerSeesTheEnd() {
        upstream.enqueue(OpenAiShapesTest.helloAnswer()).enqueue(OpenAiShapesTest.helloAnswer());

        assertThat(post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").statusCode()).isEqualTo(200);
        assertThat(post(HI).statusCode()).isEqualTo(200);
    }

    @Test
    void answersAreCountedInTheSameMetricsAsSessionMessages() {
        PrometheusText before = PrometheusText.scrape(gateway);
        double requests = value(before, "llm_requests_total", Map.of("provider", "sambanova", "status", "success"));
        double prompt = value(before, "llm_tokens_used_total", Map.of("provider", "sambanova", "type", "prompt"));
        double completion = value(before, "llm_tokens_used_total",
                Map.of("provider", "sambanova", "type", "completion"));
        upstream.enqueue(OpenAiShapesTest.helloAnswer());

        assertThat(post(HI).statusCode()).isEqualTo(200);

        PrometheusText after = PrometheusText.await(gateway, m -> value(m, "llm_tokens_used_total",
                Map.of("provider", "sambanova", "type", "completion")) >= completion + 3);
        assertThat(value(after, "llm_requests_total", Map.of("provider", "sambanova", "status", "success")))
                .isEqualTo(requests + 1);
        assertThat(value(after, "llm_tokens_used_total", Map.of("provider", "sambanova", "type", "prompt")))
                .isEqualTo(prompt + 12);
        assertThat(value(after, "llm_tokens_used_total", Map.of("provider", "sambanova", "type", "completion")))
                .isEqualTo(completion + 3);
    }

    static double value(PrometheusText m, String name, Map<String, String> labels) {
        Double v = m.value(name, labels);
        return v == null ? 0 : v;
    }

    /** The freed slot is released just after the cancelled answer is recorded: retry a refusal until then. */
    HttpResponse<String> postUntilAdmitted(String body) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            HttpResponse<String> r = post(body);
            if (r.statusCode() != 429 || System.nanoTime() > deadline) {
                return r;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }
}
