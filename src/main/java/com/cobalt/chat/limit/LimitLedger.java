package com.cobalt.chat.limit;

import java.time.Duration;
import java.time.Instant;
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
     * Takes back an admission whose message turned out not to count (its session is not the caller's, it is too
     * long for the model): its slot is freed and the message is no longer counted, as if it had never been admitted.
     * Taking back one already taken back changes nothing.
     */
    void withdraw(String user, Admission admission);

    /**
     * Whether an admission waits for a database round trip: then chat-http runs it beside the read of the session
     * instead of after it ({@link UserLimits#start}).
     */
    boolean admitsInDatabase();

    /** Periodic upkeep, every {@link #maintenanceInterval()}, off the event loop. */
    void maintain();

    Duration maintenanceInterval();

    /** At shutdown, after the streams ended. */
    @Override
    void close();

    /**
     * An admitted message: its stream slot, the X-RateLimit-* headers for the minute limit, and the time it was
     * counted at (strictly increasing per user, so it names the message {@link #withdraw} takes back).
     */
    record Admission(String slot, Map<String, String> headers, Instant accepted) {
    }
}
