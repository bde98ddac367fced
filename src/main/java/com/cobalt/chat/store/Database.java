package com.cobalt.chat.store;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

/** The connection pool (HikariCP) with the schema brought up to date by Flyway before first use. */
public final class Database implements AutoCloseable {

    private final HikariDataSource dataSource;

    /** How long a request waits for a connection by default (Hikari's own default is 30 s). */
    public static final int CONNECTION_TIMEOUT_MS = 5000;
    /** A PostgreSQL statement's read from the network is bounded by this unless the URL sets socketTimeout. */
    static final int SOCKET_TIMEOUT_SECONDS = 30;

    public Database(String url, String user, String password, int poolSize) {
        this(url, user, password, poolSize, CONNECTION_TIMEOUT_MS);
    }

    /**
     * @param connectionTimeoutMs how long a request waits for a pooled connection (CHAT_DB_CONNECTION_TIMEOUT_MS):
     *                            with the database out of reach the request fails then, as 503 database_unavailable,
     *                            rather than after Hikari's default of 30 s
     */
    public Database(String url, String user, String password, int poolSize, int connectionTimeoutMs) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(h2Settings(url));
        config.setUsername(user);
        config.setPassword(password == null ? "" : password);
        config.setMaximumPoolSize(poolSize);
        config.setConnectionTimeout(connectionTimeoutMs);
        if (url.startsWith("jdbc:postgresql:") && !url.toLowerCase(java.util.Locale.ROOT).contains("sockettimeout")) {
            // the driver waits for a reply forever by default: a database cut off without a reset (a network
            // partition) would hold a request, and its connection, as long as the partition lasts
            config.addDataSourceProperty("socketTimeout", String.valueOf(SOCKET_TIMEOUT_SECONDS));
        }
        config.setPoolName("cobalt-chat-db");
        // an embedded H2 file gets a pool that stays closed once H2 closed the database after a failed write
        this.dataSource = EmbeddedFilePool.of(config, url);
        // the shared migrations, then the database's own (PostgreSQL: the shared limits' admission function)
        Flyway.configure().dataSource(dataSource)
                .locations("classpath:db/migration", "classpath:db/vendor/" + Vendor.ofUrl(url).migrations()).load().migrate();
    }

    /**
     * Three H2 settings the gateway needs, unless the URL sets them itself:
     * <ul>
     * <li>DB_CLOSE_ON_EXIT=FALSE: H2 closes its databases from its own JVM shutdown hook, while the streams still in
     * their grace period need to store their answers; the pool is closed last instead (GatewayLifecycle).</li>
     * <li>QUERY_CACHE_SIZE=64: each H2 connection keeps its parsed statements in an LRU cache of 8 by default, but a
     * chat through the session API runs 9 different statements on any pooled connection in turn, so every one was
     * evicted just before its next use and parsed again, every time (bench/README.md).</li>
     * <li>TRACE_LEVEL_FILE=0: H2 otherwise writes every failed statement, with its SQL and values, to a
     * {@code .trace.db} file next to the database - message text and user ids in a file nobody rotates.</li>
     * </ul>
     */
    static String h2Settings(String url) {
        if (!url.startsWith("jdbc:h2:")) {
            return url;
        }
        String upper = url.toUpperCase(java.util.Locale.ROOT);
        String settings = url;
        if (!upper.contains("DB_CLOSE_ON_EXIT")) {
            settings += ";DB_CLOSE_ON_EXIT=FALSE";
        }
        if (!upper.contains("QUERY_CACHE_SIZE")) {
            settings += ";QUERY_CACHE_SIZE=64";
        }
        if (!upper.contains("TRACE_LEVEL_FILE")) {
            settings += ";TRACE_LEVEL_FILE=0";
        }
        return settings;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * The pool's own meters ({@code hikaricp_connections_active}, {@code _pending}, {@code _timeout_total}, ...,
     * labelled {@code pool="cobalt-chat-db"}) into the registry: a saturated or starved pool is seen before requests
     * fail with database_unavailable. Once.
     */
    public void meterInto(io.micrometer.core.instrument.MeterRegistry registry) {
        dataSource.setMetricsTrackerFactory(
                new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry));
    }

    @Override
    public void close() {
        dataSource.close();
    }

    /**
     * Whether a failure is the database being out of reach rather than a fault of the request or the gateway: no
     * pooled connection in time (Hikari's SQLTransientConnectionException), a connection exception (SQLState class
     * 08), PostgreSQL shutting down or restarting (57P01-57P03), the socket itself (refused, timed out), or the
     * database's own storage: a statement that failed on an I/O error (the embedded H2's file could not be written,
     * e.g. a full disk) and the embedded H2 closed after one (90098).
     */
    public static boolean outOfReach(Throwable t) {
        boolean underStatement = false;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLTransientConnectionException || c instanceof java.net.ConnectException
                    || c instanceof java.net.SocketTimeoutException) {
                return true;
            }
            if (underStatement && c instanceof java.io.IOException) {
                return true;
            }
            if (c instanceof java.sql.SQLException sql) {
                underStatement = true;
                String state = sql.getSQLState();
                if (state != null && (state.startsWith("08") || state.matches("57P0[123]")
                        || EmbeddedFilePool.H2_DATABASE_CLOSED.equals(state))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code ", SQLState xxxxx"} for the first database failure in the chain, or "": it names the cause without
     * quoting any data, as an exception's message can (SQL, values).
     */
    public static String sqlState(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
                return ", SQLState " + sql.getSQLState();
            }
        }
        return "";
    }
}
