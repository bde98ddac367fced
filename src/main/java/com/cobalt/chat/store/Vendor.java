package com.cobalt.chat.store;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

/**
 * The two databases the gateway runs on, told apart in this one place: the embedded H2 (one instance, the default)
 * and PostgreSQL (several instances sharing state). Where they differ, PostgreSQL gets statements that save round
 * trips (one statement per admission, per stored message) and commits that need not wait for the disk; the embedded
 * H2, where a round trip is a method call, runs the portable statements.
 */
public enum Vendor {
    H2("h2"), POSTGRESQL("postgresql");

    private final String migrations;

    Vendor(String migrations) {
        this.migrations = migrations;
    }

    /** The folder of this database's own Flyway migrations, under {@code db/vendor}. */
    public String migrations() {
        return migrations;
    }

    public static Vendor ofUrl(String jdbcUrl) {
        return jdbcUrl.startsWith("jdbc:postgresql:") ? POSTGRESQL : H2;
    }

    /** From the driver's product name: no round trip to the server. */
    public static Vendor of(Connection c) throws SQLException {
        return "PostgreSQL".equals(c.getMetaData().getDatabaseProductName()) ? POSTGRESQL : H2;
    }

    public static Vendor of(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return of(c);
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
    }
}
