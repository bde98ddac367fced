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
            c.setAutoCommit(true);
            return result;
        } catch (SQLException | RuntimeException e) {
            // the failure is what the caller learns: on a broken connection the rollback and the reset fail too,
            // and their "connection is closed" must not hide why (a lost connection, SQLState 08xxx)
            try {
                c.rollback();
                c.setAutoCommit(true);
            } catch (SQLException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }
}
