package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.time.Instant;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.Test;

/** The sliding minute of session creations per user, on a clock the test moves. */
class SessionCreationRateTest {

    final TestClock clock = new TestClock(Instant.parse("2026-12-02T09:00:00Z"));
    final SessionCreationRate rate = new SessionCreationRate(3, clock);

    @Test
    void theFourthCreationInAMinuteIsRefusedUntilTheOldestLeavesTheWindow() {
        rate.admit("ann");
        clock.advance(Duration.ofSeconds(10));
        rate.admit("ann");
        rate.admit("ann");
        rate.admit("bob");

        ApiError refused = catchThrowableOfType(ApiError.class, () -> rate.admit("ann"));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.code()).isEqualTo("session_rate_limit_exceeded");
        assertThat(refused.headers()).containsEntry("Retry-After", "50");

        clock.advance(Duration.ofSeconds(50));
        rate.admit("ann");
        assertThat(catchThrowableOfType(ApiError.class, () -> rate.admit("ann")).headers())
                .containsEntry("Retry-After", "10");
    }

    @Test
    void usersWithAnEmptyWindowAreForgotten() {
        rate.admit("ann");
        rate.admit("bob");
        clock.advance(Duration.ofSeconds(61));
        rate.admit("bob");

        rate.forgetIdle();

        assertThat(rate.usersInMemory()).isEqualTo(1);
    }
}
