package com.cobalt.chat.store;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

/** The connection pool (HikariCP) with the schema brought up to date by Flyway before first use. */
public final class Database implements AutoCloseable {

    private final HikariDataSource dataSource;

    public Database(String url, String user, String password, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(h2Settings(url));
        config.setUsername(user);
        config.setPassword(password == null ? "" : password);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("cobalt-chat-db");
        this.dataSource = new HikariDataSource(config);
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

    @Override
    public void close() {
        dataSource.close();
    }
}
