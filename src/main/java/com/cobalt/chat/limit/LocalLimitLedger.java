package com.cobalt.chat.limit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Transactions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user limits of a gateway that is alone on its database (embedded H2, which no other instance can open).
 * Nothing else can admit this instance's users, so the counts live in memory and each admission is decided under
 * the user's own lock in microseconds, with no database round trip: one busy user no longer queues every request
 * behind a transaction. Accepted messages are written to user_request in batches by one background writer
 * (every {@link #WRITE_EVERY}, and at shutdown), so the daily quota survives a restart; a crash loses at most the
 * last batch's count. A user's counts are read from the database the first time the user is seen.
 */
public class LocalLimitLedger implements LimitLedger {

    static final Duration WRITE_EVERY = Duration.ofMillis(200);
    private static final Logger LOG = LoggerFactory.getLogger(LocalLimitLedger.class);
    /** Accepted messages kept for a later batch while the database refuses writes; older ones are dropped. */
    private static final int MAX_UNWRITTEN = 1_000_000;
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    static final Duration WARN_EVERY = Duration.ofMinutes(1);

    private final DataSource dataSource;
    private final Clock clock;
    private final LimitRules rules;
    private final Map<String, UserCounts> users = new ConcurrentHashMap<>();
    private final Map<String, UserCounts> slots = new ConcurrentHashMap<>();
    private final AtomicLong slotIds = new AtomicLong();
    private final ConcurrentLinkedQueue<Accepted> unwritten = new ConcurrentLinkedQueue<>();
    /** Only the writer thread (or close, after it stopped) touches this: a batch the database refused. */
    private final List<Accepted> retry = new ArrayList<>();
    private final ScheduledExecutorService writer;
    /** Writer back-off after a failed write: only the writer thread touches these. */
    private int failedWrites;
    private long nextWriteNanos;
    private long lastWarningNanos;
    private int unwarnedFailures;
    /** Accepted messages the database refused as data (a value it cannot store): set aside, not retried. */
    private final AtomicLong setAside = new AtomicLong();

    public LocalLimitLedger(DataSource dataSource, Clock clock, LimitRules rules) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.rules = rules;
        this.writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cobalt-limits-writer");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleWithFixedDelay(this::writeQuietly, WRITE_EVERY.toMillis(), WRITE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public Admission admit(String user) {
        while (true) {
            UserCounts counts = users.get(user);
            if (counts == null) {
                UserCounts loaded = load(user);
                counts = users.putIfAbsent(user, loaded);
                if (counts == null) {
                    counts = loaded;
                }
            }
            synchronized (counts) {
                if (!counts.evicted) {
                    return admit(user, counts);
                }
            }
        }
    }

    /** Under the user's lock: the same checks, in the same order, as {@link SharedLimitLedger}. */
    private Admission admit(String user, UserCounts counts) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Instant dayStart = LimitRules.dayStart(now);
        if (!dayStart.equals(counts.dayStart)) {
            counts.dayStart = dayStart;
            counts.today = 0;
        }
        Instant windowStart = now.minus(LimitRules.MINUTE);
        while (!counts.window.isEmpty() && !counts.window.peekFirst().isAfter(windowStart)) {
            counts.window.removeFirst();
        }
        long inWindow = counts.window.size();
        Instant oldest = inWindow == 0 ? now : counts.window.peekFirst();
        long resetSeconds = LimitRules.secondsUntil(now, oldest.plus(LimitRules.MINUTE));
        rules.checkDayAndMinute(now, counts.today, inWindow, resetSeconds);
        rules.checkStreams(counts.streams, inWindow, resetSeconds);

        Instant accepted = counts.lastAccepted != null && !now.isAfter(counts.lastAccepted)
                ? counts.lastAccepted.plus(1, ChronoUnit.MICROS) : now;
        counts.lastAccepted = accepted;
        counts.lastSeq++;
        counts.today++;
        counts.streams++;
        counts.window.addLast(accepted);
        unwritten.add(new Accepted(user, accepted, counts.lastSeq));
        String slot = Long.toString(slotIds.incrementAndGet());
        slots.put(slot, counts);
        return new Admission(slot, rules.headers(rules.perMinute() - inWindow - 1, resetSeconds));
    }

    @Override
    public void release(String slot) {
        UserCounts counts = slot == null ? null : slots.remove(slot);
        if (counts != null) {
            synchronized (counts) {
                counts.streams--;
            }
        }
    }

    /**
     * Writes what is pending, drops accepted messages older than two days, and forgets users who have not sent
     * anything since yesterday (their counts start from zero anyway, and reading them again costs one query).
     */
    @Override
    public void maintain() {
        Instant now = clock.instant();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM user_request WHERE accepted_at < ?")) {
            ps.setObject(1, now.minus(LimitRules.KEPT).atOffset(ZoneOffset.UTC));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
        Instant dayStart = LimitRules.dayStart(now);
        Instant windowStart = now.minus(LimitRules.MINUTE);
        users.forEach((user, counts) -> {
            synchronized (counts) {
                if (counts.streams == 0 && counts.lastAccepted != null && counts.lastAccepted.isBefore(dayStart)
                        && counts.lastAccepted.isBefore(windowStart) && !pendingFor(user)) {
                    counts.evicted = true;
                    users.remove(user, counts);
                }
            }
        });
    }

    private synchronized boolean pendingFor(String user) {
        return unwritten.stream().anyMatch(a -> a.user().equals(user))
                || retry.stream().anyMatch(a -> a.user().equals(user));
    }

    @Override
    public Duration maintenanceInterval() {
        return Duration.ofMinutes(1);
    }

    /** Stops the writer and writes what is still pending. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            if (!writer.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("The limits writer did not stop in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        write();
    }

    int usersInMemory() {
        return users.size();
    }

    /** Accepted messages not yet written (batches the database refused included). */
    int unwrittenCount() {
        return unwritten.size() + retry.size();
    }

    /**
     * The writer's turn. After a failure it backs off (doubling from WRITE_EVERY to {@link #MAX_BACKOFF}) and warns
     * at most once a minute, saying how many failures it did not log, so a database outage neither floods the log
     * nor the database.
     */
    private void writeQuietly() {
        long now = System.nanoTime();
        if (failedWrites > 0 && now - nextWriteNanos < 0) {
            return;
        }
        try {
            write();
            failedWrites = 0;
        } catch (RuntimeException e) {
            failedWrites++;
            long backoff = Math.min(MAX_BACKOFF.toMillis(), WRITE_EVERY.toMillis() << Math.min(failedWrites, 16));
            nextWriteNanos = now + TimeUnit.MILLISECONDS.toNanos(backoff);
            if (lastWarningNanos == 0 || now - lastWarningNanos >= WARN_EVERY.toNanos()) {
                LOG.warn("Could not write accepted messages to user_request ({}{}); {} wait, next attempt in {} ms{}",
                        e.getClass().getSimpleName(), sqlState(e), unwrittenCount(), backoff,
                        unwarnedFailures == 0 ? "" : " (" + unwarnedFailures + " failed attempts not logged)");
                lastWarningNanos = now;
                unwarnedFailures = 0;
            } else {
                unwarnedFailures++;
            }
        }
    }

    private static String sqlState(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SQLException sql && sql.getSQLState() != null) {
                return ", SQLState " + sql.getSQLState();
            }
        }
        return "";
    }

    /** SQLState classes 22 (data exception) and 23 (integrity constraint): the row, not the database, is at fault. */
    static boolean badRow(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("22") || state.startsWith("23"));
    }

    /** How many accepted messages were set aside because the database cannot store them. */
    long setAsideCount() {
        return setAside.get();
    }

    private synchronized void write() {
        for (Accepted a; (a = unwritten.poll()) != null; ) {
            retry.add(a);
        }
        if (retry.isEmpty()) {
            return;
        }
        if (retry.size() > MAX_UNWRITTEN) {
            int dropped = retry.size() - MAX_UNWRITTEN;
            retry.subList(0, dropped).clear();
            LOG.warn("Dropped {} accepted messages the database did not take; the daily quota undercounts them",
                    dropped);
        }
        Map<String, Accepted> lastPerUser = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                try (PreparedStatement ps = tx.prepareStatement(
                        "INSERT INTO user_request (user_id, accepted_at, seq) VALUES (?, ?, ?)")) {
                    for (Accepted a : retry) {
                        ps.setString(1, a.user());
                        ps.setObject(2, a.at().atOffset(ZoneOffset.UTC));
                        ps.setLong(3, a.seq());
                        ps.addBatch();
                        lastPerUser.put(a.user(), a);
                    }
                    ps.executeBatch();
                }
                // the lock row the shared ledger counts from stays right, should this database ever be shared
                for (Accepted a : lastPerUser.values()) {
                    if (updateLockRow(tx, a) == 0) {
                        insertLockRow(tx, a);
                    }
                }
                return null;
            });
            retry.clear();
        } catch (SQLException e) {
            if (!badRow(e)) {
                throw new ChatStore.StorageException(e);
            }
            writeOneByOne();
        }
    }

    /**
     * The batch was refused for its data: one row the database cannot store (an id longer than its column, say)
     * must not keep every other user's counts out forever. Each row is written on its own; a row refused for its
     * data is set aside and counted, any other failure stops here and the rest wait for the next attempt.
     */
    private void writeOneByOne() {
        List<Accepted> bad = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            for (java.util.Iterator<Accepted> it = retry.iterator(); it.hasNext(); ) {
                Accepted a = it.next();
                try {
                    Transactions.inTransaction(c, tx -> {
                        try (PreparedStatement ps = tx.prepareStatement(
                                "INSERT INTO user_request (user_id, accepted_at, seq) VALUES (?, ?, ?)")) {
                            ps.setString(1, a.user());
                            ps.setObject(2, a.at().atOffset(ZoneOffset.UTC));
                            ps.setLong(3, a.seq());
                            ps.executeUpdate();
                        }
                        if (updateLockRow(tx, a) == 0) {
                            insertLockRow(tx, a);
                        }
                        return null;
                    });
                } catch (SQLException e) {
                    if (!badRow(e)) {
                        throw e;
                    }
                    bad.add(a);
                }
                it.remove();
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        } finally {
            if (!bad.isEmpty()) {
                setAside.addAndGet(bad.size());
                LOG.warn("Set aside {} accepted message(s) the database cannot store (SQLState class 22/23); the other"
                        + " users' counts were written", bad.size());
            }
        }
    }

    private static int updateLockRow(Connection c, Accepted a) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE user_limit_lock SET last_seq = ?, last_accepted_at = ? WHERE user_id = ?")) {
            ps.setLong(1, a.seq());
            ps.setObject(2, a.at().atOffset(ZoneOffset.UTC));
            ps.setString(3, a.user());
            return ps.executeUpdate();
        }
    }

    private static void insertLockRow(Connection c, Accepted a) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO user_limit_lock (user_id, last_seq, last_accepted_at) VALUES (?, ?, ?)")) {
            ps.setString(1, a.user());
            ps.setLong(2, a.seq());
            ps.setObject(3, a.at().atOffset(ZoneOffset.UTC));
            ps.executeUpdate();
        }
    }

    /** A user seen for the first time: today's count, the last minute and the sequence so far, from the database. */
    private UserCounts load(String user) {
        Instant now = clock.instant();
        UserCounts counts = new UserCounts();
        counts.dayStart = LimitRules.dayStart(now);
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM user_request WHERE user_id = ? AND accepted_at >= ?")) {
                ps.setString(1, user);
                ps.setObject(2, counts.dayStart.atOffset(ZoneOffset.UTC));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    counts.today = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT MAX(seq), MAX(accepted_at) FROM user_request WHERE user_id = ?")) {
                ps.setString(1, user);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    counts.lastSeq = rs.getLong(1);
                    OffsetDateTime last = rs.getObject(2, OffsetDateTime.class);
                    counts.lastAccepted = last == null ? null : last.toInstant();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT accepted_at FROM user_request WHERE user_id = ? "
                    + "AND accepted_at > ? ORDER BY user_id, accepted_at, seq")) {
                ps.setString(1, user);
                ps.setObject(2, now.minus(LimitRules.MINUTE).atOffset(ZoneOffset.UTC));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        counts.window.addLast(rs.getObject(1, OffsetDateTime.class).toInstant());
                    }
                }
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
        return counts;
    }

    /** One user's counts; every field is guarded by the object's own lock. */
    private static final class UserCounts {
        Instant dayStart;
        long today;
        /** The accepted_at of the messages in the last sixty seconds, oldest first (at most the minute limit). */
        final ArrayDeque<Instant> window = new ArrayDeque<>();
        long streams;
        long lastSeq;
        Instant lastAccepted;
        boolean evicted;
    }

    private record Accepted(String user, Instant at, long seq) {
    }
}
