package com.cobalt.chat.e2e;

import static com.cobalt.chat.e2e.ResilienceTest.F_EVENTS;
import static com.cobalt.chat.e2e.ResilienceTest.P_EVENTS;
import static com.cobalt.chat.e2e.ResilienceTest.assertAnswer;
import static com.cobalt.chat.e2e.ResilienceTest.chat;
import static com.cobalt.chat.e2e.ResilienceTest.fallbackAnswer;
import static com.cobalt.chat.e2e.ResilienceTest.primaryAnswer;
import static com.cobalt.chat.e2e.ResilienceTest.provider;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every timeout before the first token ends the attempt when it says and cancels the provider's request (the fake
 * upstream sees the disconnect), whatever phase the request is in; a retry is taken only inside the retry budget; a
 * provider's retry hint is capped at LLM_MAX_COOLDOWN_SECONDS. One gateway: primary sambanova at P, fallback azure at
 * F, a 500 ms first-token timeout with the 30 s default for response headers, one retry after 50..100 ms inside a
 * 400 ms budget, a 120 s cooldown cap, time from a {@link TestClock} for the cooldowns.
 */
class TimeoutTest {

    static final long FIRST_TOKEN_MS = 500;
    static final TestClock CLOCK = new TestClock();
    static FakeUpstream P;
    static FakeUpstream F;
    static RunningGateway gateway;

    @BeforeAll
    static void start() {
        P = FakeUpstream.start();
        F = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", F.baseUrl());
        p.put("azure.ai.api-key", "az-test-key-0003");
        p.put("azure.ai.deployment", "gpt-4o-mini");
        p.put("llm.first-token-timeout-ms", String.valueOf(FIRST_TOKEN_MS));
        p.put("llm.max-retries", "1");
        p.put("llm.retry-base-delay-ms", "100");
        p.put("llm.retry-max-delay-ms", "100");
        p.put("llm.retry-budget-ms", "400");
        p.put("llm.max-cooldown-seconds", "120");
        gateway = RunningGateway.sambanovaAt(P, p, Map.of("clock", CLOCK));
        // one answered chat first: the tests below measure deadlines of 500 ms, not a cold JVM's first request
        P.enqueue(primaryAnswer());
        assertAnswer(chat(gateway), P_EVENTS);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
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
        CLOCK.advance(Duration.ofDays(2)); // past any cooldown an uncapped hint of the last test started
        P.reset();
        F.reset();
    }

    static Stream<Arguments> slowBeforeTheFirstToken() {
        return Stream.of(
                // headers later than the first-token timeout (but well inside the 30 s headers timeout)
                Arguments.of("headers after 10 s", Script.sse(Chunks.delta("late"), Chunks.finish("stop"), Chunks.done())
                        .delayHeaders(Duration.ofSeconds(10))),
                // an error status whose body never completes
                Arguments.of("a 500 whose body stalls", Script.status(500).header("Content-Type", "application/json")
                        .header("Content-Length", "200").chunk("{\"error\":").stall()),
                // a 200 stream that sends nothing after its headers
                Arguments.of("a 200 stream that stalls", Script.sse(Chunks.azurePromptFilter()).stall()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("slowBeforeTheFirstToken")
    void theFirstTokenTimeoutEndsTheAttemptInEveryPhaseAndCancelsTheRequest(String name, Script slow) {
        P.enqueue(slow);
        F.enqueue(fallbackAnswer());

        long t0 = System.nanoTime();
        GatewayClient.Answer answer = chat(gateway);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertAnswer(answer, F_EVENTS);
        assertThat(tookMs).as("llm.first-token-timeout-ms=%s counts from sending", FIRST_TOKEN_MS)
                .isBetween(FIRST_TOKEN_MS, 3_000L);
        assertThat(P.awaitDisconnect(Duration.ofSeconds(2))).as("the primary's request was cancelled").isTrue();
        assertThat(P.requestCount()).as("a timeout is not retried").isEqualTo(1);
        assertThat(F.requestCount()).isEqualTo(1);
    }

    @Test
    void aRetryWhosePauseWouldEndPastTheBudgetIsNotTaken() {
        // 350 ms to the 500, then a pause of at least 50 ms: the retry could start no earlier than the 400 ms budget
        P.enqueue(Script.json(500, ResilienceTest.SERVER_ERROR_BODY).delayHeaders(Duration.ofMillis(350)));
        P.enqueue(primaryAnswer()); // a retry would get an answer: there must not be one
        F.enqueue(fallbackAnswer());

        assertAnswer(chat(gateway), F_EVENTS);
        assertThat(P.requestCount()).isEqualTo(1);
        assertThat(F.requestCount()).isEqualTo(1);
    }

    @Test
    void aRetryInsideTheBudgetIsTaken() {
        P.enqueue(Script.json(500, ResilienceTest.SERVER_ERROR_BODY));
        P.enqueue(primaryAnswer());

        assertAnswer(chat(gateway), P_EVENTS);
        assertThat(P.requestCount()).isEqualTo(2);
        assertThat(F.requestCount()).isZero();
    }

    static Stream<Arguments> longHints() {
        return Stream.of(
                Arguments.of("Retry-After", "86400"),
                Arguments.of("retry-after-ms", "3600000"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("longHints")
    void aRetryHintLongerThanTheCapCoolsTheProviderDownForTheCapOnly(String header, String value) {
        Instant t0 = CLOCK.instant();
        P.enqueue(Script.json(429, ResilienceTest.RATE_LIMIT_BODY).header(header, value));
        F.enqueue(fallbackAnswer());
        F.enqueue(fallbackAnswer());

        assertAnswer(chat(gateway), F_EVENTS);
        assertThat(provider(gateway, "sambanova").get("cooldown_until").asText())
                .as("LLM_MAX_COOLDOWN_SECONDS=120").isEqualTo(t0.plusSeconds(120).toString());

        CLOCK.advance(Duration.ofSeconds(119));
        assertAnswer(chat(gateway), F_EVENTS);
        assertThat(P.requestCount()).as("still cooling down").isEqualTo(1);

        CLOCK.advance(Duration.ofSeconds(2));
        P.enqueue(primaryAnswer());
        assertAnswer(chat(gateway), P_EVENTS);
        assertThat(P.requestCount()).isEqualTo(2);
    }
}
