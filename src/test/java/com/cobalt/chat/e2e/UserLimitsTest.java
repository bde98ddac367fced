package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.HeldUpstream;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The per-user limits (CHAT_RATE_LIMIT_PER_MINUTE, CHAT_DAILY_MESSAGE_QUOTA, CHAT_MAX_CONCURRENT_STREAMS) on each
 * database the gateway supports: exact counts at each boundary, exact counts under parallel bursts, Retry-After and
 * X-RateLimit-* values, and the quota surviving a restart. A refused message is never stored and never reaches a
 * provider.
 */
class UserLimitsTest {

    static final String SSE = Chunks.delta("Held ") + Chunks.delta("answer.") + Chunks.finish("stop") + Chunks.done();

    @TempDir
    Path tempDir;
    final List<AutoCloseable> resources = new ArrayList<>();

    static Stream<String> databases() {
        return Stream.of("h2", "postgres");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** Database settings for a fresh database of this kind; an H2 file, so a restart finds it again. */
    Map<String, String> database(String db) {
        Map<String, String> p = new LinkedHashMap<>();
        if (db.equals("postgres")) {
            Postgres.Schema schema = Postgres.newSchema("user_limits");
            resources.add(schema);
            p.put("chat.db.url", schema.url());
            p.put("chat.db.user", Postgres.USER);
            p.put("chat.db.password", "");
        } else {
            p.put("chat.db.url", "jdbc:h2:file:" + tempDir.resolve("chat-" + UUID.randomUUID()).toAbsolutePath());
        }
        return p;
    }

    RunningGateway start(Map<String, String> settings, Map<String, Object> beans) {
        RunningGateway gateway = RunningGateway.start(settings, beans);
        resources.add(gateway);
        return gateway;
    }

    static Map<String, String> with(Map<String, String> base, String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>(base);
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** A gateway on a fresh database of this kind whose provider is the held upstream, with this stream limit. */
    RunningGateway heldUpstreamGateway(String db, int upstreamPort, int maxConcurrentStreams) {
        return start(with(database(db), "llm.provider", "sambanova",
                "sambanova.api-base", "http://127.0.0.1:" + upstreamPort + "/v1",
                "sambanova.api-key", "sn-test-key-0001", "sambanova.model", "Meta-Llama-3.3-70B-Instruct",
                "chat.max-concurrent-streams", String.valueOf(maxConcurrentStreams)), Map.of());
    }

    static HttpResponse<String> send(GatewayClient client, String token, String session, String text) {
        return client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token, "application/json",
                "{\"content\":\"" + text + "\"}");
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    static void assertRateHeaders(HttpResponse<?> r, String limit, String remaining, String reset) {
        assertThat(List.of(header(r, "X-RateLimit-Limit"), header(r, "X-RateLimit-Remaining"),
                header(r, "X-RateLimit-Reset"))).containsExactly(limit, remaining, reset);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void theMinuteLimitAdmitsExactlyItsNumberAndTheHeadersCountDown(String db) {
        TestClock clock = new TestClock(Instant.parse("2026-11-26T12:00:00Z"));
        RunningGateway gateway = start(with(database(db), "llm.provider", "demo", "chat.rate-limit-per-minute", "3"),
                Map.of("clock", clock));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("minute-mia");
        String session = client.createSession(token);

        HttpResponse<String> first = send(client, token, session, "one");
        assertThat(first.statusCode()).isEqualTo(200);
        assertRateHeaders(first, "3", "2", "60");
        clock.advance(Duration.ofSeconds(10));
        HttpResponse<String> second = send(client, token, session, "two");
        assertThat(second.statusCode()).isEqualTo(200);
        assertRateHeaders(second, "3", "1", "50");
        clock.advance(Duration.ofSeconds(10));
        HttpResponse<String> third = send(client, token, session, "three");
        assertThat(third.statusCode()).isEqualTo(200);
        assertRateHeaders(third, "3", "0", "40");

        clock.advance(Duration.ofSeconds(5));
        HttpResponse<String> refused = send(client, token, session, "four");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.body()).isEqualTo(
                "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"More than 3 messages in a minute\"}}");
        assertThat(refused.headers().allValues("Retry-After")).containsExactly("35");
        assertRateHeaders(refused, "3", "0", "35");

        clock.advance(Duration.ofSeconds(35)); // the first message leaves the window
        HttpResponse<String> again = send(client, token, session, "four again");
        assertThat(again.statusCode()).isEqualTo(200);
        assertRateHeaders(again, "3", "0", "10");

        // one, two, three, four again - with their answers; the refused "four" is not stored
        assertThat(client.session(session, token).get("messages")).hasSize(8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void theDailyQuotaEndsAtMidnightUtcAndSurvivesARestart(String db) {
        TestClock clock = new TestClock(Instant.parse("2026-11-26T23:57:00Z"));
        Map<String, String> settings = with(database(db), "llm.provider", "demo", "chat.daily-message-quota", "2");
        RunningGateway before = start(settings, Map.of("clock", clock));
        GatewayClient client = new GatewayClient(before);
        String token = Jwt.token("quota-quinn");
        String session = client.createSession(token);
        assertThat(send(client, token, session, "one").statusCode()).isEqualTo(200);
        assertThat(send(client, token, session, "two").statusCode()).isEqualTo(200);
        before.close();

        RunningGateway after = start(settings, Map.of("clock", clock));
        GatewayClient restarted = new GatewayClient(after);
        clock.advance(Duration.ofSeconds(30)); // 23:57:30
        HttpResponse<String> early = send(restarted, token, session, "three");
        assertThat(early.statusCode()).isEqualTo(429);
        assertThat(early.headers().allValues("Retry-After")).containsExactly("150");
        // past a minute, OpenAI's SDKs are told not to sleep on it by themselves: they waited until midnight
        assertThat(early.headers().allValues("x-should-retry")).containsExactly("false");
        // and the rate headers do not offer the minute's spare room when nothing can be sent today
        assertRateHeaders(early, "100000", "0", "150"); // the tests lift the minute limit

        clock.advance(Duration.ofSeconds(110)); // 23:59:20
        HttpResponse<String> refused = send(restarted, token, session, "three");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.body()).isEqualTo("{\"error\":{\"code\":\"daily_quota_exceeded\","
                + "\"message\":\"The daily quota of 2 messages is used up\"}}");
        assertThat(refused.headers().allValues("Retry-After")).containsExactly("40");
        assertThat(refused.headers().firstValue("x-should-retry")).isEmpty();

        clock.advance(Duration.ofSeconds(40)); // a new UTC day
        assertThat(send(restarted, token, session, "tomorrow").statusCode()).isEqualTo(200);
        assertThat(restarted.session(session, token).get("messages")).hasSize(6);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void theMessageThatUsesUpTheDailyQuotaSaysNothingIsLeftUntilMidnight(String db) {
        TestClock clock = new TestClock(Instant.parse("2026-11-26T23:57:00Z"));
        RunningGateway gateway = start(with(database(db), "llm.provider", "demo", "chat.daily-message-quota", "2"),
                Map.of("clock", clock));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("last-of-the-day-lou");
        String session = client.createSession(token);

        HttpResponse<String> first = send(client, token, session, "one");
        assertThat(first.statusCode()).isEqualTo(200);
        assertRateHeaders(first, "100000", "99999", "60"); // the tests lift the minute limit

        clock.advance(Duration.ofSeconds(20)); // 23:57:20
        HttpResponse<String> last = send(client, token, session, "two");
        assertThat(last.statusCode()).isEqualTo(200);
        // this one counted, the quota is used up: not the minute's spare room, but nothing until midnight UTC
        assertRateHeaders(last, "100000", "0", "160");

        HttpResponse<String> refused = send(client, token, session, "three");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertRateHeaders(refused, "100000", "0", "160");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void fiftyParallelMessagesAgainstALimitOfTenAcceptExactlyTen(String db) throws Exception {
        RunningGateway gateway = start(with(database(db), "llm.provider", "demo", "chat.rate-limit-per-minute", "10"),
                Map.of());
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("bursty-bo");
        String session = client.createSession(token);

        List<HttpResponse<String>> answers = burst(50, i -> send(client, token, session, "burst " + i));

        assertThat(answers.stream().filter(r -> r.statusCode() == 200)).hasSize(10);
        assertThat(answers.stream().filter(r -> r.statusCode() == 429)
                .filter(r -> r.body().contains("\"rate_limit_exceeded\""))).hasSize(40);
        assertThat(client.session(session, token).get("messages")).hasSize(20);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void thirtyParallelMessagesAgainstAQuotaOfSevenAcceptExactlySeven(String db) throws Exception {
        RunningGateway gateway = start(with(database(db), "llm.provider", "demo", "chat.daily-message-quota", "7"),
                Map.of());
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("quota-burst-kim");
        String session = client.createSession(token);

        List<HttpResponse<String>> answers = burst(30, i -> send(client, token, session, "burst " + i));

        assertThat(answers.stream().filter(r -> r.statusCode() == 200)).hasSize(7);
        assertThat(answers.stream().filter(r -> r.statusCode() == 429)
                .filter(r -> r.body().contains("\"daily_quota_exceeded\""))).hasSize(23);
        assertThat(client.session(session, token).get("messages")).hasSize(14);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void concurrentStreamsAreLimitedPerUserAndASlotIsFreeAsSoonAsAnAnswerEnds(String db) throws Exception {
        int upstreamPort = freePort();
        try (HeldUpstream upstream = HeldUpstream.start(upstreamPort)) {
            GatewayClient client = new GatewayClient(heldUpstreamGateway(db, upstreamPort, 2));
            String token = Jwt.token("streamer-sam");
            String session = client.createSession(token);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                CompletableFuture<GatewayClient.Answer> a = CompletableFuture.supplyAsync(
                        () -> client.chat(session, token, "first"), pool);
                CompletableFuture<GatewayClient.Answer> b = CompletableFuture.supplyAsync(
                        () -> client.chat(session, token, "second"), pool);
                upstream.awaitRequests(2, Duration.ofSeconds(10));

                HttpResponse<String> third = send(client, token, session, "third");
                assertThat(third.statusCode()).isEqualTo(429);
                assertThat(third.body()).isEqualTo("{\"error\":{\"code\":\"concurrent_streams_exceeded\","
                        + "\"message\":\"More than 2 answers streaming at once\"}}");
                assertThat(third.headers().allValues("Retry-After")).containsExactly("1");
                assertThat(upstream.requestCount()).isEqualTo(2);

                upstream.respond(0, 200, "text/event-stream", SSE);
                upstream.respond(1, 200, "text/event-stream", SSE);
                assertThat(a.get().status()).isEqualTo(200);
                assertThat(b.get().text()).isEqualTo("Held answer.");

                // both answers have ended, so both slots are free for the very next messages
                upstream.respond(2, 200, "text/event-stream", SSE);
                upstream.respond(3, 200, "text/event-stream", SSE);
                assertThat(client.chat(session, token, "fourth").text()).isEqualTo("Held answer.");
                assertThat(client.chat(session, token, "fifth").text()).isEqualTo("Held answer.");
                assertThat(upstream.requestCount()).isEqualTo(4);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * /v1 frees its slot with the usage's write (on PostgreSQL in the same statement, fix 41): a request right after
     * an answer ended is admitted, streamed or whole, while a request beside an open one is refused.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aV1RequestsSlotIsFreeAsSoonAsItsAnswerEnds(String db) throws Exception {
        int upstreamPort = freePort();
        try (HeldUpstream upstream = HeldUpstream.start(upstreamPort)) {
            GatewayClient client = new GatewayClient(heldUpstreamGateway(db, upstreamPort, 1));
            String token = Jwt.token("one-stream-otto");
            ExecutorService pool = Executors.newFixedThreadPool(1);
            try {
                CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(
                        () -> completion(client, token, true), pool);
                upstream.awaitRequests(1, Duration.ofSeconds(10));

                HttpResponse<String> beside = completion(client, token, true);
                assertThat(beside.statusCode()).isEqualTo(429);
                assertThat(GatewayClient.json(beside.body()).at("/error/code").asText())
                        .isEqualTo("concurrent_streams_exceeded");

                upstream.respond(0, 200, "text/event-stream", SSE);
                assertThat(first.get().statusCode()).isEqualTo(200);
                assertThat(first.get().body()).endsWith("data: [DONE]\n\n");
                upstream.respond(1, 200, "text/event-stream", SSE);
                upstream.respond(2, 200, "text/event-stream", SSE);
                HttpResponse<String> streamed = completion(client, token, true);
                assertThat(streamed.statusCode()).isEqualTo(200);
                HttpResponse<String> whole = completion(client, token, false);
                assertThat(whole.statusCode()).isEqualTo(200);
                assertThat(GatewayClient.json(whole.body()).at("/choices/0/message/content").asText())
                        .isEqualTo("Held answer.");
                assertThat(upstream.requestCount()).isEqualTo(3);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static HttpResponse<String> completion(GatewayClient client, String token, boolean stream) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", "{\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void twentyParallelStreamsAgainstALimitOfFourOpenExactlyFour(String db) throws Exception {
        int upstreamPort = freePort();
        try (HeldUpstream upstream = HeldUpstream.start(upstreamPort)) {
            GatewayClient client = new GatewayClient(heldUpstreamGateway(db, upstreamPort, 4));
            String token = Jwt.token("parallel-pat");
            String session = client.createSession(token);
            // the four admitted streams are held upstream until every refusal is in
            CountDownLatch refusalsIn = new CountDownLatch(16);
            CompletableFuture<List<HttpResponse<String>>> burst = CompletableFuture.supplyAsync(() -> {
                try {
                    return burst(20, i -> {
                        HttpResponse<String> r = send(client, token, session, "parallel " + i);
                        if (r.statusCode() == 429) {
                            refusalsIn.countDown();
                        }
                        return r;
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(refusalsIn.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            upstream.awaitRequests(4, Duration.ofSeconds(10));
            for (int i = 0; i < 4; i++) {
                upstream.respond(i, 200, "text/event-stream", SSE);
            }
            List<HttpResponse<String>> answers = burst.get();

            assertThat(answers.stream().filter(r -> r.statusCode() == 200)).hasSize(4);
            assertThat(answers.stream().filter(r -> r.statusCode() == 429)
                    .filter(r -> r.body().contains("\"concurrent_streams_exceeded\""))).hasSize(16);
            assertThat(upstream.requestCount()).isEqualTo(4);
        }
    }

    @FunctionalInterface
    interface Call {
        HttpResponse<String> run(int i) throws Exception;
    }

    /** Fires n calls at once (released together by a latch) and returns their responses. */
    static List<HttpResponse<String>> burst(int n, Call call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                        return call.run(index);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            go.countDown();
            List<HttpResponse<String>> responses = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> f : futures) {
                responses.add(f.get());
            }
            return responses;
        } finally {
            pool.shutdownNow();
        }
    }

    static int freePort() throws Exception {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
