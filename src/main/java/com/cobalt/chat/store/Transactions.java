package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** One JDBC transaction on a connection: committed when the work returns, rolled back when it throws. */
public final class Transactions {

    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Transactions() {
    }

    /** The connection is back in autocommit mode afterwards, as the pool handed it out. */
    public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        return inTransaction(c, false, work);
    }

    /**
     * Like {@link #inTransaction(Connection, Work)}, but on PostgreSQL the commit does not wait for the write-ahead log
     * to reach the disk ({@code SET LOCAL synchronous_commit TO OFF}: this transaction only). For records written
     * after the client already has what they hold - a finished answer, its usage: the commit is visible at once and
     * survives any gateway crash; only a crash of the database server itself within a few hundred milliseconds
     * (3 x wal_writer_delay) can lose it. The embedded H2 never waits for the disk on commit (it writes in the
     * background), so there it is the same transaction.
     */
    public static <T> T inTransactionWithoutDiskWait(Connection c, Work<T> work) throws SQLException {
        return inTransaction(c, Vendor.of(c) == Vendor.POSTGRESQL, work);
    }

    private static <T> T inTransaction(Connection c, boolean withoutDiskWait, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            if (withoutDiskWait) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL synchronous_commit TO OFF");
                }
            }
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
