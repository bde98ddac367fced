package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One JDBC transaction on a connection: committed when the work returns, rolled back when it throws. (On
 * PostgreSQL the writes whose commit need not wait for the disk are single statements that say so themselves with
 * {@code set_config('synchronous_commit', 'off', true)}: ChatStore's answer, the shared ledger's admission and
 * release.)
 */
public final class Transactions {

    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Transactions() {
    }

    /** The connection is back in autocommit mode afterwards, as the pool handed it out. */
    public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
