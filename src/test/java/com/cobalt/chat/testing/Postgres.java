package com.cobalt.chat.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import org.junit.jupiter.api.Assumptions;

/**
 * The machine's PostgreSQL for the tests of the shared-database setup. {@code .ci/run} creates a throw-away database
 * and names it in COBALT_TEST_PG_URL; without it the tests use the {@code test} database on 127.0.0.1:5432. Each
 * test class works in a schema of its own, dropped afterwards. Where no PostgreSQL answers, the tests that need it
 * are skipped (reported as skipped, never as passed).
 */
public final class Postgres {

    public static final String URL = env("COBALT_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    public static final String USER = env("COBALT_TEST_PG_USER", "postgres");
    private static Boolean available;

    private Postgres() {
    }

    public static synchronized boolean available() {
        if (available == null) {
            DriverManager.setLoginTimeout(3);
            try (Connection c = DriverManager.getConnection(URL, USER, "")) {
                available = c.isValid(3);
            } catch (SQLException e) {
                available = false;
            }
        }
        return available;
    }

    /** Skips the calling test (or class) when PostgreSQL is not reachable. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(available(), "PostgreSQL is not reachable at " + URL);
    }

    /** A new, empty schema; {@link Schema#url()} is a JDBC URL that works in it. */
    public static Schema newSchema(String prefix) {
        assumeAvailable();
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "");
        execute("CREATE SCHEMA " + name);
        return new Schema(name);
    }

    /**
     * A login role (trust auth, no password) that is granted nothing: not the schemas {@link #newSchema} makes, nor
     * their tables. Roles belong to the whole server, so it is made once and kept.
     */
    public static String roleWithoutRights() {
        assumeAvailable();
        execute("DO $$ BEGIN CREATE ROLE cobalt_no_rights LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        return "cobalt_no_rights";
    }

    /** A login role the server lets open no connection at all (CONNECTION LIMIT 0); made once and kept. */
    public static String roleWithoutConnections() {
        assumeAvailable();
        execute("DO $$ BEGIN CREATE ROLE cobalt_no_connections LOGIN CONNECTION LIMIT 0;"
                + " EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        return "cobalt_no_connections";
    }

    private static void execute(String sql) {
        try (Connection c = DriverManager.getConnection(URL, USER, ""); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL: " + sql, e);
        }
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    public record Schema(String name) implements AutoCloseable {

        public String url() {
            return URL + (URL.contains("?") ? "&" : "?") + "currentSchema=" + name;
        }

        @Override
        public void close() {
            execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }
}
