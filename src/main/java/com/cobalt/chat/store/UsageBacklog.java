package com.cobalt.chat.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.cobalt.chat.provider.LogOncePerMinute;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage rows the database could not take when their answer ended - it was out of reach for longer than
 * CHAT_DB_CONNECTION_TIMEOUT_MS (a restart, a failover, a network cut) - kept in memory and written once it is back,
 * so an outage does not lose what the providers billed: the usage report and the per-user cost would otherwise miss
 * every answer of the outage, though the callers were given them. A row holds the ledger's columns only, never the
 * answer's text.
 * <p>
 * One daemon thread, started with the first row, writes what waits every {@link #RETRY_EVERY_MS}, oldest first, in
 * blocks of {@link #BLOCK}; each write is an upsert on the row's id, so a row whose first write did commit (its
 * acknowledgement lost with the connection) or that the sweep of a lost instance estimated is not counted twice.
 * Bounded by {@link #MAX_ROWS}: past it a row is dropped and counted. What still waits when the gateway stops is
 * written once more, then logged as lost.
 */
public final class UsageBacklog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UsageBacklog.class);

    /** ~200 bytes each: at most ~20 MiB of heap, about half a minute of a busy instance's answers. */
    public static final int MAX_ROWS = 100_000;
    static final long RETRY_EVERY_MS = 1000;
    static final int BLOCK = 500;

    /** The values of one llm_usage row, in the order of ChatStore's usage statements. */
    record Row(Object[] values) {
    }

    /** Writes a block of rows in one transaction; throws when the database did not take them. */
    @FunctionalInterface
    interface Writer {
        void write(List<Row> rows) throws Exception;
    }

    private final Writer writer;
    private final int maxRows;
    private final ConcurrentLinkedQueue<Row> rows = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    /** One line a minute for each of the two: an outage writes one, not one per answer. */
    private final LogOncePerMinute warnings = new LogOncePerMinute();
    private ScheduledExecutorService retries;
    private boolean closed;
    /** The last write found the database out of reach: the stop does not wait for it once more. */
    private volatile boolean outOfReach;

    /** A block the database refuses for another reason than being out of reach is written row by row. */
    UsageBacklog(Writer writer, int maxRows) {
        this.writer = writer;
        this.maxRows = maxRows;
    }

    /** How many rows wait for the database now (the gauge chat_usage_rows_waiting). */
    public int waiting() {
        return waiting.get();
    }

    /** How many rows were dropped since the start: the backlog was full, or the database refused the row itself. */
    public long dropped() {
        return dropped.get();
    }

    void add(Object[] values) {
        if (waiting.incrementAndGet() > maxRows) {
            waiting.decrementAndGet();
            dropped.incrementAndGet();
            warn("dropped", "Usage rows are dropped: {} already wait for the database (the most kept); {} dropped so far",
                    maxRows, dropped.get());
            return;
        }
        rows.add(new Row(values));
        startRetries();
        warn("waiting", "The database is out of reach: usage rows wait in memory until it is back ({} now)", waiting.get());
    }

    private synchronized void startRetries() {
        if (retries != null || closed) {
            return;
        }
        retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cobalt-usage-backlog");
            t.setDaemon(true);
            return t;
        });
        retries.scheduleWithFixedDelay(this::writeWaitingQuietly, RETRY_EVERY_MS, RETRY_EVERY_MS,
                TimeUnit.MILLISECONDS);
    }

    private void writeWaitingQuietly() {
        try {
            writeWaiting();
        } catch (RuntimeException e) {
            // the next tick tries again; a scheduled task that throws would never run again
            LOG.warn("Usage rows waiting for the database: a write failed ({})", e.getClass().getSimpleName());
        }
    }

    /** Writes what waits, block by block; stops at the first block the database is still out of reach for. */
    int writeWaiting() {
        int written = 0;
        while (true) {
            List<Row> block = new ArrayList<>(Math.min(BLOCK, Math.max(1, waiting.get())));
            for (Row r : rows) {
                block.add(r);
                if (block.size() == BLOCK) {
                    break;
                }
            }
            if (block.isEmpty()) {
                break;
            }
            try {
                writer.write(block);
                outOfReach = false;
            } catch (Exception e) {
                if (Database.outOfReach(e)) {
                    outOfReach = true;
                    break; // the database is not back yet: the rows stay, in order
                }
                writeOneByOne(block);
            }
            for (int i = 0; i < block.size(); i++) {
                rows.poll(); // the block is the queue's head: this thread alone takes rows out
                waiting.decrementAndGet();
            }
            written += block.size();
        }
        if (written > 0) {
            LOG.info("Wrote {} usage row(s) that waited for the database; {} still wait", written, waiting.get());
        }
        return written;
    }

    /** The rows of a refused block, each alone: a row refused alone is dropped. */
    private void writeOneByOne(List<Row> block) {
        for (Row r : block) {
            try {
                writer.write(List.of(r));
            } catch (Exception e) {
                dropped.incrementAndGet();
                LOG.error("A usage row that waited for the database was refused and is dropped ({}{})",
                        e.getClass().getSimpleName(), Database.sqlState(e));
            }
        }
    }

    private void warn(String kind, String format, Object... args) {
        if (warnings.heldBackOrMinusOne(kind) >= 0) {
            LOG.warn(format, args);
        }
    }

    /**
     * Before the pool closes: no more retries; what waits is written once more - unless the last try found the
     * database out of reach, which would only hold the stop for another connection timeout - and what is left is
     * logged as lost.
     */
    @Override
    public void close() {
        ScheduledExecutorService running;
        synchronized (this) {
            closed = true;
            running = retries;
        }
        if (running == null) {
            return;
        }
        running.shutdown();
        try {
            running.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!outOfReach) {
            writeWaitingQuietly();
        }
        if (waiting.get() > 0) {
            LOG.error("{} usage row(s) waited for the database until the gateway stopped and are lost", waiting.get());
        }
    }
}
