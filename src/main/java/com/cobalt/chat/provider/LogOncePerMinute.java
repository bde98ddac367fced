package com.cobalt.chat.provider;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Per provider (or other key), whether a line about an expected, repeated event (its pool full, its 429s, a JWKS key
 * that cannot be used) may be logged now: the first time, then at most once a minute, so a burst writes one line, not
 * one per chat. Says how many were held back since the last line written.
 */
public final class LogOncePerMinute {

    static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** Per provider: when its last line was written, and how many were held back since. */
    private final ConcurrentMap<String, long[]> last = new ConcurrentHashMap<>();

    /** -1: hold this one back; else log it, and this many were held back since the last line (0 the first time). */
    public long heldBackOrMinusOne(String provider) {
        long now = System.nanoTime();
        long[] entry = last.computeIfAbsent(provider, p -> new long[] {now - EVERY_NANOS, 0});
        synchronized (entry) {
            if (now - entry[0] < EVERY_NANOS) {
                entry[1]++;
                return -1;
            }
            long heldBack = entry[1];
            entry[0] = now;
            entry[1] = 0;
            return heldBack;
        }
    }
}
