package com.cobalt.chat.limit;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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

    /**
     * Admits one message of the user inside another statement of the chat database, where the ledger keeps its rows
     * there ({@link #slotsInChatDatabase()}): {@code statement} places the admission's {@link AdmissionCall} in its
     * own SQL and runs it, so a chat's admission and its read of the session are one round trip. The user's
     * admissions keep the order {@link #admit} gives them; a slot admitted by a statement that then failed is freed.
     * Returns what the statement returns.
     */
    default <T> T admitWithin(String user, AdmittingStatement<T> statement) {
        // only a ledger whose rows are in the chat database can take part in its statements; the store asks for
        // this only where slotsInChatDatabase() said so
        throw new IllegalStateException("This ledger keeps its counts outside the chat database (slotsInChatDatabase"
                + " is false): it admits in statements of its own");
    }

    /** Periodic upkeep, every {@link #maintenanceInterval()}, off the event loop. */
    void maintain();

    Duration maintenanceInterval();

    /** At shutdown, after the streams ended. */
    @Override
    void close();

    /** A statement of the chat database that carries an admission ({@link #admitWithin}). */
    @FunctionalInterface
    interface AdmittingStatement<T> {
        T run(AdmissionCall admission) throws SQLException;
    }

    /** The admission's part of another statement: a row source to join, its parameters and its answer. */
    interface AdmissionCall {

        /** The admission as a row source of {@link #COLUMNS} columns, taking the user's id from {@code userColumn}. */
        String sql(String userColumn);

        /** Binds the call's parameters from index {@code first} on, for a new attempt; the next free index. */
        int bind(PreparedStatement statement, int first) throws SQLException;

        /**
         * The admission from the call's columns, the first at {@code first}: a 429 {@link ApiError} naming the limit
         * when it was refused.
         */
        Admission admission(ResultSet row, int first) throws SQLException;

        /** How many columns the row source has. */
        int COLUMNS = 5;
    }

    /** An admitted message: its stream slot, and the X-RateLimit-* headers for the minute limit. */
    record Admission(String slot, Map<String, String> headers) {
    }
}
