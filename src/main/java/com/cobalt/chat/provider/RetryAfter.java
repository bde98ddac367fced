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

    /**
     * Digits only (RFC 9110's delay-seconds): their value, Long.MAX_VALUE when past it - a delay too long to count
     * is the longest, not no hint (the probe's Retry-After of twenty nines was read as none: no cooldown at all).
     */
    private static Long wholeNumber(String v) {
        if (v.isEmpty() || v.length() > 1000) {
            return null;
        }
        for (int i = 0; i < v.length(); i++) {
            if (v.charAt(i) < '0' || v.charAt(i) > '9') {
                return null;
            }
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** Whole seconds to wait (rounded up, at least 1), or null when the answer carried no usable hint. */
    public static Long seconds(MultiMap headers, Clock clock) {
        String ms = headers.get("retry-after-ms");
        if (ms != null) {
            Long v = wholeNumber(ms.trim());
            if (v != null) {
                return Math.max(1, v / 1000 + (v % 1000 == 0 ? 0 : 1));
            }
            // else fall through to Retry-After
        }
        String ra = headers.get("Retry-After");
        if (ra == null) {
            return null;
        }
        String v = ra.trim();
        Long delay = wholeNumber(v);
        if (delay != null) {
            return Math.max(1, delay);
        }
        try {
            ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
            long wait = Duration.between(clock.instant(), at.toInstant()).toMillis();
            return Math.max(1, (wait + 999) / 1000);
        } catch (RuntimeException notDate) {
            return null;
        }
    }
}
