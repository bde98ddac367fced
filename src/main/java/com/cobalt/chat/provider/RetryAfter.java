package com.cobalt.chat.provider;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import io.vertx.core.MultiMap;

/**
 * Reads a provider's back-off hint: {@code retry-after-ms} (Azure) or {@code Retry-After} in seconds or as a date; on a
 * 429 with neither, OpenAI's {@code x-ratelimit-reset-requests} / {@code x-ratelimit-reset-tokens} (durations such as
 * {@code 1s}, {@code 6m0s}, {@code 20ms}, {@code 1h2m3.5s}; the later of the two when both are there).
 */
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
     * The hint of an answer with this status, cut like {@link #seconds(MultiMap, Clock, long)}. A 429 without
     * {@code retry-after-ms} or {@code Retry-After} is read from OpenAI's rate limit reset headers: OpenAI (and the
     * servers copying its headers) sends no Retry-After on a 429, only when its request and token budgets fill up
     * again. Only a 429's: OpenAI sends these headers on every answer, and a 500's would read as "wait" where the
     * 500 should be retried.
     */
    public static Long seconds(int status, MultiMap headers, Clock clock, long maxSeconds) {
        Long s = seconds(headers, clock);
        if (s == null && status == 429) {
            s = rateLimitReset(headers);
        }
        return s == null ? null : Math.min(s, maxSeconds);
    }

    /**
     * The larger of {@code x-ratelimit-reset-requests} and {@code x-ratelimit-reset-tokens} in whole seconds (rounded
     * up, at least 1), or null when neither is a readable duration (an unreadable one is ignored, not "no wait").
     */
    static Long rateLimitReset(MultiMap headers) {
        Long requests = duration(headers.get("x-ratelimit-reset-requests"));
        Long tokens = duration(headers.get("x-ratelimit-reset-tokens"));
        if (requests == null && tokens == null) {
            return null;
        }
        long ms = requests == null ? tokens : tokens == null ? requests : Math.max(requests, tokens);
        return Math.max(1, ms / 1000 + (ms % 1000 == 0 ? 0 : 1));
    }

    /**
     * A Go duration as OpenAI writes it ({@code 1h2m3.5s}, {@code 20ms}, {@code 0s}) in milliseconds rounded up, or
     * null when it is not one (a bare number has no unit: it is not guessed at). Past a long's range it is
     * Long.MAX_VALUE, like a Retry-After too long to count: the longest wait, then the cap.
     */
    static Long duration(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        if (v.isEmpty() || v.length() > 100) {
            return null;
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        while (i < v.length()) {
            int start = i;
            while (i < v.length() && (Character.isDigit(v.charAt(i)) || v.charAt(i) == '.')) {
                i++;
            }
            if (i == start || i == v.length()) {
                return null;
            }
            BigDecimal number;
            try {
                number = new BigDecimal(v.substring(start, i));
            } catch (NumberFormatException notANumber) {
                return null;
            }
            int unitStart = i;
            while (i < v.length() && !Character.isDigit(v.charAt(i)) && v.charAt(i) != '.') {
                i++;
            }
            long unit = switch (v.substring(unitStart, i)) {
                case "h" -> 3_600_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "s" -> 1_000_000_000L;
                case "ms" -> 1_000_000L;
                case "us", "\u00b5s", "\u03bcs" -> 1_000L;
                case "ns" -> 1L;
                default -> -1L;
            };
            if (unit < 0) {
                return null;
            }
            nanos = nanos.add(number.multiply(BigDecimal.valueOf(unit)));
        }
        BigDecimal ms = nanos.divide(BigDecimal.valueOf(1_000_000L), 0, RoundingMode.CEILING);
        return ms.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0 ? Long.MAX_VALUE : ms.longValue();
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
