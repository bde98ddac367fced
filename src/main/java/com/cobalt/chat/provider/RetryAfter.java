package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import io.vertx.core.MultiMap;

/** Reads a provider's back-off hint: {@code retry-after-ms} (Azure) or {@code Retry-After} in seconds or as a date. */
public final class RetryAfter {

    private RetryAfter() {
    }

    /**
     * Whole seconds to wait (rounded up, at least 1, at most {@code maxSeconds}), or null when the answer carried no
     * usable hint. The cap (LLM_MAX_COOLDOWN_SECONDS) keeps a provider that asks for hours or days - by mistake or
     * not - from being skipped that long.
     */
    public static Long seconds(MultiMap headers, Clock clock, long maxSeconds) {
        Long s = seconds(headers, clock);
        return s == null ? null : Math.min(s, maxSeconds);
    }

    /** Whole seconds to wait (rounded up, at least 1), or null when the answer carried no usable hint. */
    public static Long seconds(MultiMap headers, Clock clock) {
        String ms = headers.get("retry-after-ms");
        if (ms != null) {
            try {
                long v = Long.parseLong(ms.trim());
                if (v >= 0) {
                    return Math.max(1, (v + 999) / 1000);
                }
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        String ra = headers.get("Retry-After");
        if (ra == null) {
            return null;
        }
        String v = ra.trim();
        try {
            return Math.max(1, Long.parseLong(v));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                long wait = Duration.between(clock.instant(), at.toInstant()).toMillis();
                return Math.max(1, (wait + 999) / 1000);
            } catch (RuntimeException notDate) {
                return null;
            }
        }
    }
}
