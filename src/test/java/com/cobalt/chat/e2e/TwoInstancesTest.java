package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.HeldUpstream;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two gateway instances on one PostgreSQL, as behind a load balancer: the per-user limits hold exactly for both
 * together, a session made on one is the same session on the other, and a stream on one instance carries on while
 * the other stops.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoInstancesTest {

    static final String SSE = Chunks.delta("Shared ") + Chunks.delta("answer.") + Chunks.finish("stop") + Chunks.done();

    final TestClock clock = new TestClock(Instant.parse("2026-11-26T08:00:00Z"));
    Postgres.Schema schema;
    HeldUpstream upstream;
    int upstreamPort;
    Map<String, String> settings;
    RunningGateway a;
    RunningGateway b;
    GatewayClient toA;
    GatewayClient toB;

    @BeforeAll
    void start() throws Exception {
        if (!Postgres.available()) {
            return; // each test reports itself skipped
        }
        schema = Postgres.newSchema("two_instances");
        upstreamPort = UserLimitsTest.freePort();
        settings = Map.ofEntries(Map.entry("chat.db.url", schema.url()), Map.entry("chat.db.user", Postgres.USER),
                Map.entry("chat.db.password", ""), Map.entry("llm.provider", "sambanova"),
                Map.entry("sambanova.api-base", "http://127.0.0.1:" + upstreamPort + "/v1"),
                Map.entry("sambanova.api-key", "sn-test-key-0001"),
                Map.entry("sambanova.model", "Meta-Llama-3.3-70B-Instruct"),
                Map.entry("chat.rate-limit-per-minute", "10"), Map.entry("chat.daily-message-quota", "25"),
                Map.entry("chat.max-concurrent-streams", "12"), Map.entry("chat.max-sessions-per-user", "6"),
                // the tests move the clock by minutes while streams are open
                Map.entry("chat.stream-lease-seconds", "3600"));
        a = RunningGateway.start(settings, Map.of("clock", clock));
        b = RunningGateway.start(settings, Map.of("clock", clock));
        toA = new GatewayClient(a);
        toB = new GatewayClient(b);
    }

    @AfterAll
    void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (schema != null) {
            schema.close();
        }
    }

    @BeforeEach
    void freshUpstream() {
        Postgres.assumeAvailable();
        upstream = HeldUpstream.start(upstreamPort);
    }

    @AfterEach
    void closeUpstream() {
        if (upstream != null) {
            upstream.close();
        }
    }

    /** Answers the first sixty upstream requests of the test, the held ones at once and the rest on arrival. */
    void answerEverything() {
        for (int i = 0; i < 60; i++) {
            upstream.respond(i, 200, "text/event-stream", SSE);
        }
    }

    HttpResponse<String> send(GatewayClient client, String token, String session, String text) {
        return UserLimitsTest.send(client, token, session, text);
    }

    @Test
    void theLimitsHoldExactlyForBothInstancesTogether() throws Exception {
        answerEverything();
        String token = Jwt.token("two-door-tara");
        String session = toA.createSession(token);

        // alternating, one at a time: the tenth is the last accepted, on either instance
        for (int i = 0; i < 10; i++) {
            GatewayClient via = i % 2 == 0 ? toA : toB;
            assertThat(send(via, token, session, "step " + i).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> eleventh = send(toB, token, session, "step 10");
        assertThat(eleventh.statusCode()).isEqualTo(429);
        assertThat(eleventh.body()).contains("\"code\":\"rate_limit_exceeded\"");
        assertThat(send(toA, token, session, "step 11").statusCode()).isEqualTo(429);

        // a new minute, then forty at once split over both instances: exactly ten accepted
        clock.advance(Duration.ofSeconds(61));
        List<HttpResponse<String>> burst = UserLimitsTest.burst(40,
                i -> send(i % 2 == 0 ? toA : toB, token, session, "burst " + i));
        assertThat(burst.stream().filter(r -> r.statusCode() == 200)).hasSize(10);
        assertThat(burst.stream().filter(r -> r.body().contains("\"rate_limit_exceeded\""))).hasSize(30);

        // the daily quota of 25: twenty used, so five more today, however they are spread
        clock.advance(Duration.ofSeconds(61));
        List<HttpResponse<String>> last = UserLimitsTest.burst(40,
                i -> send(i % 2 == 0 ? toA : toB, token, session, "last " + i));
        assertThat(last.stream().filter(r -> r.statusCode() == 200)).hasSize(5);
        assertThat(last.stream().filter(r -> r.body().contains("\"daily_quota_exceeded\""))).hasSize(35);

        assertThat(toB.session(session, token).get("messages")).hasSize(50);
    }

    @Test
    void concurrentStreamsAreCountedAcrossInstances() throws Exception {
        String token = Jwt.token("many-streams-mo");
        String session = toB.createSession(token);
        // twelve open streams: ten in one minute, two more in the next (the minute limit is ten)
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<CompletableFuture<GatewayClient.Answer>> open = new java.util.ArrayList<>();
            for (int i = 0; i < 12; i++) {
                if (i == 10) {
                    upstream.awaitRequests(10, Duration.ofSeconds(10));
                    clock.advance(Duration.ofSeconds(61));
                }
                GatewayClient via = i % 2 == 0 ? toA : toB;
                open.add(CompletableFuture.supplyAsync(() -> via.chat(session, token, "open"), pool));
            }
            upstream.awaitRequests(12, Duration.ofSeconds(10));

            HttpResponse<String> fourth = send(toB, token, session, "four");
            assertThat(fourth.statusCode()).isEqualTo(429);
            assertThat(fourth.body()).isEqualTo("{\"error\":{\"code\":\"concurrent_streams_exceeded\","
                    + "\"message\":\"More than 12 answers streaming at once\"}}");

            answerEverything();
            for (CompletableFuture<GatewayClient.Answer> answer : open) {
                assertThat(answer.get().text()).isEqualTo("Shared answer.");
            }
            assertThat(toA.chat(session, token, "four again").text()).isEqualTo("Shared answer.");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * CHAT_MAX_SESSIONS_PER_USER is a cap, not a target: creations sent at once through both instances never leave the
     * user with more sessions than it (a count and an insert that ran side by side each saw room for one more).
     */
    @Test
    void theSessionCapHoldsExactlyForCreationsAtOnceOnBothInstances() throws Exception {
        String token = Jwt.token("hoarding-hal");
        List<HttpResponse<String>> burst = UserLimitsTest.burst(40, i -> (i % 2 == 0 ? toA : toB).send("POST",
                "/api/v1/chat/sessions", token, "application/json", "{\"title\":\"Hoard " + i + "\"}"));

        assertThat(burst.stream().filter(r -> r.statusCode() == 201)).hasSize(6);
        assertThat(burst.stream().filter(r -> r.statusCode() == 409).map(HttpResponse::body)).hasSize(34)
                .allMatch(body -> body.equals("{\"error\":{\"code\":\"too_many_sessions\",\"message\":\"You have 6"
                        + " sessions, the most one user may keep; delete one to create another\"}}"));
        assertThat(toB.get("/api/v1/chat/sessions", token).body()).contains("\"next_cursor\":null");
        assertThat(GatewayClient.json(toA.get("/api/v1/chat/sessions", token).body()).get("sessions")).hasSize(6);
    }

    @Test
    void aSessionMadeOnOneInstanceIsTheSameOnTheOther() {
        answerEverything();
        String token = Jwt.token("roaming-rae");
        String session = toA.createSession(token, "{\"title\":\"Roaming\"}");

        assertThat(toB.chat(session, token, "hello from b").text()).isEqualTo("Shared answer.");
        JsonNode onA = toA.session(session, token);
        assertThat(onA.get("title").asText()).isEqualTo("Roaming");
        assertThat(onA.get("messages").findValuesAsText("content")).containsExactly("hello from b", "Shared answer.");
        assertThat(toB.get("/api/v1/chat/sessions/" + session, Jwt.token("someone-else")).statusCode()).isEqualTo(404);
    }

    /**
     * Each instance keeps a copy of the sessions' recent history: a session continued on the other instance and back
     * sends the provider every earlier message, the other instance's included (the copy is a version behind).
     */
    @Test
    void aSessionContinuedOnTheOtherInstanceAndBackSendsItsWholeHistory() throws Exception {
        answerEverything();
        String token = Jwt.token("roaming-ravi");
        String session = toA.createSession(token, "{\"title\":\"Roaming\"}");
        Map<String, Double> aBefore = historyReads(a);
        Map<String, Double> bBefore = historyReads(b);

        assertThat(toA.chat(session, token, "one on a").text()).isEqualTo("Shared answer.");
        assertThat(toB.chat(session, token, "two on b").text()).isEqualTo("Shared answer.");
        assertThat(toA.chat(session, token, "three on a").text()).isEqualTo("Shared answer.");
        assertThat(toA.chat(session, token, "four on a").text()).isEqualTo("Shared answer.");

        upstream.awaitRequests(4, Duration.ofSeconds(10));
        List<String> third = new ArrayList<>();
        GatewayClient.json(upstream.body(2)).get("messages").forEach(m -> third.add(m.get("content").asText()));
        assertThat(third).containsExactly("one on a", "Shared answer.", "two on b", "Shared answer.", "three on a");
        List<String> fourth = new ArrayList<>();
        GatewayClient.json(upstream.body(3)).get("messages").forEach(m -> fourth.add(m.get("content").asText()));
        assertThat(fourth).containsExactly("one on a", "Shared answer.", "two on b", "Shared answer.", "three on a",
                "Shared answer.", "four on a");
        // a's chat after its own used its copy; a's first chat, b's, and a's first after b's read the database
        Map<String, Double> aAfter = historyReads(a);
        Map<String, Double> bAfter = historyReads(b);
        assertThat(aAfter.get("copy") - aBefore.get("copy")).isEqualTo(1.0);
        assertThat(aAfter.get("database") - aBefore.get("database")).isEqualTo(2.0);
        assertThat(bAfter.get("copy") - bBefore.get("copy")).isEqualTo(0.0);
        assertThat(bAfter.get("database") - bBefore.get("database")).isEqualTo(1.0);
    }

    private static Map<String, Double> historyReads(RunningGateway gateway) throws Exception {
        PrometheusText m = PrometheusText.scrape(gateway);
        return Map.of("copy", m.value("chat_history_reads_total", Map.of("source", "copy")),
                "database", m.value("chat_history_reads_total", Map.of("source", "database")));
    }

    @Test
    void aStreamOnOneInstanceCompletesWhileAnotherInstanceStops() throws Exception {
        RunningGateway leaving = RunningGateway.start(settings, Map.of("clock", clock));
        GatewayClient toLeaving = new GatewayClient(leaving);
        String token = Jwt.token("steady-stu");
        String session = toLeaving.createSession(token);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            CompletableFuture<GatewayClient.Answer> onA = CompletableFuture.supplyAsync(
                    () -> toA.chat(session, token, "keep going"), pool);
            upstream.awaitRequests(1, Duration.ofSeconds(10));
            leaving.close();

            answerEverything();
            GatewayClient.Answer answer = onA.get();
            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.text()).isEqualTo("Shared answer.");
            assertThat(answer.body()).endsWith("data: [DONE]\n\n");
            assertThat(toB.session(session, token).get("messages").findValuesAsText("status"))
                    .containsExactly("complete", "complete");
        } finally {
            pool.shutdownNow();
        }
    }
}
