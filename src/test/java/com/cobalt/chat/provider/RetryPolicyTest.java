package com.cobalt.chat.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

import java.time.Duration;
import java.time.Instant;

import com.cobalt.chat.testing.TestClock;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The pure parts of the resilience features: the retry backoff and budget ({@link RetryPolicy}), the cooldown a
 * provider's retry hint asks for ({@link ProviderHealth}, on a {@link TestClock}) and how a hint is read
 * ({@link RetryAfter}).
 */
class RetryPolicyTest {

    static final double LOWEST = 0.0;
    static final double HIGHEST = 0.999999;

    // ------------------------------------------------------------------------------------------ RetryPolicy

    @Nested
    class Backoff {

        /** base 100 ms, cap 10 s: the ceilings are 100, 200, 400, 800 ms for retries 1..4. */
        final RetryPolicy policy = new RetryPolicy(5, 100, 10_000, 60_000);

        @Test
        void theLowestRandomGivesHalfTheCeiling() {
            assertThat(policy.delayMs(1, () -> LOWEST)).isEqualTo(50);
        }

        /**
         * The top of the jitter range: a random just below 1 gives all of {@code min(max, base * 2^(retry-1))}, so
         * the delays span [half, all] of the ceiling.
         */
        @Test
        void theHighestRandomGivesTheWholeCeiling() {
            RetryPolicy capped = new RetryPolicy(50, 100, 300, 60_000);
            RetryPolicy defaults = new RetryPolicy(1, 250, 2_000, 10_000);

            assertSoftly(soft -> {
                soft.assertThat(policy.delayMs(1, () -> HIGHEST)).as("retry 1, ceiling 100").isEqualTo(100);
                soft.assertThat(policy.delayMs(2, () -> HIGHEST)).as("retry 2, ceiling 200").isEqualTo(200);
                soft.assertThat(policy.delayMs(3, () -> HIGHEST)).as("retry 3, ceiling 400").isEqualTo(400);
                soft.assertThat(policy.delayMs(4, () -> HIGHEST)).as("retry 4, ceiling 800").isEqualTo(800);
                soft.assertThat(capped.delayMs(3, () -> HIGHEST)).as("capped at 300").isEqualTo(300);
                soft.assertThat(capped.delayMs(64, () -> HIGHEST)).as("retry 64, capped at 300").isEqualTo(300);
                soft.assertThat(defaults.delayMs(1, () -> HIGHEST)).as("production defaults, retry 1").isEqualTo(250);
            });
        }

        @Test
        void aMiddleRandomGivesAMiddleDelay() {
            assertThat(policy.delayMs(1, () -> 0.5)).isEqualTo(75);
            assertThat(policy.delayMs(3, () -> 0.25)).isEqualTo(250);
        }

        @Test
        void theDelayDoublesWithEachRetry() {
            assertThat(policy.delayMs(1, () -> LOWEST)).isEqualTo(50);
            assertThat(policy.delayMs(2, () -> LOWEST)).isEqualTo(100);
            assertThat(policy.delayMs(3, () -> LOWEST)).isEqualTo(200);
            assertThat(policy.delayMs(4, () -> LOWEST)).isEqualTo(400);

            assertThat(policy.delayMs(1, () -> 0.5)).isEqualTo(75);
            assertThat(policy.delayMs(2, () -> 0.5)).isEqualTo(150);
            assertThat(policy.delayMs(3, () -> 0.5)).isEqualTo(300);
            assertThat(policy.delayMs(4, () -> 0.5)).isEqualTo(600);
        }

        @Test
        void theCeilingIsCappedAtTheMaximumDelay() {
            RetryPolicy capped = new RetryPolicy(50, 100, 300, 60_000);

            assertThat(capped.delayMs(2, () -> LOWEST)).as("ceiling 200, under the cap").isEqualTo(100);
            assertThat(capped.delayMs(3, () -> LOWEST)).as("ceiling min(300, 400)").isEqualTo(150);
            assertThat(capped.delayMs(3, () -> 0.5)).isEqualTo(225);
            assertThat(capped.delayMs(10, () -> LOWEST)).isEqualTo(150);
            assertThat(capped.delayMs(10, () -> 0.5)).isEqualTo(225);
        }

        @Test
        void aVeryHighRetryNumberDoesNotOverflowPastTheCap() {
            RetryPolicy capped = new RetryPolicy(100, 250, 2_000, 60_000);

            assertThat(capped.delayMs(40, () -> LOWEST)).isEqualTo(1_000);
            assertThat(capped.delayMs(64, () -> LOWEST)).isEqualTo(1_000);
            assertThat(capped.delayMs(64, () -> 0.5)).isEqualTo(1_500);
        }

        @Test
        void theProductionDefaultsGiveAFirstRetryFrom125Ms() {
            RetryPolicy defaults = new RetryPolicy(1, 250, 2_000, 10_000);

            assertThat(defaults.delayMs(1, () -> LOWEST)).isEqualTo(125);
            assertThat(defaults.delayMs(1, () -> 0.4)).isEqualTo(175);
        }
    }

    @Nested
    class Budget {

        final RetryPolicy policy = new RetryPolicy(2, 100, 1_000, 1_000);

        @Test
        void retriesAreAllowedUpToTheMaximum() {
            assertThat(policy.allows(1, 0, 100)).isTrue();
            assertThat(policy.allows(2, 0, 100)).isTrue();
            assertThat(policy.allows(3, 0, 100)).as("a third retry with max-retries 2").isFalse();
        }

        @Test
        void noRetryAtAllWithMaxRetriesZero() {
            assertThat(new RetryPolicy(0, 100, 1_000, 10_000).allows(1, 0, 0)).isFalse();
        }

        @Test
        void thePauseMustEndInsideTheBudget() {
            assertThat(policy.allows(1, 900, 99)).as("900 + 99 < 1000").isTrue();
            assertThat(policy.allows(1, 900, 100)).as("900 + 100 is not inside 1000").isFalse();
            assertThat(policy.allows(1, 1_000, 0)).as("budget already spent").isFalse();
            assertThat(policy.allows(2, 0, 1_000)).as("a pause as long as the budget").isFalse();
        }

        @Test
        void aOneMillisecondBudgetAllowsNoRetry() {
            RetryPolicy tiny = new RetryPolicy(2, 5, 20, 1);

            assertThat(tiny.allows(1, 0, tiny.delayMs(1, () -> LOWEST))).isFalse();
        }
    }

    // ------------------------------------------------------------------------------------------ ProviderHealth

    @Nested
    class Cooldown {

        final TestClock clock = new TestClock(Instant.parse("2026-11-26T12:00:00Z"));
        final ProviderHealth health = new ProviderHealth(clock, java.util.List.of("sambanova", "azure", "demo"));

        @Test
        void noCooldownAtFirst() {
            assertThat(health.inCooldown("sambanova")).isFalse();
            assertThat(health.snapshot("sambanova")).isEqualTo(
                    new ProviderHealth.Snapshot(null, 0, null, null, 0, 0, null));
        }

        @Test
        void a429WithAFiveSecondHintStartsACooldown() {
            health.noteRequest("sambanova");
            health.noteFailure(ProviderFailure.status("sambanova", 429, 5L));

            assertThat(health.inCooldown("sambanova")).isTrue();
            assertThat(health.inCooldown("azure")).as("only the provider that asked").isFalse();
            assertThat(health.snapshot("sambanova")).isEqualTo(new ProviderHealth.Snapshot(
                    Instant.parse("2026-11-26T12:00:05Z"), 429, "http_429", Instant.parse("2026-11-26T12:00:00Z"),
                    1, 1, null));
        }

        @Test
        void aModelsCooldownHoldsForThatModelOnlyAndTheProviderShowsItsLatest() {
            health.noteFailure(ProviderFailure.status("azure", 429, 30L), "gpt-4o-prod");
            clock.advance(java.time.Duration.ofSeconds(10));
            health.noteFailure(ProviderFailure.status("azure", 503, 5L), "gpt-4o-mini-prod");

            assertThat(health.inCooldown("azure", "gpt-4o-prod")).isTrue();
            assertThat(health.inCooldown("azure", "gpt-4o-mini-prod")).isTrue();
            assertThat(health.inCooldown("azure", "o3-prod")).as("a model that asked for nothing").isFalse();
            assertThat(health.inCooldown("azure")).as("some model of it cools").isTrue();
            assertThat(health.coolingDown("azure", "gpt-4o-mini-prod").retryAfterSeconds()).isEqualTo(5L);
            assertThat(health.coolingDown("azure", "gpt-4o-mini-prod").status()).isEqualTo(503);
            assertThat(health.snapshot("azure").cooldownUntil()).isEqualTo(Instant.parse("2026-11-26T12:00:30Z"));
            assertThat(health.snapshot("azure").cooldownStatus()).isEqualTo(429);

            clock.advance(java.time.Duration.ofSeconds(20));
            assertThat(health.inCooldown("azure", "gpt-4o-prod")).as("at the instant it ends").isFalse();
            assertThat(health.inCooldown("azure")).isFalse();
            assertThat(health.snapshot("azure").cooldownUntil()).isNull();
        }

        @Test
        void aFailureThatNamesNoModelCoolsEveryModelOfTheProvider() {
            health.noteFailure(ProviderFailure.status("azure", 429, 5L));

            assertThat(health.inCooldown("azure", "gpt-4o-prod")).isTrue();
            assertThat(health.inCooldown("azure", "o3-prod")).isTrue();
            assertThat(health.inCooldown("sambanova", "Meta-Llama-3.3-70B-Instruct")).isFalse();
        }

        @Test
        void theCooldownIsSkippedAsAFailureCarryingTheRemainingSecondsRoundedUp() {
            health.noteFailure(ProviderFailure.status("sambanova", 429, 5L));

            ProviderFailure skipped = health.coolingDown("sambanova", null);
            assertThat(skipped.kind()).isEqualTo(ProviderFailure.Kind.COOLDOWN);
            assertThat(skipped.provider()).isEqualTo("sambanova");
            assertThat(skipped.status()).isEqualTo(429);
            assertThat(skipped.retryAfterSeconds()).isEqualTo(5L);
            assertThat(skipped.rateLimited()).isTrue();
            assertThat(skipped.retryable()).isFalse();
            assertThat(skipped.getMessage()).isEqualTo("sambanova: cooling down after HTTP 429");

            clock.advance(Duration.ofMillis(1_500));
            assertThat(health.coolingDown("sambanova", null).retryAfterSeconds()).as("3.5 s left").isEqualTo(4L);

            clock.advance(Duration.ofMillis(2_500));
            assertThat(health.coolingDown("sambanova", null).retryAfterSeconds()).as("exactly 1 s left").isEqualTo(1L);

            clock.advance(Duration.ofMillis(999));
            assertThat(health.coolingDown("sambanova", null).retryAfterSeconds()).as("1 ms left").isEqualTo(1L);
        }

        @Test
        void aLaterLongerHintExtendsTheCooldown() {
            health.noteFailure(ProviderFailure.status("sambanova", 429, 5L));
            clock.advance(Duration.ofSeconds(2));
            health.noteFailure(ProviderFailure.status("sambanova", 429, 20L));

            assertThat(health.snapshot("sambanova").cooldownUntil()).isEqualTo(Instant.parse("2026-11-26T12:00:22Z"));
            assertThat(health.coolingDown("sambanova", null).retryAfterSeconds()).isEqualTo(20L);
        }

        @Test
        void aLaterShorterHintDoesNotShrinkTheCooldown() {
            health.noteFailure(ProviderFailure.status("sambanova", 429, 20L));
            clock.advance(Duration.ofSeconds(2));
            health.noteFailure(ProviderFailure.status("sambanova", 503, 3L));

            assertThat(health.snapshot("sambanova").cooldownUntil()).isEqualTo(Instant.parse("2026-11-26T12:00:20Z"));
            ProviderFailure skipped = health.coolingDown("sambanova", null);
            assertThat(skipped.retryAfterSeconds()).isEqualTo(18L);
            assertThat(skipped.status()).as("the status of the hint that set the cooldown").isEqualTo(429);
            assertThat(health.snapshot("sambanova").lastErrorClass()).as("the last error is still the last one")
                    .isEqualTo("http_503");
        }

        @Test
        void theCooldownEndsOnceTheClockPassesIt() {
            health.noteFailure(ProviderFailure.status("sambanova", 429, 5L));

            clock.advance(Duration.ofMillis(4_999));
            assertThat(health.inCooldown("sambanova")).isTrue();

            clock.advance(Duration.ofMillis(1));
            assertThat(health.inCooldown("sambanova")).as("at the instant it ends").isFalse();
            assertThat(health.snapshot("sambanova").cooldownUntil()).isNull();

            clock.advance(Duration.ofHours(1));
            assertThat(health.inCooldown("sambanova")).isFalse();
        }

        @Test
        void a503WithAHintAlsoCoolsDown() {
            health.noteFailure(ProviderFailure.status("azure", 503, 7L));

            assertThat(health.inCooldown("azure")).isTrue();
            ProviderFailure skipped = health.coolingDown("azure", null);
            assertThat(skipped.status()).isEqualTo(503);
            assertThat(skipped.retryAfterSeconds()).isEqualTo(7L);
            assertThat(skipped.rateLimited()).as("a 503 is not a rate limit").isFalse();
            assertThat(skipped.getMessage()).isEqualTo("azure: cooling down after HTTP 503");
            assertThat(health.snapshot("azure").cooldownUntil()).isEqualTo(Instant.parse("2026-11-26T12:00:07Z"));
        }

        @Test
        void a500DoesNotCoolDownEvenWithAHint() {
            health.noteFailure(ProviderFailure.status("sambanova", 500, 30L));

            assertThat(health.inCooldown("sambanova")).isFalse();
            assertThat(health.snapshot("sambanova")).isEqualTo(new ProviderHealth.Snapshot(null, 0, "http_500",
                    Instant.parse("2026-11-26T12:00:00Z"), 0, 1, null));
        }

        @Test
        void a429WithoutAHintDoesNotCoolDown() {
            health.noteFailure(ProviderFailure.status("sambanova", 429, null));

            assertThat(health.inCooldown("sambanova")).isFalse();
            assertThat(health.snapshot("sambanova").failures()).isEqualTo(1);
        }

        @Test
        void connectFailuresAndTimeoutsDoNotCoolDown() {
            health.noteFailure(ProviderFailure.connect("sambanova", new java.net.ConnectException("refused")));
            health.noteFailure(ProviderFailure.timeout("sambanova", "no first token in time"));

            assertThat(health.inCooldown("sambanova")).isFalse();
            assertThat(health.snapshot("sambanova").lastErrorClass()).isEqualTo("timeout");
            assertThat(health.snapshot("sambanova").failures()).isEqualTo(2);
        }
    }

    // ------------------------------------------------------------------------------------------ RetryAfter

    @Nested
    class Hints {

        final TestClock clock = new TestClock(Instant.parse("2026-11-26T12:00:00Z"));

        Long seconds(String... nameValues) {
            MultiMap headers = MultiMap.caseInsensitiveMultiMap();
            for (int i = 0; i < nameValues.length; i += 2) {
                headers.add(nameValues[i], nameValues[i + 1]);
            }
            return RetryAfter.seconds(headers, clock);
        }

        /** A delay too long for a long is the longest, then the cap - not no hint (black-box probe, 2026-12-05). */
        @Test
        void aDelayPastLongsRangeIsTheCapNotNoHint() {
            MultiMap seconds = MultiMap.caseInsensitiveMultiMap();
            seconds.add("Retry-After", "99999999999999999999");
            assertThat(RetryAfter.seconds(seconds, clock, 300)).isEqualTo(300L);
            MultiMap millis = MultiMap.caseInsensitiveMultiMap();
            millis.add("retry-after-ms", String.valueOf(Long.MAX_VALUE));
            assertThat(RetryAfter.seconds(millis, clock, 300)).isEqualTo(300L);
            millis.set("retry-after-ms", "1001");
            assertThat(RetryAfter.seconds(millis, clock, 300)).isEqualTo(2L);
        }

        @Test
        void aHintLongerThanTheCapIsCutToIt() {
            MultiMap headers = MultiMap.caseInsensitiveMultiMap();
            headers.add("Retry-After", "86400");
            assertThat(RetryAfter.seconds(headers, clock, 300)).isEqualTo(300L);
            assertThat(RetryAfter.seconds(headers, clock, 100_000)).isEqualTo(86400L);
            MultiMap date = MultiMap.caseInsensitiveMultiMap();
            date.add("Retry-After", "Fri, 27 Nov 2026 12:00:00 GMT");
            assertThat(RetryAfter.seconds(date, clock, 300)).isEqualTo(300L);
            assertThat(RetryAfter.seconds(MultiMap.caseInsensitiveMultiMap(), clock, 300)).isNull();
        }

        @Test
        void retryAfterMsIsRoundedUpToWholeSeconds() {
            assertThat(seconds("retry-after-ms", "1500")).isEqualTo(2L);
            assertThat(seconds("retry-after-ms", "30000")).isEqualTo(30L);
            assertThat(seconds("retry-after-ms", "1")).isEqualTo(1L);
            assertThat(seconds("retry-after-ms", "0")).as("at least 1").isEqualTo(1L);
        }

        @Test
        void retryAfterInSeconds() {
            assertThat(seconds("Retry-After", "7")).isEqualTo(7L);
            assertThat(seconds("retry-after", " 7 ")).isEqualTo(7L);
            assertThat(seconds("Retry-After", "0")).as("at least 1").isEqualTo(1L);
        }

        @Test
        void retryAfterMsWinsOverRetryAfter() {
            assertThat(seconds("Retry-After", "7", "retry-after-ms", "1500")).isEqualTo(2L);
        }

        @Test
        void anUnreadableRetryAfterMsFallsBackToRetryAfter() {
            assertThat(seconds("retry-after-ms", "soon", "Retry-After", "4")).isEqualTo(4L);
            assertThat(seconds("retry-after-ms", "-5", "Retry-After", "4")).isEqualTo(4L);
        }

        @Test
        void retryAfterAsAnHttpDate() {
            assertThat(seconds("Retry-After", "Thu, 26 Nov 2026 12:00:30 GMT")).isEqualTo(30L);
            assertThat(seconds("Retry-After", "Thu, 26 Nov 2026 13:00:00 GMT")).isEqualTo(3_600L);
        }

        @Test
        void anHttpDateInThePastMeansOneSecond() {
            assertThat(seconds("Retry-After", "Thu, 26 Nov 2026 11:59:00 GMT")).isEqualTo(1L);
        }

        /** The javadoc promises whole seconds rounded up: waiting less than the provider asked is too early. */
        @Test
        void anHttpDateIsRoundedUpToTheNextWholeSecondLikeTheOtherForms() {
            clock.advance(Duration.ofMillis(500));

            assertThat(seconds("Retry-After", "Thu, 26 Nov 2026 12:00:30 GMT")).as("29.5 s away").isEqualTo(30L);
        }

        @Test
        void garbageIsNoHint() {
            assertThat(seconds("Retry-After", "later, please")).isNull();
            assertThat(seconds("Retry-After", "")).isNull();
            assertThat(seconds("retry-after-ms", "soon")).isNull();
        }

        Long on429(String... nameValues) {
            MultiMap headers = MultiMap.caseInsensitiveMultiMap();
            for (int i = 0; i < nameValues.length; i += 2) {
                headers.add(nameValues[i], nameValues[i + 1]);
            }
            return RetryAfter.seconds(429, headers, clock, 300);
        }

        /** OpenAI's 429 has no Retry-After, only when its budgets fill up again (Go durations). */
        @Test
        void openAisRateLimitResetHeadersAreAHintOnA429() {
            assertThat(on429("x-ratelimit-reset-requests", "1s")).isEqualTo(1L);
            assertThat(on429("x-ratelimit-reset-requests", "20ms")).as("rounded up").isEqualTo(1L);
            assertThat(on429("x-ratelimit-reset-requests", "0s")).as("at least 1").isEqualTo(1L);
            assertThat(on429("x-ratelimit-reset-tokens", "6m0s")).as("cut to the cap").isEqualTo(300L);
            assertThat(on429("x-ratelimit-reset-tokens", "1m2.5s")).isEqualTo(63L);
            assertThat(on429("x-ratelimit-reset-tokens", "2.001s")).isEqualTo(3L);
            assertThat(on429("x-ratelimit-reset-requests", "1h2m3.5s")).isEqualTo(300L);
            assertThat(RetryAfter.seconds(429, headers("x-ratelimit-reset-requests", "1h2m3.5s"), clock, 10_000))
                    .isEqualTo(3724L);
            assertThat(on429("x-ratelimit-reset-requests", "999999999999999999999h")).isEqualTo(300L);
        }

        @Test
        void theLaterOfTheRequestAndTokenResetsIsTheHint() {
            assertThat(on429("x-ratelimit-reset-requests", "8s", "x-ratelimit-reset-tokens", "12ms")).isEqualTo(8L);
            assertThat(on429("x-ratelimit-reset-requests", "120ms", "x-ratelimit-reset-tokens", "17.2s"))
                    .isEqualTo(18L);
            assertThat(on429("x-ratelimit-reset-requests", "soon", "x-ratelimit-reset-tokens", "4s"))
                    .as("an unreadable one is ignored").isEqualTo(4L);
        }

        @Test
        void retryAfterWinsOverTheResetHeaders() {
            assertThat(on429("Retry-After", "7", "x-ratelimit-reset-requests", "50s")).isEqualTo(7L);
            assertThat(on429("retry-after-ms", "1500", "x-ratelimit-reset-tokens", "50s")).isEqualTo(2L);
        }

        /** OpenAI sends them on every answer: a 500's are no request to wait (the 500 is retried). */
        @Test
        void theResetHeadersAreOnlyA429sHint() {
            MultiMap h = headers("x-ratelimit-reset-requests", "2s", "x-ratelimit-reset-tokens", "5s");
            assertThat(RetryAfter.seconds(500, h, clock, 300)).isNull();
            assertThat(RetryAfter.seconds(503, h, clock, 300)).isNull();
            assertThat(RetryAfter.seconds(h, clock, 300)).isNull();
        }

        @Test
        void aResetThatIsNoDurationIsNoHint() {
            for (String v : new String[] {"", "5", "1.5", "s", "1x", "1s2", "1..2s", "-1s", "1e3s", "1 s", "m5"}) {
                assertThat(on429("x-ratelimit-reset-requests", v)).as("'%s'", v).isNull();
            }
        }

        MultiMap headers(String... nameValues) {
            MultiMap headers = MultiMap.caseInsensitiveMultiMap();
            for (int i = 0; i < nameValues.length; i += 2) {
                headers.add(nameValues[i], nameValues[i + 1]);
            }
            return headers;
        }

        @Test
        void noHeaderIsNoHint() {
            assertThat(seconds()).isNull();
            assertThat(seconds("Content-Type", "application/json")).isNull();
        }
    }
}
