package com.cobalt.chat.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import org.h2.store.fs.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool of an embedded H2 file database. When a write to its file fails (a full disk, a folder no longer
 * writable), H2 closes the database: every statement on the pool's connections then fails with SQLState
 * {@value #H2_DATABASE_CLOSED} while the connections still pass their validity check, and a fresh connection would
 * open the file again and accept writes that are lost at the next failed write (crash probe, 2026-12-05: 500s until a
 * restart, readiness UP; letting connections reopen it made session creates succeed and vanish while the disk was
 * full). So once a statement shows that H2 closed the database, the pool refuses connections at once
 * (SQLTransientConnectionException: 503 database_unavailable), and only {@link #reopenIfWritable}, which the readiness
 * probe calls every few seconds, lets it be opened again: after a write of {@value #PROBE_BYTES} bytes and its flush
 * to a file beside the database succeeded.
 */
public final class EmbeddedFilePool extends HikariDataSource {

    /** H2's "The database has been closed" (ErrorCode.DATABASE_IS_CLOSED). */
    public static final String H2_DATABASE_CLOSED = "90098";
    static final int PROBE_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedFilePool.class);

    private final String probeFile;
    private volatile boolean closedByH2;

    private EmbeddedFilePool(HikariConfig config, String probeFile) {
        super(config);
        this.probeFile = probeFile;
    }

    /** The pool for {@code url}: this one for an embedded H2 file database, Hikari's own for anything else. */
    static HikariDataSource of(HikariConfig config, String url) {
        String file = embeddedFile(url);
        if (file == null) {
            return new HikariDataSource(config);
        }
        Observer observer = new Observer();
        config.setExceptionOverride(observer);
        EmbeddedFilePool pool = new EmbeddedFilePool(config, file + ".writable-probe");
        observer.pool = pool;
        return pool;
    }

    /**
     * The database's file name as H2's file system takes it ({@code /data/cobalt-chat}, {@code nio:/data/x}), or null
     * for anything that is not an embedded file database (memory, a server, AUTO_SERVER).
     */
    static String embeddedFile(String url) {
        if (url == null || !url.startsWith("jdbc:h2:")) {
            return null;
        }
        String rest = url.substring("jdbc:h2:".length());
        int settings = rest.indexOf(';');
        String name = settings < 0 ? rest : rest.substring(0, settings);
        String lower = url.toLowerCase(Locale.ROOT);
        if (name.startsWith("mem:") || name.startsWith("tcp:") || name.startsWith("ssl:")
                || lower.contains("auto_server=true")) {
            return null;
        }
        return name.startsWith("file:") ? name.substring("file:".length()) : name;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (closedByH2) {
            throw new SQLTransientConnectionException("The embedded database was closed after a write to its file"
                    + " failed", "08001");
        }
        return super.getConnection();
    }

    /** Whether H2 closed the database and the pool has not opened it again. */
    public boolean closedByH2() {
        return closedByH2;
    }

    /**
     * While H2 has the database closed: a test write beside it, and when it reaches the disk the pool's connections
     * are replaced (the next one opens the file again). True when the pool serves.
     */
    public boolean reopenIfWritable() {
        if (!closedByH2) {
            return true;
        }
        try {
            try (FileChannel probe = FileUtils.open(probeFile, "rw")) {
                ByteBuffer zeros = ByteBuffer.allocate(PROBE_BYTES);
                while (zeros.hasRemaining()) {
                    probe.write(zeros);
                }
                probe.force(true);
            } finally {
                FileUtils.tryDelete(probeFile);
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (getHikariPoolMXBean() != null) {
            getHikariPoolMXBean().softEvictConnections();
        }
        closedByH2 = false;
        LOG.warn("The embedded database's folder takes writes again: the database is opened anew");
        return true;
    }

    private void closed() {
        if (!closedByH2) {
            closedByH2 = true;
            LOG.error("The embedded database was closed after a write to its file failed (a full disk, or a folder"
                    + " the gateway may no longer write): database requests get 503 database_unavailable until a"
                    + " test write beside the file succeeds (tried every few seconds)");
        }
    }

    /**
     * Sees every SQLException thrown on the pool's connections. A closed database (90098), or a statement that failed
     * on an I/O error of the store (the first one after the failed write), closes the pool. Eviction is left to Hikari
     * ({@link #reopenIfWritable} replaces every connection), whose own warning would print the JDBC URL.
     */
    private static final class Observer implements SQLExceptionOverride {

        private volatile EmbeddedFilePool pool;

        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException e) {
            EmbeddedFilePool p = pool;
            if (p != null && storeFailed(e)) {
                p.closed();
            }
            return SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    static boolean storeFailed(SQLException e) {
        if (H2_DATABASE_CLOSED.equals(e.getSQLState())) {
            return true;
        }
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
