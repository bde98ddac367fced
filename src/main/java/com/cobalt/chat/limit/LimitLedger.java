package com.cobalt.chat.limit;

import java.time.Duration;
import java.util.Map;

import com.cobalt.chat.http.ApiError;

/**
 * The per-user limits: CHAT_DAILY_MESSAGE_QUOTA messages per UTC day, CHAT_RATE_LIMIT_PER_MINUTE messages in any
 * sixty seconds, and CHAT_MAX_CONCURRENT_STREAMS streams at once. {@link SharedLimitLedger} holds them across
 * instances that share PostgreSQL; {@link LocalLimitLedger} holds them for a gateway that is alone on its database.
 */
public interface LimitLedger extends AutoCloseable {

    /**
     * Admits one message of the user, or throws a 429 {@link ApiError} naming the limit, with Retry-After. An
     * admitted message is counted and holds a stream slot until {@link #release(String)}.
     */
    Admission admit(String user);

    /** Frees the stream slot of an admitted message; a slot already freed is left alone. */
    void release(String slot);

    /**
     * Whether a slot's row lives in the chat database, where the answer's own statement can delete it
     * ({@code ChatStore.saveAnswer}): then the end of a chat is one round trip, not two. Only the shared ledger on
     * PostgreSQL.
     */
    default boolean slotsInChatDatabase() {
        return false;
    }

    /** The slot's row went with the answer's statement: what this instance still keeps of it goes too. */
    default void freedWithAnswer(String slot) {
        release(slot);
    }

    /** Periodic upkeep, every {@link #maintenanceInterval()}, off the event loop. */
    void maintain();

    Duration maintenanceInterval();

    /** At shutdown, after the streams ended. */
    @Override
    void close();

    /** An admitted message: its stream slot, and the X-RateLimit-* headers for the minute limit. */
    record Admission(String slot, Map<String, String> headers) {
    }
}
