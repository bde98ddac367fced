package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.stream.Stream;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.HeldUpstream;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The resilience features end to end: primary sambanova at the fake upstream P, fallback azure at the fake upstream
 * F, time from a {@link TestClock}. Before its first content a provider's every failure goes to the fallback (and
 * a client never gets a 200 for nothing); retries with backoff inside a budget; cooldowns on retry hints; a circuit
 * breaker per provider; the admin API; the runtime switch over JMX and the admin API.
 *
 * <p>Several gateways share F and the clock, one per group of settings: {@code main} (primary at P, 2 retries with
 * tiny delays, a 400 ms first token timeout), {@code spare} (primary on a closed port unless a test binds a
 * {@link HeldUpstream} there, 2 retries with measurable delays), {@code breaking} (primary at a {@link HeldUpstream}
 * per test, a sambanova breaker that opens after two failures, a 1 ms retry budget), {@code admin} (primary at P,
 * untouched by other tests, for exact counters). A {@link HeldUpstream} answers when the test says, so the state of
 * the gateway while a request is in flight is looked at without guessing how long anything takes.
 */
class ResilienceTest {

    static final String DEPLOYMENT = "gpt-4o-mini";
    static final String AZURE_KEY = "az-test-key-0002";
    static final String SSE = "text/event-stream; charset=utf-8";
    static final String PROMPT = "Hello?";
    static final String ADMIN_PATH = "/api/v1/admin/providers";
    static final String SELECTION_PATH = "/api/v1/admin/providers/selection";

    static final List<String> P_EVENTS = List.of(
            "data: {\"content\":\"Primary \",\"done\":false}",
            "data: {\"content\":\"answer.\",\"done\":false}",
            "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
            "data: [DONE]");
    static final List<String> F_EVENTS = List.of(
            "data: {\"content\":\"Fallback \",\"done\":false}",
            "data: {\"content\":\"answer.\",\"done\":false}",
            "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
            "data: [DONE]");
    static final String UNAVAILABLE = "{\"error\":{\"code\":\"provider_unavailable\","
            + "\"message\":\"No provider could answer; retry later\"}}";
    static final String RATE_LIMITED = "{\"error\":{\"code\":\"rate_limited\","
            + "\"message\":\"Every provider is rate limiting; retry later\"}}";
    static final String REJECTED = "{\"error\":{\"code\":\"provider_rejected_request\","
            + "\"message\":\"The provider rejected the request as invalid\"}}";

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Cooldowns and breaker waits from one test must not leak into the next: each test starts an hour later. */
    static final TestClock CLOCK = new TestClock();
    static FakeUpstream P;
    static FakeUpstream F;

    /** Ports nobody listens on unless a test binds a {@link HeldUpstream} there. */
    static int sparePort;
    static int breakerPort;

    static RunningGateway main;
    static RunningGateway spare;
    static RunningGateway breaking;
    static RunningGateway admin;

    @BeforeAll
    static void start() throws IOException {
        P = FakeUpstream.start();
        F = FakeUpstream.start();

        main = RunningGateway.sambanovaAt(P, with(azureFallback(), "llm.first-token-timeout-ms", "400",
                "llm.max-retries", "2", "llm.retry-base-delay-ms", "5", "llm.retry-max-delay-ms", "20"),
                Map.of("clock", CLOCK));

        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            sparePort = a.getLocalPort();
            breakerPort = b.getLocalPort();
        }
        // retry 1 waits 50..100 ms, retry 2 waits 100..200 ms: at least 150 ms in all
        spare = RunningGateway.sambanovaAt(P, with(azureFallback(),
                "sambanova.api-base", "http://127.0.0.1:" + sparePort + "/v1", "llm.max-retries", "2",
                "llm.retry-base-delay-ms", "100", "llm.retry-max-delay-ms", "200"), Map.of("clock", CLOCK));

        breaking = RunningGateway.sambanovaAt(P, with(azureFallback(),
                "sambanova.api-base", "http://127.0.0.1:" + breakerPort + "/v1",
                "llm.breaker.sambanova.minimum-number-of-calls", "2",
                "llm.breaker.sambanova.sliding-window-size", "2",
                "llm.breaker.sambanova.failure-rate-threshold", "50",
                "llm.breaker.sambanova.wait-in-open-ms", "60000",
                "llm.breaker.sambanova.permitted-calls-in-half-open-state", "1",
                // retries are on, but a 1 ms budget leaves no room for one
                "llm.max-retries", "2", "llm.retry-base-delay-ms", "5", "llm.retry-max-delay-ms", "20",
                "llm.retry-budget-ms", "1"), Map.of("clock", CLOCK));

        admin = RunningGateway.sambanovaAt(P, azureFallback(), Map.of("clock", CLOCK));
    }

    @AfterAll
    static void stop() {
        for (RunningGateway g : new RunningGateway[] {main, spare, breaking, admin}) {
            if (g != null) {
                g.close();
            }
        }
        if (P != null) {
            P.close();
        }
        if (F != null) {
            F.close();
        }
    }

    @BeforeEach
    void clean() {
        CLOCK.advance(Duration.ofHours(1));
        P.reset();
        F.reset();
    }

    static Map<String, String> azureFallback() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", F.baseUrl());
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("azure.ai.deployment", DEPLOYMENT);
        return p;
    }

    static Map<String, String> with(Map<String, String> base, String... keyValues) {
        Map<String, String> p = new LinkedHashMap<>(base);
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    // ================================================================================== failures before content

    @Nested
    class BeforeTheFirstContent {

        @Test
        void whenTheFallbackFailsToo_theClientGetsAJson503() {
            for (int i = 0; i < 3; i++) { // each gets one try and two retries
                P.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
                F.enqueue(Script.json(503, "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"busy\"}}"));
            }

            GatewayClient.Answer answer = chat(main);

            assertJson(answer, 503, UNAVAILABLE);
            assertThat(P.requestCount()).isEqualTo(3);
            assertThat(F.requestCount()).isEqualTo(3);
        }

        @Test
        void whenBothSend200StreamsWithoutContent_theClientGetsAJson503NeverA200() {
            P.enqueue(Script.sse("event: error_event\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n"));
            F.enqueue(Script.sse(Chunks.azurePromptFilter()));

            GatewayClient.Answer answer = chat(main);

            assertJson(answer, 503, UNAVAILABLE);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isEqualTo(1);
        }

        static Stream<Arguments> brokenBeforeTheFirstDelta() {
            return Stream.of(
                    Arguments.of("event: error_event first",
                            Script.sse("event: error_event\ndata: {\"error\":{\"message\":\"Model overloaded\","
                                    + "\"type\":\"server_error\"}}\n\n", Chunks.delta("never"), Chunks.done())),
                    Arguments.of("data: {\"error\":...} first",
                            Script.sse("data: {\"error\":{\"message\":\"Internal error\",\"type\":\"internal_error\","
                                    + "\"code\":500}}\n\n", Chunks.delta("never"), Chunks.done())),
                    Arguments.of("prompt filter chunk, then a clean end without content",
                            Script.sse(Chunks.azurePromptFilter())),
                    Arguments.of("a 200 stream that ends cleanly at once",
                            Script.sse()));
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("brokenBeforeTheFirstDelta")
        void aStreamThatFailsBeforeItsFirstDeltaIsAnsweredByTheFallback(String name, Script primaryScript) {
            P.enqueue(primaryScript);
            F.enqueue(fallbackAnswer());

            GatewayClient.Answer answer = chat(main);

            assertAnswer(answer, F_EVENTS);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isEqualTo(1);
            assertThat(F.takeRequest(Duration.ofSeconds(1)).path())
                    .isEqualTo("/openai/deployments/" + DEPLOYMENT + "/chat/completions");
        }

        @Test
        void aStallBeforeTheFirstTokenFallsBackAfterTheFirstTokenTimeout() {
            P.enqueue(Script.sse(Chunks.azurePromptFilter()).stall());
            F.enqueue(fallbackAnswer());
            String token = Jwt.token("stall-user");
            String session = client(main).createSession(token);

            long t0 = System.nanoTime();
            GatewayClient.Answer answer = client(main).chat(session, token, PROMPT);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            assertAnswer(answer, F_EVENTS);
            assertThat(tookMs).as("llm.first-token-timeout-ms=400, not the default 20 s").isBetween(400L, 3_000L);
            assertThat(P.awaitDisconnect(Duration.ofSeconds(2))).as("the primary's request was cancelled").isTrue();
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isEqualTo(1);
        }
    }

    // ================================================================================== cooldown

    @Nested
    class Cooldown {

        @Test
        void a429WithARetryHintSkipsThePrimaryUntilTheHintHasPassed() {
            Instant t0 = CLOCK.instant();
            P.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limit\"}}")
                    .header("retry-after-ms", "30000"));
            for (int i = 0; i < 4; i++) {
                F.enqueue(fallbackAnswer());
            }

            try (com.cobalt.chat.testing.LogCapture logs = com.cobalt.chat.testing.LogCapture.start()) {
                assertAnswer(chat(main), F_EVENTS);
                assertThat(logs.lines()).filteredOn(l -> l.message().startsWith("Provider sambanova: model"))
                        .extracting(com.cobalt.chat.testing.LogCapture.Line::message).containsExactly(
                                "Provider sambanova: model Meta-Llama-3.3-70B-Instruct cools down for 30 s (HTTP 429"
                                        + " with a retry hint); calls to it are skipped until then");
            }
            assertThat(P.requestCount()).isEqualTo(1);

            for (int i = 1; i <= 3; i++) {
                try (com.cobalt.chat.testing.LogCapture logs = com.cobalt.chat.testing.LogCapture.start()) {
                    assertAnswer(chat(main), F_EVENTS);
                    // the cooldown's start was logged once; a skipped chat adds no line (one WARN a chat, for as
                    // long as the provider's retry hint asked: up to LLM_MAX_COOLDOWN_SECONDS)
                    assertThat(logs.lines()).noneMatch(l -> l.level().equals("WARN") || l.level().equals("ERROR"));
                }
                assertThat(P.requestCount()).as("request %s during the cooldown", i).isEqualTo(1);
                assertThat(F.requestCount()).isEqualTo(1 + i);
            }

            JsonNode sambanova = provider(main, "sambanova");
            assertThat(sambanova.get("cooldown_until").asText()).isEqualTo(t0.plusSeconds(30).toString());
            assertThat(sambanova.get("last_error_class").asText()).isEqualTo("http_429");
            // the provider is down, the instance is not: it serves through the fallback and stays in the balancer
            assertThat(metric(main, "llm_provider_up{provider=\"sambanova\"}")).isEqualTo("0.0");
            assertThat(metric(main, "llm_provider_up{provider=\"azure\"}")).isEqualTo("1.0");
            assertInstanceReady(main);

            CLOCK.advance(Duration.ofSeconds(31));
            P.enqueue(primaryAnswer());

            assertAnswer(chat(main), P_EVENTS);
            assertThat(P.requestCount()).isEqualTo(2);
            assertThat(F.requestCount()).isEqualTo(4);
            assertThat(provider(main, "sambanova").get("cooldown_until").isNull()).isTrue();
            assertThat(metric(main, "llm_provider_up{provider=\"sambanova\"}")).isEqualTo("1.0");
        }

        /**
         * A hint can only arrive while a cooldown runs from requests that reached the provider before it began:
         * three chats in flight at once, answered 429 with hints of 10 s, then 60 s, then 5 s.
         */
        @Test
        void aLongerHintExtendsTheCooldownAndAShorterOneDoesNotShrinkIt() throws Exception {
            Instant t0 = CLOCK.instant();
            for (int i = 0; i < 3; i++) {
                F.enqueue(fallbackAnswer());
            }
            String token = Jwt.token("cooldown-user");
            List<String> sessions = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                sessions.add(client(spare).createSession(token));
            }

            ExecutorService pool = Executors.newFixedThreadPool(3);
            try (HeldUpstream held = HeldUpstream.start(sparePort)) {
                List<CompletableFuture<GatewayClient.Answer>> answers = new ArrayList<>();
                for (String s : sessions) {
                    answers.add(CompletableFuture.supplyAsync(() -> client(spare).chat(s, token, PROMPT), pool));
                }
                held.awaitRequests(3, Duration.ofSeconds(5));

                held.respond(0, 429, "application/json", RATE_LIMIT_BODY, "retry-after-ms", "10000");
                awaitCooldownUntil(spare, "sambanova", t0.plusSeconds(10).toString());
                held.respond(1, 429, "application/json", RATE_LIMIT_BODY, "retry-after-ms", "60000");
                awaitCooldownUntil(spare, "sambanova", t0.plusSeconds(60).toString());
                held.respond(2, 429, "application/json", RATE_LIMIT_BODY, "retry-after-ms", "5000");
                for (CompletableFuture<GatewayClient.Answer> a : answers) {
                    assertAnswer(a.get(10, TimeUnit.SECONDS), F_EVENTS);
                }
                assertThat(held.requestCount()).isEqualTo(3);
            } finally {
                pool.shutdownNow();
            }

            assertThat(F.requestCount()).isEqualTo(3);
            JsonNode sambanova = provider(spare, "sambanova");
            assertThat(sambanova.get("cooldown_until").asText())
                    .as("the 5 s hint came last but does not shorten the 60 s cooldown")
                    .isEqualTo(t0.plusSeconds(60).toString());
            assertThat(sambanova.get("last_error_class").asText()).isEqualTo("http_429");
        }

        static Stream<Arguments> hints() {
            return Stream.of(
                    Arguments.of("3000", "9", "3"),
                    Arguments.of("12000", "9", "9"));
        }

        @ParameterizedTest(name = "retry-after-ms {0} and Retry-After {1} -> Retry-After {2}")
        @MethodSource("hints")
        void whenEveryProviderIsRateLimitedTheClientGets429WithTheShortestHint(String primaryMs, String fallbackSeconds,
                                                                             String expected) {
            P.enqueue(rateLimited(primaryMs));
            F.enqueue(Script.json(429, "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions"
                    + " operation have exceeded the rate limit.\"}}").header("Retry-After", fallbackSeconds));
            String token = Jwt.token("limited-user");
            String session = client(main).createSession(token);

            HttpResponse<String> r = postMessage(main, session, token);

            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(r.headers().allValues("Retry-After")).containsExactly(expected);
            assertThat(r.body()).isEqualTo(RATE_LIMITED);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isEqualTo(1);

            // both now cool down: the next request is refused at once, with the time still left
            CLOCK.advance(Duration.ofSeconds(2));
            HttpResponse<String> again = postMessage(main, session, token);

            assertThat(again.statusCode()).isEqualTo(429);
            assertThat(again.headers().allValues("Retry-After"))
                    .containsExactly(String.valueOf(Long.parseLong(expected) - 2));
            assertThat(again.body()).isEqualTo(RATE_LIMITED);
            assertThat(P.requestCount()).as("no request while cooling down").isEqualTo(1);
            assertThat(F.requestCount()).as("no request while cooling down").isEqualTo(1);
        }
        /**
         * OpenAI's 429 carries no Retry-After, only when its request and token budgets fill up again (Go durations).
         * Before, such a 429 was "no hint": the client was told Retry-After: 1 and the next chat called both providers
         * again at once.
         */
        @Test
        void openAisRateLimitResetHeadersAreTheHintWhenThereIsNoRetryAfter() {
            Instant t0 = CLOCK.instant();
            P.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit reached for requests\","
                    + "\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}")
                    .header("x-ratelimit-remaining-requests", "0").header("x-ratelimit-reset-requests", "20s")
                    .header("x-ratelimit-remaining-tokens", "0").header("x-ratelimit-reset-tokens", "42.3s"));
            F.enqueue(Script.json(429, "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions"
                    + " operation have exceeded the rate limit.\"}}").header("x-ratelimit-reset-tokens", "6m0s"));
            String token = Jwt.token("limited-user");
            String session = client(main).createSession(token);

            HttpResponse<String> r = postMessage(main, session, token);

            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().allValues("Retry-After")).as("the later of 20 s and 42.3 s, rounded up")
                    .containsExactly("43");
            assertThat(r.body()).isEqualTo(RATE_LIMITED);
            assertThat(provider(main, "sambanova").get("cooldown_until").asText())
                    .isEqualTo(t0.plusSeconds(43).toString());
            assertThat(provider(main, "azure").get("cooldown_until").asText())
                    .as("six minutes cut to LLM_MAX_COOLDOWN_SECONDS").isEqualTo(t0.plusSeconds(300).toString());

            CLOCK.advance(Duration.ofSeconds(2));
            HttpResponse<String> again = postMessage(main, session, token);

            assertThat(again.statusCode()).isEqualTo(429);
            assertThat(again.headers().allValues("Retry-After")).containsExactly("41");
            assertThat(again.body()).isEqualTo(RATE_LIMITED);
            assertThat(P.requestCount()).as("no request while cooling down").isEqualTo(1);
            assertThat(F.requestCount()).as("no request while cooling down").isEqualTo(1);
        }
    }

    // ================================================================================== retries

    @Nested
    class Retries {

        @Test
        void fiveHundredsAreRetriedUntilThePrimaryAnswers() {
            P.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
            P.enqueue(Script.json(502, "{\"error\":{\"message\":\"bad gateway\",\"type\":\"server_error\"}}"));
            P.enqueue(primaryAnswer());
            F.enqueue(fallbackAnswer());

            assertAnswer(chat(main), P_EVENTS);
            assertThat(P.requestCount()).isEqualTo(3);
            assertThat(F.requestCount()).isZero();
        }

        @Test
        void a408IsRetried() {
            P.enqueue(Script.json(408, "{\"error\":{\"message\":\"timeout\",\"type\":\"timeout\"}}"));
            P.enqueue(primaryAnswer());

            assertAnswer(chat(main), P_EVENTS);
            assertThat(P.requestCount()).isEqualTo(2);
            assertThat(F.requestCount()).isZero();
        }

        @Test
        void whenEveryRetryFailsTheFallbackAnswers() {
            for (int i = 0; i < 3; i++) {
                P.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
            }
            P.enqueue(primaryAnswer()); // a fourth try would get an answer: there must not be one
            F.enqueue(fallbackAnswer());

            assertAnswer(chat(main), F_EVENTS);
            assertThat(P.requestCount()).as("one try and two retries").isEqualTo(3);
            assertThat(F.requestCount()).isEqualTo(1);
        }

        @Test
        void aBadRequestIsNotRetried() {
            P.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
            P.enqueue(primaryAnswer());
            F.enqueue(fallbackAnswer());

            assertJson(chat(main), 400, REJECTED);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isZero();
        }

        /**
         * An error body past LLM_ERROR_BODY_MAX_BYTES (64 KiB; servers that echo the request in a validation error)
         * keeps its status: it was a connect failure, retried and answered by the fallback (black-box probe).
         */
        @Test
        void aBadRequestWithABodyPastTheLimitIsStillNotRetried() {
            P.enqueue(Script.json(400, "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\","
                    + "\"input\":\"" + "z".repeat(70 * 1024) + "\"}}"));
            P.enqueue(primaryAnswer());
            F.enqueue(fallbackAnswer());

            assertJson(chat(main), 400, REJECTED);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isZero();
        }

        /** The primary answers with {@code primaryScript} once and would answer a retry: the fallback answers instead. */
        void answeredByTheFallbackWithoutARetry(Script primaryScript) {
            P.enqueue(primaryScript);
            P.enqueue(primaryAnswer());
            F.enqueue(fallbackAnswer());

            assertAnswer(chat(main), F_EVENTS);
            assertThat(P.requestCount()).isEqualTo(1);
            assertThat(F.requestCount()).isEqualTo(1);
        }

        @Test
        void aRetryHintWithABodyPastTheLimitIsNotRetried() {
            answeredByTheFallbackWithoutARetry(Script.status(429).header("Content-Type", "text/html")
                    .header("retry-after-ms", "2000").body("<html>" + "x".repeat(70 * 1024) + "</html>"));
        }

        /** A timeout is not retried, also when it is the error body that stalls; it was retried as a connect failure. */
        @Test
        void anErrorBodyThatStallsIsATimeoutNotRetried() {
            answeredByTheFallbackWithoutARetry(Script.status(500).header("Content-Type", "application/json")
                    .chunk("{\"error\":").stall());

            assertThat(provider(main, "sambanova").get("last_error_class").asText()).isEqualTo("timeout");
        }

        @ParameterizedTest(name = "HTTP {0} with a retry hint")
        @ValueSource(ints = {429, 503})
        void anAnswerWithARetryHintIsNotRetriedButGoesStraightToTheFallback(int status) {
            answeredByTheFallbackWithoutARetry(Script.json(status,
                    "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}").header("retry-after-ms", "2000"));
        }

        @Test
        void aRefusedConnectionIsRetriedWithBackoffBeforeTheFallback() {
            F.enqueue(fallbackAnswer());
            String token = Jwt.token("refused-user");
            String session = client(spare).createSession(token);
            JsonNode before = provider(spare, "sambanova");

            long t0 = System.nanoTime();
            GatewayClient.Answer answer = client(spare).chat(session, token, PROMPT);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            assertAnswer(answer, F_EVENTS);
            assertThat(tookMs).as("two pauses of at least 50 and 100 ms").isBetween(150L, 3_000L);
            assertThat(F.requestCount()).isEqualTo(1);
            // refused connections cannot be counted at the upstream; the gateway counts every try
            JsonNode after = provider(spare, "sambanova");
            assertThat(after.get("requests").asLong() - before.get("requests").asLong())
                    .as("one try and two retries").isEqualTo(3);
            assertThat(after.get("failures").asLong() - before.get("failures").asLong()).isEqualTo(3);
            assertThat(after.get("last_error_class").asText()).isEqualTo("connect");
            assertThat(after.get("last_error_at").asText()).isEqualTo(CLOCK.instant().toString());
        }

        @Test
        void aOneMillisecondBudgetMeansNoRetryAtAll() {
            resetBreaker(breaking, "sambanova");
            F.enqueue(fallbackAnswer());
            try (HeldUpstream held = HeldUpstream.start(breakerPort)) {
                held.respond(0, 500, "application/json", SERVER_ERROR_BODY);
                held.respond(1, 200, "text/event-stream", PRIMARY_SSE); // a retry would get an answer

                assertAnswer(chat(breaking), F_EVENTS);
                assertThat(held.requestCount()).isEqualTo(1);
            }
            assertThat(F.requestCount()).isEqualTo(1);
        }
    }

    // ================================================================================== circuit breaker

    @Nested
    class Breaker {

        HeldUpstream primary;

        @BeforeEach
        void closedBreaker() {
            resetBreaker(breaking, "sambanova");
            primary = HeldUpstream.start(breakerPort);
        }

        @AfterEach
        void closePrimary() {
            primary.close();
        }

        @Test
        void twoFailuresOpenItAndThenThePrimaryIsNotCalled() {
            primary.respond(0, 500, "application/json", SERVER_ERROR_BODY);
            primary.respond(1, 500, "application/json", SERVER_ERROR_BODY);
            primary.respond(2, 200, "text/event-stream", PRIMARY_SSE); // would answer if it were called
            for (int i = 0; i < 3; i++) {
                F.enqueue(fallbackAnswer());
            }

            assertAnswer(chat(breaking), F_EVENTS);
            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");
            try (com.cobalt.chat.testing.LogCapture logs = com.cobalt.chat.testing.LogCapture.start()) {
                assertAnswer(chat(breaking), F_EVENTS);
                assertThat(logs.lines()).filteredOn(l -> l.message().startsWith("Provider sambanova: breaker opened"))
                        .extracting(com.cobalt.chat.testing.LogCapture.Line::message).containsExactly(
                                "Provider sambanova: breaker opened (State transition from CLOSED to OPEN); calls to it"
                                        + " are skipped for 60000 ms");
            }
            assertThat(primary.requestCount()).isEqualTo(2);

            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("OPEN");
            assertThat(metric(breaking, "llm_provider_up{provider=\"sambanova\"}")).isEqualTo("0.0");
            assertThat(metric(breaking, "llm_provider_up{provider=\"azure\"}")).isEqualTo("1.0");
            assertInstanceReady(breaking);
            assertThat(metric(breaking, "llm_circuit_breaker_state{provider=\"sambanova\"}")).isEqualTo("1.0");
            assertThat(metric(breaking, "llm_circuit_breaker_state{provider=\"azure\"}")).isEqualTo("0.0");

            try (com.cobalt.chat.testing.LogCapture logs = com.cobalt.chat.testing.LogCapture.start()) {
                assertAnswer(chat(breaking), F_EVENTS);
                // the opening was logged once; a skipped chat adds no line (one WARN a chat, all through an outage)
                assertThat(logs.lines()).noneMatch(l -> l.level().equals("WARN") || l.level().equals("ERROR"));
            }
            assertThat(primary.requestCount()).as("no request to an open breaker's provider").isEqualTo(2);
            assertThat(F.requestCount()).isEqualTo(3);
        }

        /** Two failures of the primary, each answered by the fallback: the breaker (window 2, 50%) opens. */
        void openTheBreaker() {
            primary.respond(0, 500, "application/json", SERVER_ERROR_BODY);
            primary.respond(1, 500, "application/json", SERVER_ERROR_BODY);
            F.enqueue(fallbackAnswer());
            F.enqueue(fallbackAnswer());
            assertAnswer(chat(breaking), F_EVENTS);
            assertAnswer(chat(breaking), F_EVENTS);
            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("OPEN");
        }

        /**
         * With the primary's breaker open and the fallback failing too, the 503 says when the breaker lets a call
         * through again: the rest of its wait in the open state (audits, 2026-12-04: no Retry-After at all).
         */
        @Test
        void whileItIsOpenA503SaysWhenItLetsACallThroughAgain() {
            openTheBreaker();
            String token = Jwt.token("breaker-waiter");
            String session = client(breaking).createSession(token);

            F.enqueue(Script.json(500, SERVER_ERROR_BODY));
            HttpResponse<String> first = client(breaking).send("POST", "/api/v1/chat/sessions/" + session
                    + "/messages", token, "application/json", "{\"content\":\"" + PROMPT + "\"}");
            CLOCK.advance(Duration.ofMillis(44_500));
            F.enqueue(Script.json(500, SERVER_ERROR_BODY));
            HttpResponse<String> later = client(breaking).send("POST", "/api/v1/chat/sessions/" + session
                    + "/messages", token, "application/json", "{\"content\":\"" + PROMPT + "\"}");

            assertThat(first.statusCode()).isEqualTo(503);
            assertThat(first.body()).isEqualTo(UNAVAILABLE);
            assertThat(first.headers().firstValue("Retry-After")).hasValue("60");
            assertThat(later.statusCode()).isEqualTo(503);
            assertThat(later.headers().firstValue("Retry-After")).as("15.5 s left, rounded up").hasValue("16");
            assertThat(primary.requestCount()).isEqualTo(2);
        }

        @Test
        void afterTheWaitOneTrialRequestGoesThroughAndASuccessClosesIt() throws Exception {
            openTheBreaker();

            CLOCK.advance(Duration.ofSeconds(61));
            String token = Jwt.token("breaker-user");
            String session = client(breaking).createSession(token);

            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                CompletableFuture<GatewayClient.Answer> trial =
                        CompletableFuture.supplyAsync(() -> client(breaking).chat(session, token, PROMPT), pool);
                primary.awaitRequests(3, Duration.ofSeconds(5));

                // the trial request is in flight
                assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("HALF_OPEN");
                assertThat(metric(breaking, "llm_circuit_breaker_state{provider=\"sambanova\"}")).isEqualTo("2.0");

                primary.respond(2, 200, "text/event-stream", PRIMARY_SSE);
                assertAnswer(trial.get(10, TimeUnit.SECONDS), P_EVENTS);
            } finally {
                pool.shutdownNow();
            }

            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");
            assertThat(metric(breaking, "llm_provider_up{provider=\"sambanova\"}")).isEqualTo("1.0");
            assertThat(metric(breaking, "llm_circuit_breaker_state{provider=\"sambanova\"}")).isEqualTo("0.0");
            assertThat(F.requestCount()).isEqualTo(2);

            primary.respond(3, 200, "text/event-stream", PRIMARY_SSE);
            assertAnswer(chat(breaking), P_EVENTS);
            assertThat(primary.requestCount()).isEqualTo(4);
        }

        @Test
        void badRequestsDoNotOpenIt() {
            for (int i = 0; i < 5; i++) {
                primary.respond(i, 400, "application/json",
                        "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}");

                assertJson(chat(breaking), 400, REJECTED);
                assertThat(primary.requestCount()).as("400 number %s reached the primary", i + 1).isEqualTo(i + 1);
            }

            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");
            assertThat(F.requestCount()).isZero();
        }

        /**
         * A stream its provider cuts after it began is a failure too (helper audit, 2026-12-04: a provider that broke
         * every stream kept all the traffic): its start counted as a success, the break as a failure, and in this
         * breaker's window of two at 50% that opens it. The client kept the partial answer and its error event.
         */
        @Test
        void aStreamCutAfterItBeganCountsAgainstTheProvider() {
            primary.respond(0, 200, "text/event-stream", Chunks.delta("Partial "));
            F.enqueue(fallbackAnswer());

            GatewayClient.Answer broken = chat(breaking);

            assertThat(broken.status()).isEqualTo(200);
            assertThat(broken.events()).first().isEqualTo("data: {\"content\":\"Partial \",\"done\":false}");
            assertThat(broken.events()).last().asString().startsWith("event: error\n")
                    .contains("\"code\":\"stream_interrupted\"");
            JsonNode sambanova = provider(breaking, "sambanova");
            assertThat(sambanova.get("breaker_state").asText()).isEqualTo("OPEN");
            assertThat(sambanova.get("last_error_class").asText()).isEqualTo("bad_stream");

            assertAnswer(chat(breaking), F_EVENTS);
            assertThat(primary.requestCount()).as("no request to an open breaker's provider").isEqualTo(1);
        }

        /**
         * A body larger than the provider takes (413) and a request it cannot process (422) are the request's fault
         * too: one user's oversized conversation must not open the breaker for everyone (helper audit, 2026-12-04).
         */
        @Test
        void tooLargeAndUnprocessableRequestsDoNotOpenIt() {
            for (int i = 0; i < 6; i++) {
                boolean tooLarge = i % 2 == 0;
                primary.respond(i, tooLarge ? 413 : 422, "application/json",
                        "{\"error\":{\"message\":\"no\",\"type\":\"invalid_request_error\"}}");

                if (tooLarge) {
                    assertJson(chat(breaking), 413, "{\"error\":{\"code\":\"provider_rejected_request\","
                            + "\"message\":\"The provider refused the request as too large\"}}");
                } else {
                    assertJson(chat(breaking), 422, "{\"error\":{\"code\":\"provider_rejected_request\","
                            + "\"message\":\"The provider could not process the request\"}}");
                }
                assertThat(primary.requestCount()).as("refusal number %s reached the primary", i + 1).isEqualTo(i + 1);
            }

            assertThat(provider(breaking, "sambanova").get("breaker_state").asText()).isEqualTo("CLOSED");
            assertThat(F.requestCount()).isZero();
        }
    }

    // ================================================================================== admin API

    @Nested
    class AdminApi {

        @Test
        void withoutATokenIs401() {
            HttpResponse<String> get = client(admin).get(ADMIN_PATH, null);
            HttpResponse<String> put = client(admin).send("PUT", SELECTION_PATH, null, "application/json",
                    "{\"primary\":\"azure\",\"fallback\":\"sambanova\"}");

            for (HttpResponse<String> r : List.of(get, put)) {
                assertThat(r.statusCode()).isEqualTo(401);
                assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
                assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
                assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"missing_token\","
                        + "\"message\":\"Authorization: Bearer <JWT> is required\"}}");
            }
            assertThat(selection(admin)).containsExactly("sambanova", "azure");
        }

        @Test
        void aValidTokenWithoutTheAdminRoleIs403() {
            String forbidden = "{\"error\":{\"code\":\"forbidden\",\"message\":\"This needs the admin role\"}}";
            List<String> tokens = List.of(
                    Jwt.token("plain-user"),
                    tokenWith("roles-user", "roles", List.of("user", "auditor")),
                    tokenWith("role-user", "role", "administrator"));

            for (String token : tokens) {
                HttpResponse<String> get = client(admin).get(ADMIN_PATH, token);
                HttpResponse<String> put = client(admin).send("PUT", SELECTION_PATH, token, "application/json",
                        "{\"primary\":\"azure\",\"fallback\":\"sambanova\"}");
                for (HttpResponse<String> r : List.of(get, put)) {
                    assertThat(r.statusCode()).isEqualTo(403);
                    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
                    assertThat(r.body()).isEqualTo(forbidden);
                }
            }
            assertThat(selection(admin)).containsExactly("sambanova", "azure");
        }

        @Test
        void theAdminRoleSeesEveryProviderWithEveryField() {
            Instant t0 = CLOCK.instant();
            HttpResponse<String> before = client(admin).get(ADMIN_PATH, adminToken());

            assertThat(before.statusCode()).isEqualTo(200);
            assertThat(before.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(before.body()).isEqualTo("{\"primary\":\"sambanova\",\"fallback\":\"azure\",\"providers\":["
                    + "{\"name\":\"sambanova\",\"auth\":\"key\",\"weight\":1,\"breaker_state\":\"CLOSED\",\"cooldown_until\":null,"
                    + "\"last_error_class\":null,\"last_error_at\":null,\"requests\":0,\"failures\":0,"
                    + "\"probe_ok\":null},"
                    + "{\"name\":\"azure\",\"auth\":\"key\",\"weight\":1,\"breaker_state\":\"CLOSED\",\"cooldown_until\":null,"
                    + "\"last_error_class\":null,\"last_error_at\":null,\"requests\":0,\"failures\":0,"
                    + "\"probe_ok\":null}]}");

            P.enqueue(rateLimited("30000"));
            F.enqueue(fallbackAnswer());
            assertAnswer(chat(admin), F_EVENTS);

            HttpResponse<String> after = client(admin).get(ADMIN_PATH, adminToken());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(after.body()).isEqualTo("{\"primary\":\"sambanova\",\"fallback\":\"azure\",\"providers\":["
                    + "{\"name\":\"sambanova\",\"auth\":\"key\",\"weight\":1,\"breaker_state\":\"CLOSED\",\"cooldown_until\":\""
                    + t0.plusSeconds(30) + "\",\"last_error_class\":\"http_429\",\"last_error_at\":\"" + t0
                    + "\",\"requests\":1,\"failures\":1,\"probe_ok\":null},"
                    + "{\"name\":\"azure\",\"auth\":\"key\",\"weight\":1,\"breaker_state\":\"CLOSED\",\"cooldown_until\":null,"
                    + "\"last_error_class\":null,\"last_error_at\":null,\"requests\":1,\"failures\":0,"
                    + "\"probe_ok\":null}]}");
        }

        @Test
        void aSingleRoleClaimWorksToo() {
            HttpResponse<String> withRole = client(admin).get(ADMIN_PATH, tokenWith("ops", "role", "admin"));
            HttpResponse<String> withRoles = client(admin).get(ADMIN_PATH, adminToken());

            assertThat(withRole.statusCode()).isEqualTo(200);
            assertThat(withRole.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(withRole.body()).isEqualTo(withRoles.body());
            assertThat(GatewayClient.json(withRole.body()).get("primary").asText()).isEqualTo("sambanova");
        }
    }

    // ================================================================================== runtime switch

    @Nested
    class RuntimeSwitch {

        @Test
        void jmxSwitchesTheProvidersForTheNextRequestAndTheAdminApiSwitchesBack() throws Exception {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = selectionMBean(main);
            try {
                Object result = server.invoke(name, "switchProviders", new Object[] {"azure", "sambanova"},
                        new String[] {String.class.getName(), String.class.getName()});

                assertThat(result).isEqualTo("primary=azure, fallback=sambanova");
                assertThat(server.getAttribute(name, "Primary")).isEqualTo("azure");
                assertThat(server.getAttribute(name, "Fallback")).isEqualTo("sambanova");
                assertThat(metric(main, "llm_provider_selected{provider=\"azure\",role=\"primary\"}"))
                        .isEqualTo("1.0");
                assertThat(metric(main, "llm_provider_selected{provider=\"sambanova\",role=\"primary\"}"))
                        .isEqualTo("0.0");
                assertThat(metric(main, "llm_provider_selected{provider=\"sambanova\",role=\"fallback\"}"))
                        .isEqualTo("1.0");

                F.enqueue(fallbackAnswer());
                P.enqueue(primaryAnswer());
                assertAnswer(chat(main), F_EVENTS);
                assertThat(F.requestCount()).isEqualTo(1);
                assertThat(P.requestCount()).as("the new fallback is not called when the primary answers").isZero();

                HttpResponse<String> back = client(main).send("PUT", SELECTION_PATH, adminToken(),
                        "application/json", "{\"primary\":\"sambanova\",\"fallback\":\"azure\"}");

                assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
                assertThat(back.headers().firstValue("Content-Type")).hasValue("application/json");
                JsonNode body = GatewayClient.json(back.body());
                assertThat(body.get("primary").asText()).isEqualTo("sambanova");
                assertThat(body.get("fallback").asText()).isEqualTo("azure");
                assertThat(body.get("providers").findValuesAsText("name")).containsExactly("sambanova", "azure");
                assertThat(server.getAttribute(name, "Primary")).isEqualTo("sambanova");
                assertThat(server.getAttribute(name, "Fallback")).isEqualTo("azure");
                assertThat(metric(main, "llm_provider_selected{provider=\"azure\",role=\"primary\"}"))
                        .isEqualTo("0.0");

                assertAnswer(chat(main), P_EVENTS);
                assertThat(P.requestCount()).isEqualTo(1);
                assertThat(F.requestCount()).isEqualTo(1);
            } finally {
                server.invoke(name, "switchProviders", new Object[] {"sambanova", "azure"},
                        new String[] {String.class.getName(), String.class.getName()});
            }
        }

        @Test
        void anInvalidSelectionIsRefusedAndChangesNothing() throws Exception {
            String configured = "{\"error\":{\"code\":\"invalid_selection\","
                    + "\"message\":\"The primary must be one of the configured providers: azure, sambanova\"}}";
            String same = "{\"error\":{\"code\":\"invalid_selection\","
                    + "\"message\":\"The fallback must differ from the primary\"}}";
            Map<String, String> refused = new LinkedHashMap<>();
            refused.put("{\"primary\":\"demo\"}", configured);
            refused.put("{\"primary\":\"demo\",\"fallback\":\"azure\"}", configured);
            refused.put("{\"primary\":\"openai\",\"fallback\":\"azure\"}", configured);
            refused.put("{\"primary\":\"azure\",\"fallback\":\"azure\"}", same);
            refused.put("{\"primary\":\"sambanova\",\"fallback\":\"sambanova\"}", same);

            refused.forEach((body, error) -> {
                HttpResponse<String> r = client(main).send("PUT", SELECTION_PATH, adminToken(), "application/json",
                        body);
                assertThat(r.statusCode()).as(body).isEqualTo(400);
                assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
                assertThat(r.body()).as(body).isEqualTo(error);
            });

            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = selectionMBean(main);
            assertThatThrownBy(() -> server.invoke(name, "switchProviders", new Object[] {"azure", "azure"},
                    new String[] {String.class.getName(), String.class.getName()}))
                    .isInstanceOf(RuntimeMBeanException.class)
                    .cause().isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("The fallback must differ from the primary");

            assertThat(server.getAttribute(name, "Primary")).isEqualTo("sambanova");
            assertThat(server.getAttribute(name, "Fallback")).isEqualTo("azure");
            assertThat(selection(main)).containsExactly("sambanova", "azure");
            assertThat(metric(main, "llm_provider_selected{provider=\"sambanova\",role=\"primary\"}"))
                    .isEqualTo("1.0");
            P.enqueue(primaryAnswer());
            assertAnswer(chat(main), P_EVENTS);
            assertThat(F.requestCount()).isZero();
        }
    }

    // ================================================================================== helpers

    static final String PRIMARY_SSE = Chunks.delta("Primary ") + Chunks.delta("answer.") + Chunks.finish("stop")
            + Chunks.usage(9, 2) + Chunks.done();
    static final String SERVER_ERROR_BODY = "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}";
    static final String RATE_LIMIT_BODY = "{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limit\"}}";

    static Script primaryAnswer() {
        return Script.sse(Chunks.delta("Primary "), Chunks.delta("answer."), Chunks.finish("stop"),
                Chunks.usage(9, 2), Chunks.done());
    }

    static Script fallbackAnswer() {
        return Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Fallback "), Chunks.delta("answer."),
                Chunks.finish("stop"), Chunks.usage(9, 2), Chunks.done());
    }

    static Script rateLimited(String retryAfterMs) {
        return Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limit\"}}")
                .header("retry-after-ms", retryAfterMs);
    }

    static GatewayClient client(RunningGateway gateway) {
        return new GatewayClient(gateway);
    }

    /** One chat with a fresh session and user. */
    static GatewayClient.Answer chat(RunningGateway gateway) {
        String token = Jwt.token("resilience-user");
        GatewayClient c = client(gateway);
        return c.chat(c.createSession(token), token, PROMPT);
    }

    static HttpResponse<String> postMessage(RunningGateway gateway, String session, String token) {
        return client(gateway).send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "application/json", "{\"content\":\"Hurry\"}");
    }

    static void assertAnswer(GatewayClient.Answer answer, List<String> events) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo(SSE);
        assertThat(answer.events()).containsExactlyElementsOf(events);
    }

    static void assertJson(GatewayClient.Answer answer, int status, String body) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).isEqualTo("application/json");
        assertThat(answer.body()).isEqualTo(body);
    }

    static String adminToken() {
        return tokenWith("ops-admin", "roles", List.of("admin"));
    }

    static String tokenWith(String user, String claim, Object value) {
        var b = JWT.create().withSubject(user).withExpiresAt(Instant.now().plusSeconds(600));
        if (value instanceof List<?> list) {
            b.withClaim(claim, list.stream().map(String::valueOf).toList());
        } else {
            b.withClaim(claim, String.valueOf(value));
        }
        return b.sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    static JsonNode providers(RunningGateway gateway) {
        HttpResponse<String> r = client(gateway).get(ADMIN_PATH, adminToken());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return GatewayClient.json(r.body());
    }

    static JsonNode provider(RunningGateway gateway, String name) {
        for (JsonNode p : providers(gateway).get("providers")) {
            if (name.equals(p.get("name").asText())) {
                return p;
            }
        }
        throw new AssertionError("no provider " + name + " in the admin API");
    }

    /** [primary, fallback] as the admin API shows them. */
    static List<String> selection(RunningGateway gateway) {
        JsonNode all = providers(gateway);
        return List.of(all.get("primary").asText(), all.get("fallback").asText());
    }

    static void awaitCooldownUntil(RunningGateway gateway, String name, String expected) {
        awaitValue(() -> provider(gateway, name).get("cooldown_until").asText(), expected,
                name + "'s cooldown_until");
    }

    static <T> void awaitValue(Supplier<T> value, T expected, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            T v = value.get();
            if (expected.equals(v)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " is " + v + ", expected " + expected + " within 5 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /**
     * A provider's outage is not this instance's: /observe/health and /observe/health/ready answer 200 UP (what a
     * balancer and Kubernetes' readiness probe read), and no check in them names a provider.
     */
    static void assertInstanceReady(RunningGateway gateway) {
        for (String path : new String[] {"/observe/health", "/observe/health/ready", "/observe/health/live"}) {
            HttpResponse<String> r = management(gateway, path);
            assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
            JsonNode health = GatewayClient.json(r.body());
            assertThat(health.get("status").asText()).as(path).isEqualTo("UP");
            assertThat(health.toString()).as(path).doesNotContain("provider:");
        }
    }

    /** The value of one Prometheus sample, as printed. */
    static String metric(RunningGateway gateway, String series) {
        HttpResponse<String> r = management(gateway, "/observe/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        for (String line : r.body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return line.substring(series.length() + 1).trim();
            }
        }
        throw new AssertionError("no sample " + series + " in the metrics");
    }

    static HttpResponse<String> management(RunningGateway gateway, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl() + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This gateway's provider selection MBean (other gateways in the JVM have their own). */
    static ObjectName selectionMBean(RunningGateway gateway) throws Exception {
        String context = ObjectName.quote(gateway.camel().getManagementName());
        Set<ObjectName> names = ManagementFactory.getPlatformMBeanServer()
                .queryNames(new ObjectName("com.cobalt.chat:type=ProviderSelection,*"), null);
        List<ObjectName> mine = names.stream().filter(n -> context.equals(n.getKeyProperty("context"))).toList();
        assertThat(mine).as("selection MBeans of context %s among %s", context, names).hasSize(1);
        return mine.get(0);
    }

    /** Between breaker tests: a closed breaker with an empty window (the breaker the route uses, by bean name). */
    static void resetBreaker(RunningGateway gateway, String provider) {
        gateway.camel().getRegistry().lookupByNameAndType(provider + "CircuitBreaker", CircuitBreaker.class).reset();
    }
}
