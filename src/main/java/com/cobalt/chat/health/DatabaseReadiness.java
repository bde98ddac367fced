package com.cobalt.chat.health;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.cobalt.chat.store.EmbeddedFilePool;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness: this instance can reach its database. A thread of its own runs a statement on a pooled connection every
 * few seconds; the check reports the last answer, so a health request (served on the management server's event
 * loop) never waits on JDBC. DOWN when the last probe failed or none succeeded recently.
 */
public final class DatabaseReadiness extends AbstractHealthCheck implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DatabaseReadiness.class);
    static final long PROBE_EVERY_MS = 2000;
    static final long STALE_AFTER_MS = 10_000;

    private final DataSource dataSource;
    private final ScheduledExecutorService prober;
    private volatile long lastOkNanos;
    private volatile String lastFailure = "not probed yet";

    public DatabaseReadiness(DataSource dataSource) {
        super("gateway", "database");
        this.dataSource = dataSource;
        probe();
        this.prober = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cobalt-db-probe");
            t.setDaemon(true);
            return t;
        });
        prober.scheduleWithFixedDelay(this::probe, PROBE_EVERY_MS, PROBE_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * A statement, not only the driver's validity check: an embedded H2 that closed its database after a failed write
     * (a full disk) leaves connections that pass {@code isValid} while every statement fails. Its pool then stays
     * closed until a test write beside the file succeeds ({@link EmbeddedFilePool#reopenIfWritable}, asked here).
     */
    void probe() {
        if (dataSource instanceof EmbeddedFilePool pool && !pool.reopenIfWritable()) {
            fail("the embedded database was closed after a write to its file failed; its folder takes no writes");
            return;
        }
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(2);
            s.execute("SELECT 1");
            lastOkNanos = System.nanoTime();
            lastFailure = null;
        } catch (Exception e) {
            fail(e.getClass().getSimpleName());
        }
    }

    private void fail(String why) {
        if (lastFailure == null) {
            LOG.warn("The database is not reachable ({}): not ready", why);
        }
        lastFailure = why;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long ageMs = lastOkNanos == 0 ? Long.MAX_VALUE : (System.nanoTime() - lastOkNanos) / 1_000_000;
        if (lastFailure == null && ageMs <= STALE_AFTER_MS) {
            builder.up();
        } else {
            builder.message("database not reachable: " + (lastFailure == null ? "no recent probe" : lastFailure));
            builder.down();
        }
    }

    @Override
    public void close() {
        prober.shutdownNow();
    }
}
