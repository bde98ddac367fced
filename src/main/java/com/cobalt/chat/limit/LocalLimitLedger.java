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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Transactions;
import com.cobalt.chat.store.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user limits of a gateway that is alone on its database (embedded H2, which no other instance can open).
 * Nothing else can admit this instance's users, so the counts live in memory and each admission is decided under
 * the user's own lock in microseconds, with no database round trip: one busy user no longer queues every request
 * behind a transaction. One background writer (every {@link #WRITE_EVERY}, and at shutdown) writes the counts of
 * the users who sent something since to user_limit_count - one row per user, not one per message - so the daily
 * quota and the minute window survive a restart; a crash loses at most the last batch's counts. A user's counts are
 * read from the database the first time the user is seen: from that row, or from user_request where the shared
 * ledger (or a version before V18) counted the user last.
 */
public class LocalLimitLedger implements LimitLedger {

    static final Duration WRITE_EVERY = Duration.ofMillis(200);
    private static final Logger LOG = LoggerFactory.getLogger(LocalLimitLedger.class);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    static final Duration WARN_EVERY = Duration.ofMinutes(1);

    private final DataSource dataSource;
    private final Clock clock;
    private final LimitRules rules;
    private final Map<String, UserCounts> users = new ConcurrentHashMap<>();
    private final Map<String, UserCounts> slots = new ConcurrentHashMap<>();
    private final AtomicLong slotIds = new AtomicLong();
    /** The users whose counts changed since the writer last took them (each counts' changed flag says so too). */
    private final Map<String, UserCounts> changed = new ConcurrentHashMap<>();
    /**
     * Counts taken but not yet stored (the database refused them), newest per user: only the writer thread (or close,
     * after it stopped) changes it; maintain reads it to keep such users in memory.
     */
    private final Map<String, Counted> retry = new ConcurrentHashMap<>();
    private final ScheduledExecutorService writer;
    /** Writer back-off after a failed write: only the writer thread touches these. */
    private int failedWrites;
    private long nextWriteNanos;
    private long lastWarningNanos;
    private int unwarnedFailures;
    /** Users' counts the database refused as data (a value it cannot store): set aside, not retried. */
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
        Map<String, String> headers = rules.admittedHeaders(now, counts.today, inWindow, resetSeconds);

        Instant accepted = counts.lastAccepted != null && !now.isAfter(counts.lastAccepted)
                ? counts.lastAccepted.plus(1, ChronoUnit.MICROS) : now;
        counts.lastAccepted = accepted;
        counts.lastSeq++;
        counts.today++;
        counts.streams++;
        counts.window.addLast(accepted);
        if (!counts.changed) {
            counts.changed = true;
            changed.put(user, counts);
        }
        String slot = Long.toString(slotIds.incrementAndGet());
        slots.put(slot, counts);
        return new Admission(slot, headers);
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
     * Drops accepted messages (user_request, rows the shared ledger or a version before V18 wrote) and users' counts
     * older than two days, and forgets users who have not sent anything since yesterday (their counts start from
     * zero anyway, and reading them again costs one query).
     */
    @Override
    public void maintain() {
        Instant now = clock.instant();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM user_request WHERE accepted_at < ?")) {
                ps.setObject(1, now.minus(LimitRules.KEPT).atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            // one row per user of the last two days: read whole once a minute, it needs no index to keep up
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM user_limit_count WHERE last_accepted_at < ?")) {
                ps.setObject(1, now.minus(LimitRules.KEPT).atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
        Instant dayStart = LimitRules.dayStart(now);
        Instant windowStart = now.minus(LimitRules.MINUTE);
        users.forEach((user, counts) -> {
            synchronized (counts) {
                if (counts.streams == 0 && counts.lastAccepted != null && counts.lastAccepted.isBefore(dayStart)
                        && counts.lastAccepted.isBefore(windowStart) && !counts.changed && !retry.containsKey(user)) {
                    counts.evicted = true;
                    users.remove(user, counts);
                }
            }
        });
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

    /** Users whose counts are not written yet (counts the database refused included). */
    int unwrittenCount() {
        return changed.size() + retry.size();
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
                LOG.warn("Could not write users' limit counts to user_limit_count ({}{}); {} users' counts wait, next"
                        + " attempt in {} ms{}", e.getClass().getSimpleName(), Database.sqlState(e), unwrittenCount(),
                        backoff,
                        unwarnedFailures == 0 ? "" : " (" + unwarnedFailures + " failed attempts not logged)");
                lastWarningNanos = now;
                unwarnedFailures = 0;
            } else {
                unwarnedFailures++;
            }
        }
    }

    /** SQLState classes 22 (data exception) and 23 (integrity constraint): the row, not the database, is at fault. */
    static boolean badRow(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("22") || state.startsWith("23"));
    }

    /** How many users' counts were set aside because the database cannot store them. */
    long setAsideCount() {
        return setAside.get();
    }

    /**
     * Takes the counts of every user who sent something since the last turn (each under its user's lock, after which
     * a new admission marks the user again) and writes them, with any the database refused before, in one
     * transaction: one row per user, however many messages the user sent in between.
     */
    private synchronized void write() {
        Instant now = clock.instant();
        for (Iterator<Map.Entry<String, UserCounts>> it = changed.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, UserCounts> e = it.next();
            it.remove();
            UserCounts counts = e.getValue();
            synchronized (counts) {
                counts.changed = false;
                retry.put(e.getKey(), counts.snapshot(e.getKey(), now));
            }
        }
        if (retry.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            Transactions.inTransaction(c, tx -> {
                writeRows(tx, new ArrayList<>(retry.values()));
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

    /** The rows of users who have one are updated, the others inserted: two statements, each one JDBC batch. */
    private static void writeRows(Connection c, List<Counted> rows) throws SQLException {
        int[] updated;
        try (PreparedStatement ps = c.prepareStatement("UPDATE user_limit_count SET day_start = ?, day_count = ?, "
                + "last_seq = ?, last_accepted_at = ?, recent = ? WHERE user_id = ?")) {
            for (Counted row : rows) {
                row.bind(ps);
                ps.addBatch();
            }
            updated = ps.executeBatch();
        }
        boolean inserts = false;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO user_limit_count (day_start, day_count, last_seq, "
                + "last_accepted_at, recent, user_id) VALUES (?, ?, ?, ?, ?, ?)")) {
            for (int i = 0; i < rows.size(); i++) {
                if (updated[i] == 0) {
                    rows.get(i).bind(ps);
                    ps.addBatch();
                    inserts = true;
                }
            }
            if (inserts) {
                ps.executeBatch();
            }
        }
    }

    /**
     * The batch was refused for its data: one row the database cannot store (an id longer than its column, say)
     * must not keep every other user's counts out forever. Each row is written on its own; a row refused for its
     * data is set aside and counted, any other failure stops here and the rest wait for the next attempt.
     */
    private void writeOneByOne() {
        int bad = 0;
        try (Connection c = dataSource.getConnection()) {
            for (Iterator<Counted> it = retry.values().iterator(); it.hasNext(); ) {
                Counted row = it.next();
                try {
                    Transactions.inTransaction(c, tx -> {
                        writeRows(tx, List.of(row));
                        return null;
                    });
                } catch (SQLException e) {
                    if (!badRow(e)) {
                        throw e;
                    }
                    bad++;
                }
                it.remove();
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        } finally {
            if (bad > 0) {
                setAside.addAndGet(bad);
                LOG.warn("Set aside the limit counts of {} user(s) the database cannot store (SQLState class 22/23);"
                        + " the other users' counts were written", bad);
            }
        }
    }

    /**
     * A user seen for the first time: today's count, the last minute and the sequence so far, from the user's row of
     * counts - or from user_request where there is none (the user's counts predate V18) or where the user's lock row,
     * which only the shared ledger moves, says it admitted the user after that row was written (the database was
     * shared for a while since).
     */
    private UserCounts load(String user) {
        Instant now = clock.instant();
        UserCounts counts = new UserCounts();
        counts.dayStart = LimitRules.dayStart(now);
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT c.day_start, c.day_count, c.last_seq, "
                    + "c.last_accepted_at, c.recent, l.last_accepted_at FROM user_limit_count c "
                    + "LEFT JOIN user_limit_lock l ON l.user_id = c.user_id WHERE c.user_id = ?")) {
                ps.setString(1, user);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        Instant last = rs.getObject(4, OffsetDateTime.class).toInstant();
                        OffsetDateTime shared = rs.getObject(6, OffsetDateTime.class);
                        if (shared == null || !shared.toInstant().isAfter(last)) {
                            Instant day = rs.getObject(1, OffsetDateTime.class).toInstant();
                            counts.today = day.equals(counts.dayStart) ? rs.getLong(2) : 0;
                            counts.lastSeq = rs.getLong(3);
                            counts.lastAccepted = last;
                            restoreWindow(counts, rs.getString(5), now.minus(LimitRules.MINUTE));
                            return counts;
                        }
                    }
                }
            }
            loadFromRequests(c, user, counts, now);
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
        return counts;
    }

    /** The counts as user_request has them (one row per accepted message). */
    private static void loadFromRequests(Connection c, String user, UserCounts counts, Instant now)
            throws SQLException {
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
    }

    /**
     * The minute window from a row's per-second counts: each message at the end of its second (never after the user's
     * last accepted message), so a restart never lets a user send more than the limit and holds one back for less
     * than a second longer than the exact window would.
     */
    private static void restoreWindow(UserCounts counts, String recent, Instant windowStart) {
        if (recent.isEmpty()) {
            return;
        }
        for (String entry : recent.split(",")) {
            int colon = entry.indexOf(':');
            long second = Long.parseLong(entry, 0, colon, 10);
            long n = Long.parseLong(entry, colon + 1, entry.length(), 10);
            Instant at = Instant.ofEpochSecond(second, 999_999_000);
            if (counts.lastAccepted != null && at.isAfter(counts.lastAccepted)) {
                at = counts.lastAccepted;
            }
            if (at.isAfter(windowStart)) {
                for (long i = 0; i < n; i++) {
                    counts.window.addLast(at);
                }
            }
        }
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
        /**
         * Admitted since the writer last took these counts. Not the same as being in the ledger's changed map: the
         * writer takes a user out of that map before it locks the counts, and clears this flag only under the lock,
         * in the step that puts the snapshot into retry - so maintain, checking this flag and retry under the same
         * lock, never sees a user whose newest counts are in neither and evicts them unwritten.
         */
        boolean changed;

        /** What the writer stores: the window as counts per second of its last sixty seconds, oldest first. */
        Counted snapshot(String user, Instant now) {
            StringBuilder recent = new StringBuilder();
            Instant windowStart = now.minus(LimitRules.MINUTE);
            long second = Long.MIN_VALUE;
            long n = 0;
            for (Instant at : window) {
                if (!at.isAfter(windowStart)) {
                    continue;
                }
                if (at.getEpochSecond() != second) {
                    appendSecond(recent, second, n);
                    second = at.getEpochSecond();
                    n = 0;
                }
                n++;
            }
            appendSecond(recent, second, n);
            return new Counted(user, dayStart, today, lastSeq, lastAccepted, recent.toString());
        }

        private static void appendSecond(StringBuilder recent, long second, long n) {
            if (n > 0) {
                if (!recent.isEmpty()) {
                    recent.append(',');
                }
                recent.append(second).append(':').append(n);
            }
        }
    }

    /** A user's counts as the writer stores them (user_limit_count). */
    private record Counted(String user, Instant dayStart, long today, long lastSeq, Instant lastAccepted, String recent) {

        void bind(PreparedStatement ps) throws SQLException {
            ps.setObject(1, dayStart.atOffset(ZoneOffset.UTC));
            ps.setLong(2, today);
            ps.setLong(3, lastSeq);
            ps.setObject(4, lastAccepted.atOffset(ZoneOffset.UTC));
            ps.setString(5, recent);
            ps.setString(6, user);
        }
    }
}
