package com.cobalt.chat.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The newest messages of the sessions chatted in lately, kept in this instance's memory so that a chat does not read
 * its history from the database again: on the embedded H2 that read was most of a session chat's database work (a
 * session's messages lie on pages shared with every other session's, and each one read decodes a whole page).
 *
 * <p>Exact across instances: every copy is labelled with the session's {@code history_version} (V17), which each
 * write of a message adds one to in the message's own transaction. A chat reads that number with the session's row
 * and uses the copy only when the number is the one it was copied at; otherwise it reads the messages from the
 * database as before and copies them. This instance's own writes keep the copy current: a write whose new version is
 * the copy's plus one is the only change since the copy, so the message is put in its place (by {@code seq}); any other
 * version means someone else wrote too, and the copy is dropped.
 *
 * <p>What a copy holds: the newest messages of the session, newest first, down to some {@code seq}, every message
 * whose state can change the context at or above it ({@link #wrote}: a user's message and a finished answer; an
 * answer's streaming checkpoints do not count, nor do they change a context). Below that the database is read as
 * before. Bounded by an approximate size in bytes (CHAT_HISTORY_CACHE_MB; Caffeine evicts the least used) and
 * dropped after {@link #IDLE} without a chat. Caffeine: bounded by weight, concurrent, with atomic per-key updates,
 * which a map would have to re-make.
 */
final class SessionHistoryCache {

    /** A session not chatted in for this long leaves memory. */
    static final Duration IDLE = Duration.ofMinutes(10);

    /**
     * What a chat reads of a session's own row besides its version: the owner, the system prompt, the model and the
     * A/B variant, none of which changes after the session is created.
     */
    record Head(String userId, String systemPrompt, String model, String variant) {
    }

    /**
     * One session's copy: immutable, so a chat that took it keeps a consistent view while others replace it. Its
     * {@code head} is the session's row as read with the messages.
     */
    record Copy(long version, List<StoredMessage> newestFirst, boolean whole, Head head) {

        /**
         * Roughly the bytes this copy keeps alive: a message's text a byte a character (Java keeps Latin-1 text so;
         * other text takes two) and ~120 bytes of its own (the objects, its exchange id).
         */
        int weight() {
            long bytes = 64;
            for (StoredMessage m : newestFirst) {
                bytes += 120 + (m.content() == null ? 0 : m.content().length());
            }
            return (int) Math.min(Integer.MAX_VALUE, bytes);
        }
    }

    private final Cache<String, Copy> copies;
    private final int rows;
    private final LongAdder fromCopy = new LongAdder();
    private final LongAdder fromDatabase = new LongAdder();

    /**
     * @param maxBytes how much memory the copies may take (approximately); 0 keeps none
     * @param rows     how many messages a copy keeps (enough for a context and the answers' questions)
     */
    SessionHistoryCache(long maxBytes, int rows) {
        this.rows = rows;
        this.copies = maxBytes <= 0 || rows <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String session, Copy copy) -> copy.weight())
                .expireAfterAccess(IDLE)
                // upkeep on the calling thread, not a wake-up of the common pool per write (see Authenticator)
                .executor(Runnable::run)
                .build();
    }

    /** The copy of a session, whatever its version (the caller compares it with the database's), or null. */
    Copy copyOf(String sessionId) {
        return copies == null ? null : copies.getIfPresent(sessionId);
    }

    /** The newest page of a session's messages as read from the database at {@code version}, with its row's head. */
    void read(String sessionId, Head head, long version, List<StoredMessage> newestFirst, boolean whole) {
        if (copies == null) {
            return;
        }
        List<StoredMessage> kept = newestFirst.size() > rows ? newestFirst.subList(0, rows) : newestFirst;
        Copy copy = new Copy(version, List.copyOf(kept), whole && kept.size() == newestFirst.size(), head);
        // a reader that read before a newer write must not put its older copy over the newer one
        copies.asMap().merge(sessionId, copy, (old, mine) -> old.version() >= mine.version() ? old : mine);
    }

    /**
     * This instance stored {@code message} in the session and the session's version became {@code version} in the same
     * transaction (committed).
     */
    void wrote(String sessionId, long version, StoredMessage message) {
        if (copies == null) {
            return;
        }
        copies.asMap().computeIfPresent(sessionId, (id, copy) -> {
            if (copy.version() >= version) {
                return copy; // read after this write
            }
            return copy.version() == version - 1 ? with(copy, version, message) : null;
        });
    }

    /** A chat's history came from a copy ({@code true}) or from the database. */
    void counted(boolean copy) {
        (copy ? fromCopy : fromDatabase).increment();
    }

    /** Chats whose history came from a copy (the metric chat_history_reads_total{source="copy"}). */
    long readsFromCopies() {
        return fromCopy.sum();
    }

    /** Chats whose history was read from the database. */
    long readsFromDatabase() {
        return fromDatabase.sum();
    }

    /** The session was deleted. */
    void forget(String sessionId) {
        if (copies != null) {
            copies.invalidate(sessionId);
        }
    }

    /** The copy with {@code message} in its place by seq (replacing a checkpoint's row of the same seq). */
    private Copy with(Copy copy, long version, StoredMessage message) {
        List<StoredMessage> old = copy.newestFirst();
        if (!copy.whole() && !old.isEmpty() && message.seq() < old.get(old.size() - 1).seq()) {
            return new Copy(version, old, false, copy.head()); // below what the copy holds: the database has it
        }
        List<StoredMessage> next = new ArrayList<>(Math.min(old.size() + 1, rows));
        boolean placed = false;
        for (StoredMessage m : old) {
            if (!placed && message.seq() >= m.seq()) {
                next.add(message);
                placed = true;
                if (message.seq() == m.seq()) {
                    continue;
                }
            }
            next.add(m);
        }
        if (!placed) {
            next.add(message);
        }
        boolean whole = copy.whole();
        if (next.size() > rows) {
            next = next.subList(0, rows);
            whole = false;
        }
        return new Copy(version, List.copyOf(next), whole, copy.head());
    }
}
