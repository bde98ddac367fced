package com.cobalt.chat.limit;

import java.time.Instant;
import java.util.Arrays;

/**
 * The accepted times of one user's messages in the last minute, oldest first, as epoch microseconds in a ring that
 * grows by doubling: no object per message. A user allowed thousands of messages a minute (a service account with a
 * raised limit) kept as many {@link Instant}s alive for a minute, each copied by every young collection until it was
 * promoted. Not thread-safe: the ledger guards it with its user's lock.
 */
final class MinuteWindow {

    private long[] times = new long[4];
    private int head;
    private int size;

    static long micros(Instant at) {
        return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
    }

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    int size() {
        return size;
    }

    /** The i-th time, 0 being the oldest. */
    long get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException(i);
        }
        return times[(head + i) & (times.length - 1)];
    }

    /** Forgets the times at or before {@code micros} (they left the window). */
    void dropUpTo(long micros) {
        while (size > 0 && times[head] <= micros) {
            head = (head + 1) & (times.length - 1);
            size--;
        }
    }

    /** Adds {@code count} messages at {@code micros}, no earlier than the newest one there. */
    void add(long micros, long count) {
        if (size > 0 && micros < get(size - 1)) {
            throw new IllegalArgumentException("not in time order");
        }
        for (long n = 0; n < count; n++) {
            if (size == times.length) {
                grow();
            }
            times[(head + size) & (times.length - 1)] = micros;
            size++;
        }
    }

    private void grow() {
        long[] larger = new long[Math.multiplyExact(times.length, 2)];
        int first = Math.min(size, times.length - head);
        System.arraycopy(times, head, larger, 0, first);
        System.arraycopy(times, 0, larger, first, size - first);
        times = larger;
        head = 0;
    }

    @Override
    public String toString() {
        long[] copy = new long[size];
        Arrays.setAll(copy, this::get);
        return Arrays.toString(copy);
    }
}
