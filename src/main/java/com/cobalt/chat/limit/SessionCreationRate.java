package com.cobalt.chat.limit;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import com.cobalt.chat.http.ApiError;
import org.apache.camel.Variable;

/**
 * How many sessions one user may create in any sixty seconds (CHAT_SESSION_CREATE_RATE_PER_MINUTE): more is a 429
 * {@code session_rate_limit_exceeded} with Retry-After. Creations count whether or not the session was deleted
 * since, so creating and deleting in a loop is limited too. Counted by each instance for itself (a guard against
 * one runaway client, not a quota): behind a balancer a user gets at most this many per instance. A user's entry
 * goes once its window is empty, so memory follows the users who created sessions in the last minute.
 */
public class SessionCreationRate {

    static final long WINDOW_MS = 60_000;
    /** Every this many admissions the users with an empty window are dropped (a power of two). */
    static final int SWEEP_EVERY = 1024;

    private final int perMinute;
    private final Clock clock;
    private final Map<String, ArrayDeque<Long>> recent = new ConcurrentHashMap<>();
    private final AtomicLong admissions = new AtomicLong();

    public SessionCreationRate(int perMinute, Clock clock) {
        this.perMinute = perMinute;
        this.clock = clock;
    }

    /** The session-create route's step before the session is stored. */
    public void admit(@Variable("user") String user) {
        if ((admissions.incrementAndGet() & (SWEEP_EVERY - 1)) == 0) {
            forgetIdle();
        }
        long now = clock.millis();
        long[] retryAfterMs = {0};
        recent.compute(user, (u, times) -> {
            ArrayDeque<Long> t = times == null ? new ArrayDeque<>() : times;
            while (!t.isEmpty() && t.peekFirst() <= now - WINDOW_MS) {
                t.pollFirst();
            }
            if (t.size() >= perMinute) {
                retryAfterMs[0] = t.peekFirst() + WINDOW_MS - now;
            } else {
                t.addLast(now);
            }
            return t;
        });
        if (retryAfterMs[0] > 0) {
            long seconds = Math.max(1, (retryAfterMs[0] + 999) / 1000);
            throw new ApiError(429, "session_rate_limit_exceeded", "At most " + perMinute
                    + " new sessions a minute; retry in " + seconds + " s", Map.of("Retry-After", String.valueOf(seconds)));
        }
    }

    /** Drops the users with no creation in the window, each atomically with its own admissions. */
    void forgetIdle() {
        long now = clock.millis();
        for (String user : recent.keySet()) {
            recent.computeIfPresent(user, (u, t) -> {
                while (!t.isEmpty() && t.peekFirst() <= now - WINDOW_MS) {
                    t.pollFirst();
                }
                return t.isEmpty() ? null : t;
            });
        }
    }

    int usersInMemory() {
        return recent.size();
    }
}
