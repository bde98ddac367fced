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
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Transactions;
import com.cobalt.chat.store.Vendor;

/**
 * The per-user limits of instances that share one database (PostgreSQL): they hold exactly across the instances.
 * Each admission locks the user's row first (SELECT ... FOR UPDATE), then counts and records: on PostgreSQL in one
 * statement (the function cobalt_admit, so the row is locked only while the database works), on another database
 * as one transaction of several statements. Within one instance a striped lock serialises a user's admissions before they reach the database, so
 * the database never waits on its row lock. Stream slots are rows leased by their instance, so an instance that
 * dies frees its slots when their lease runs out.
 */
public class SharedLimitLedger implements LimitLedger {

    private static final String UNIQUE_VIOLATION = "23505";

    private final DataSource dataSource;
    private final Clock clock;
    private final LimitRules rules;
    private final Duration lease;
    private final String instanceId = UUID.randomUUID().toString();
    private final Object[] stripes = new Object[64];
    /** PostgreSQL runs the admission in one statement (cobalt_admit); another database gets the transaction below. */
    private final boolean inDatabase;
    /** Slots whose release failed: deleted again at each maintenance until one succeeds. */
    private final Set<String> unreleased = ConcurrentHashMap.newKeySet();
    /** The slots this instance holds: only these are renewed, so a slot whose release failed still expires. */
    private final Set<String> held = ConcurrentHashMap.newKeySet();

    public SharedLimitLedger(DataSource dataSource, Clock clock, LimitRules rules, Duration lease) {
        this.inDatabase = Vendor.of(dataSource) == Vendor.POSTGRESQL;
        this.dataSource = dataSource;
        this.clock = clock;
        this.rules = rules;
        this.lease = lease;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
    }

    /**
     * A statement on a connection the database dropped (a restart, a failover) is tried once more on a fresh one, as
     * the chat store's are ({@link ChatStore#onceMoreIfConnectionLost}): for a /v1 request the admission is the first
     * statement, so nothing before it has met the dead connection (black-box soak: a 503 after every database
     * restart). The retry is a new call with a slot of its own.
     */
    @Override
    public Admission admit(String user) {
        synchronized (stripes[Math.floorMod(user.hashCode(), stripes.length)]) {
            return ChatStore.onceMoreIfConnectionLost(dataSource, () -> admitLocked(user));
        }
    }

    private Admission admitLocked(String user) throws SQLException {
        if (inDatabase) {
            return admitInDatabase(user);
        }
        try (Connection c = dataSource.getConnection()) {
            Admission admission = Transactions.inTransaction(c, tx -> {
                LockRow row = lockUser(tx, user);
                if (row == null) {
                    tx.rollback();
                    createLockRow(user);
                    row = lockUser(tx, user);
                    if (row == null) {
                        throw new SQLException("no limit row for the user after creating it");
                    }
                }
                return decide(tx, user, row.lastSeq(), row.lastAccepted());
            });
            held.add(admission.slot());
            return admission;
        }
    }

    /**
     * Counts without reading every counted row: a user's accepted messages carry seq 1, 2, 3, ... and strictly
     * increasing accepted_at (both kept on the locked row), so the count since T is last_seq minus the seq of the
     * first row at or after T, plus one - one index probe, however many messages the user sent today.
     */
    private Admission decide(Connection c, String user, long lastSeq, Instant lastAccepted) throws SQLException {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Instant dayStart = LimitRules.dayStart(now);
        Instant windowStart = now.minus(LimitRules.MINUTE);
        Row firstToday = firstSince(c, user, dayStart, true);
        long today = firstToday == null ? 0 : lastSeq - firstToday.seq() + 1;
        Row firstInWindow = firstSince(c, user, windowStart, false);
        long inWindow = firstInWindow == null ? 0 : lastSeq - firstInWindow.seq() + 1;
        Instant oldest = firstInWindow == null ? now : firstInWindow.acceptedAt();
        long resetSeconds = LimitRules.secondsUntil(now, oldest.plus(LimitRules.MINUTE));
        rules.checkDayAndMinute(now, today, inWindow, resetSeconds);
        // stops counting at the limit: a user with many open streams does not make every admission read them all
        long streams = count(c, "SELECT COUNT(*) FROM (SELECT 1 FROM active_stream WHERE user_id = ? AND lease_until > ?"
                + " FETCH FIRST " + Math.max(1, rules.maxStreams()) + " ROWS ONLY) s", user, now);
        rules.checkStreams(streams, inWindow, resetSeconds);

        // strictly after the user's previous message, even if this instance's clock is behind another's
        Instant accepted = lastAccepted != null && !now.isAfter(lastAccepted) ? lastAccepted.plus(1, ChronoUnit.MICROS)
                : now;
        long seq = lastSeq + 1;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO user_request (user_id, accepted_at, seq) VALUES (?, ?, ?)")) {
            ps.setString(1, user);
            ps.setObject(2, accepted.atOffset(ZoneOffset.UTC));
            ps.setLong(3, seq);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE user_limit_lock SET last_seq = ?, last_accepted_at = ? WHERE user_id = ?")) {
            ps.setLong(1, seq);
            ps.setObject(2, accepted.atOffset(ZoneOffset.UTC));
            ps.setString(3, user);
            ps.executeUpdate();
        }
        String slot = UUID.randomUUID().toString();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO active_stream (id, user_id, instance_id, lease_until) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, slot);
            ps.setString(2, user);
            ps.setString(3, instanceId);
            ps.setObject(4, now.plus(lease).atOffset(ZoneOffset.UTC));
            ps.executeUpdate();
        }
        return new Admission(slot, rules.admittedHeaders(now, today, inWindow, resetSeconds));
    }

    /**
     * PostgreSQL: the whole admission is one call of the function {@code cobalt_admit} (migration V15), in one
     * statement, so the user's row is locked only while the database itself counts and records - not across six
     * round trips - and through {@code cobalt_admit_quick} (V16), whose commit does not wait for the disk flush that
     * the user's next admission would otherwise wait behind. The refusals are the same {@link LimitRules} answers,
     * from the counts the function returns.
     */
    private Admission admitInDatabase(String user) throws SQLException {
        Call call = new Call();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT * FROM " + call.sql("?") + " a")) {
            ps.setString(1, user);
            call.bind(ps, 2);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("cobalt_admit returned no row");
                }
                return call.admission(rs, 1);
            }
        }
    }

    /** PostgreSQL: the same call of {@code cobalt_admit_quick}, inside the caller's statement. */
    @Override
    public <T> T admitWithin(String user, AdmittingStatement<T> statement) {
        if (!inDatabase) {
            return LimitLedger.super.admitWithin(user, statement);
        }
        Call call = new Call();
        synchronized (stripes[Math.floorMod(user.hashCode(), stripes.length)]) {
            try {
                return statement.run(call);
            } catch (SQLException e) {
                call.abandon(e);
                throw new ChatStore.StorageException(e);
            } catch (RuntimeException e) {
                call.abandon(e);
                throw e;
            }
        }
    }

    /**
     * One admission through {@code cobalt_admit_quick}: each {@link #bind} is a new attempt with a slot of its own (a
     * statement retried on a fresh connection must not meet its first attempt's slot), and the slot of the attempt
     * that answered is the admission's.
     */
    private final class Call implements AdmissionCall {

        private Instant now;
        private String slot;
        private String admitted;

        @Override
        public String sql(String userColumn) {
            return "cobalt_admit_quick(" + userColumn + ", ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        }

        @Override
        public int bind(PreparedStatement ps, int first) throws SQLException {
            if (admitted != null) {
                // an earlier attempt admitted and then lost its connection: its slot goes, this attempt takes its own
                release(admitted);
                admitted = null;
            }
            now = clock.instant().truncatedTo(ChronoUnit.MICROS);
            slot = UUID.randomUUID().toString();
            ps.setObject(first, now.atOffset(ZoneOffset.UTC));
            ps.setObject(first + 1, LimitRules.dayStart(now).atOffset(ZoneOffset.UTC));
            ps.setObject(first + 2, now.minus(LimitRules.MINUTE).atOffset(ZoneOffset.UTC));
            ps.setLong(first + 3, rules.perDay());
            ps.setLong(first + 4, rules.perMinute());
            ps.setInt(first + 5, rules.maxStreams());
            ps.setString(first + 6, slot);
            ps.setString(first + 7, instanceId);
            ps.setObject(first + 8, now.plus(lease).atOffset(ZoneOffset.UTC));
            return first + 9;
        }

        @Override
        public Admission admission(ResultSet rs, int first) throws SQLException {
            long today = rs.getLong(first + 1);
            long inWindow = rs.getLong(first + 2);
            Instant oldest = rs.getObject(first + 3, OffsetDateTime.class).toInstant();
            long resetSeconds = LimitRules.secondsUntil(now, oldest.plus(LimitRules.MINUTE));
            if (!rs.getBoolean(first)) {
                rules.checkDayAndMinute(now, today, inWindow, resetSeconds);
                rules.checkStreams(rs.getLong(first + 4), inWindow, resetSeconds);
                throw new SQLException("cobalt_admit refused without a limit reached");
            }
            held.add(slot);
            admitted = slot;
            return new Admission(slot, rules.admittedHeaders(now, today, inWindow, resetSeconds));
        }

        /** The statement failed after its admission: the slot it took is freed, not renewed until its lease ends. */
        void abandon(Exception failure) {
            if (admitted != null) {
                try {
                    release(admitted);
                } catch (RuntimeException e) {
                    failure.addSuppressed(e); // no longer held here: its lease frees it
                }
            }
        }
    }

    @Override
    public void release(String slot) {
        if (slot == null) {
            return;
        }
        held.remove(slot);
        try {
            // PostgreSQL: the same delete, committed without waiting for the disk (V16)
            update(inDatabase ? "SELECT cobalt_release_quick(?)" : "DELETE FROM active_stream WHERE id = ?", slot);
        } catch (RuntimeException failed) {
            // the database is away: freed at the next maintenance that reaches it, not only when its lease ends -
            // the user's stream slot stayed taken up to a minute after the database was back (black-box probe)
            unreleased.add(slot);
            throw failed;
        }
    }

    /** On PostgreSQL the answer's statement deletes the slot's row (ChatStore's PG_FREE_SLOT, the same delete). */
    @Override
    public boolean slotsInChatDatabase() {
        return inDatabase;
    }

    @Override
    public void freedWithAnswer(String slot) {
        held.remove(slot);
    }

    /**
     * Keeps this instance's slots alive and drops what no longer counts: slots whose lease ran out (their instance
     * died) and accepted messages older than two days.
     */
    @Override
    public void maintain() {
        Instant now = clock.instant();
        try (Connection c = dataSource.getConnection()) {
            if (!unreleased.isEmpty()) {
                List<String> retried = List.copyOf(unreleased);
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM active_stream WHERE id = ?")) {
                    for (String slot : retried) {
                        ps.setString(1, slot);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                unreleased.removeAll(retried);
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE active_stream SET lease_until = ? WHERE id = ?")) {
                for (String slot : held) {
                    ps.setObject(1, now.plus(lease).atOffset(ZoneOffset.UTC));
                    ps.setString(2, slot);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM active_stream WHERE lease_until <= ?")) {
                ps.setObject(1, now.atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM user_request WHERE accepted_at < ?")) {
                ps.setObject(1, now.minus(LimitRules.KEPT).atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
    }

    /** At shutdown, after the streams ended: whatever this instance still holds is freed. */
    @Override
    public void close() {
        held.clear();
        update("DELETE FROM active_stream WHERE instance_id = ?", instanceId);
    }

    /** A third of the lease: a slot is renewed twice before it could expire. */
    @Override
    public Duration maintenanceInterval() {
        return Duration.ofMillis(Math.max(1000, lease.toMillis() / 3));
    }

    private record LockRow(long lastSeq, Instant lastAccepted) {
    }

    private record Row(long seq, Instant acceptedAt) {
    }

    private LockRow lockUser(Connection c, String user) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT last_seq, last_accepted_at FROM user_limit_lock WHERE user_id = ? FOR UPDATE")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                OffsetDateTime t = rs.getObject(2, OffsetDateTime.class);
                return new LockRow(rs.getLong(1), t == null ? null : t.toInstant());
            }
        }
    }

    /**
     * The user's first accepted message at (inclusive) or after (exclusive) since, or null. ORDER BY names every
     * column of the index, so H2 reads the first index entry instead of sorting the whole range.
     */
    private static Row firstSince(Connection c, String user, Instant since, boolean inclusive) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, accepted_at FROM user_request WHERE user_id = ? AND "
                + "accepted_at " + (inclusive ? ">=" : ">") + " ? ORDER BY user_id, accepted_at, seq FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, user);
            ps.setObject(2, since.atOffset(ZoneOffset.UTC));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Row(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant()) : null;
            }
        }
    }

    /**
     * Another instance may create the same row at the same moment; either insert will do. It starts from the user's
     * messages already counted (rows from before the lock row existed, e.g. migrated ones).
     */
    private void createLockRow(String user) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO user_limit_lock (user_id, last_seq, last_accepted_at) "
                     + "VALUES (?, COALESCE((SELECT MAX(seq) FROM user_request WHERE user_id = ?), 0), "
                     + "(SELECT MAX(accepted_at) FROM user_request WHERE user_id = ?))")) {
            ps.setString(1, user);
            ps.setString(2, user);
            ps.setString(3, user);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    private static long count(Connection c, String sql, String user, Instant since) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, user);
            ps.setObject(2, since.atOffset(ZoneOffset.UTC));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** One statement with one parameter: a DELETE, or a function's SELECT (hence execute, not executeUpdate). */
    private void update(String sql, String value) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            ps.execute();
        } catch (SQLException e) {
            throw new ChatStore.StorageException(e);
        }
    }
}
