package com.cobalt.chat.limit;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.http.ApiError;

/** The three limits and the answers they give: the refusals in the order they are checked, and the headers. */
public record LimitRules(int perMinute, int perDay, int maxStreams) {

    static final Duration MINUTE = Duration.ofMinutes(1);
    /** Accepted messages older than this count for no limit any more; both ledgers delete them. */
    static final Duration KEPT = Duration.ofDays(2);

    /** The daily quota, then the minute limit: a 429 naming the first one reached. */
    void checkDayAndMinute(Instant now, long today, long inWindow, long resetSeconds) {
        if (today >= perDay) {
            Instant nextDay = dayStart(now).plus(Duration.ofDays(1));
            // nothing can be sent before the next day: the minute's headers say so too, not the minute's spare room
            long untilTomorrow = secondsUntil(now, nextDay);
            throw refusal("daily_quota_exceeded", "The daily quota of " + perDay + " messages is used up",
                    untilTomorrow, perMinute, untilTomorrow);
        }
        if (inWindow >= perMinute) {
            throw refusal("rate_limit_exceeded", "More than " + perMinute + " messages in a minute", resetSeconds,
                    inWindow, resetSeconds);
        }
    }

    /** Checked last, once the message would be counted: a stream slot frees up within seconds, hence Retry-After 1. */
    void checkStreams(long streams, long inWindow, long resetSeconds) {
        if (streams >= maxStreams) {
            throw refusal("concurrent_streams_exceeded", "More than " + maxStreams + " answers streaming at once",
                    1, inWindow, resetSeconds);
        }
    }

    /**
     * The headers of an admitted message, {@code today} and {@code inWindow} counted before it: when it uses up the
     * daily quota nothing more can be sent today, so they say 0 until midnight UTC, as a refusal would, not the
     * minute's spare room.
     */
    Map<String, String> admittedHeaders(Instant now, long today, long inWindow, long resetSeconds) {
        if (today + 1 >= perDay) {
            return headers(0, secondsUntil(now, dayStart(now).plus(Duration.ofDays(1))));
        }
        return headers(perMinute - inWindow - 1, resetSeconds);
    }

    /** X-RateLimit-Limit / Remaining / Reset (delta seconds) for the minute limit. */
    Map<String, String> headers(long remaining, long resetSeconds) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-RateLimit-Limit", String.valueOf(perMinute));
        headers.put("X-RateLimit-Remaining", String.valueOf(Math.max(0, remaining)));
        headers.put("X-RateLimit-Reset", String.valueOf(resetSeconds));
        return headers;
    }

    private ApiError refusal(String code, String message, long retryAfter, long inWindow, long resetSeconds) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Retry-After", String.valueOf(retryAfter));
        headers.putAll(headers(perMinute - inWindow, resetSeconds));
        return new ApiError(429, code, message, headers);
    }

    /** The start of the UTC day of {@code now}: the daily quota counts from there. */
    static Instant dayStart(Instant now) {
        return now.atOffset(ZoneOffset.UTC).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /** Whole seconds until {@code until}, rounded up: at least one. */
    static long secondsUntil(Instant now, Instant until) {
        long ms = Duration.between(now, until).toMillis();
        return Math.max(1, (ms + 999) / 1000);
    }
}
