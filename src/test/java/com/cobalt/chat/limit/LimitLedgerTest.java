package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Stream slots across instances: two ledgers on one database stand for two gateway instances. A slot held by an
 * instance that keeps renewing stays taken; one whose instance died frees itself when its lease runs out.
 */
class LimitLedgerTest {

    static final Duration LEASE = Duration.ofSeconds(60);
    final TestClock clock = new TestClock(Instant.parse("2026-11-26T09:00:00Z"));
    final List<AutoCloseable> resources = new ArrayList<>();

    static Stream<String> databases() {
        return Stream.of("h2", "postgres");
    }

    /** The shared ledger on both databases, and the local one on the embedded database it is made for. */
    static Stream<String> ledgers() {
        return Stream.of("shared on h2", "shared on postgres", "local on h2");
    }

    LimitLedger ledger(String kind, LimitRules rules) {
        Database database = open(kind.substring(kind.lastIndexOf(' ') + 1));
        return ledger(kind, database, rules);
    }

    LimitLedger ledger(String kind, Database database, LimitRules rules) {
        LimitLedger ledger = kind.startsWith("local") ? new LocalLimitLedger(database.dataSource(), clock, rules)
                : new SharedLimitLedger(database.dataSource(), clock, rules, LEASE);
        resources.add(ledger);
        return ledger;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    Database open(String db) {
        Database database;
        if (db.equals("postgres")) {
            Postgres.Schema schema = Postgres.newSchema("limit_ledger");
            resources.add(schema);
            database = new Database(schema.url(), Postgres.USER, "", 4);
        } else {
            database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        }
        resources.add(database);
        return database;
    }

    LimitLedger instance(Database database) {
        return new SharedLimitLedger(database.dataSource(), clock, new LimitRules(1000, 1000, 1), LEASE);
    }

    static void assertRefusedForStreams(LimitLedger ledger, String user) {
        assertThatThrownBy(() -> ledger.admit(user)).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.code()).isEqualTo("concurrent_streams_exceeded");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aSlotOfAnInstanceThatDiedIsFreeOnceItsLeaseRunsOutWhileALiveInstanceKeepsItsOwn(String db) {
        Database database = open(db);
        LimitLedger dead = instance(database);
        LimitLedger alive = instance(database);

        dead.admit("ada");
        assertRefusedForStreams(alive, "ada");
        LimitLedger.Admission bens = alive.admit("ben");

        clock.advance(Duration.ofSeconds(59));
        alive.maintain(); // the dead instance renews nothing
        assertRefusedForStreams(alive, "ada");

        clock.advance(Duration.ofSeconds(1)); // the dead instance's lease ends now
        alive.maintain();
        LimitLedger.Admission adas = alive.admit("ada");
        assertRefusedForStreams(dead, "ben"); // renewed, so still taken

        alive.release(bens.slot());
        alive.release(adas.slot());
        dead.admit("ben");
        alive.admit("ada");
    }

    /**
     * A release the database refused (it was away) is made again by the next maintenance that reaches it: the slot
     * stayed taken until its lease ended, up to a minute after the database was back (black-box probe).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aReleaseTheDatabaseRefusedIsMadeAtTheNextMaintenance(String db) {
        Database database = open(db);
        java.util.concurrent.atomic.AtomicBoolean away = new java.util.concurrent.atomic.AtomicBoolean();
        javax.sql.DataSource flaky = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection") && away.get()) {
                        throw new java.sql.SQLTransientConnectionException("the database is away");
                    }
                    try {
                        return method.invoke(database.dataSource(), args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        SharedLimitLedger here = new SharedLimitLedger(flaky, clock, new LimitRules(1000, 1000, 1), LEASE);
        resources.add(here);
        LimitLedger other = instance(database);
        LimitLedger.Admission admitted = here.admit("dee");

        away.set(true);
        assertThatThrownBy(() -> here.release(admitted.slot())).isInstanceOf(RuntimeException.class);
        away.set(false);
        assertRefusedForStreams(other, "dee"); // still taken: its lease has not ended

        here.maintain();
        other.release(other.admit("dee").slot()); // freed, long before the lease would have ended
        here.maintain(); // made once: nothing left to retry
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ledgers")
    void aSlotIsFreedOnceAndReleasingItAgainChangesNothing(String kind) {
        LimitLedger ledger = ledger(kind, new LimitRules(1000, 1000, 1));
        LimitLedger.Admission first = ledger.admit("cy");
        ledger.release(first.slot());
        LimitLedger.Admission second = ledger.admit("cy");
        ledger.release(first.slot());
        assertRefusedForStreams(ledger, "cy");
        ledger.release(second.slot());
        ledger.admit("cy");
    }

    static void assertRefused(LimitLedger ledger, String user, String code) {
        assertThatThrownBy(() -> ledger.admit(user)).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.code()).isEqualTo(code);
        });
    }

    /**
     * The counts come from per-user sequence numbers (V7), not COUNT(*): the minute window, the day and the
     * remaining-count header stay exact, also for several messages at the very same instant.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("ledgers")
    void theMinuteWindowAndTheDailyQuotaCountExactly(String kind) {
        LimitLedger ledger = ledger(kind, new LimitRules(5, 12, 1000));

        // three at the same instant, then two a second apart: 5 in the window, the 6th is refused
        for (int i = 0; i < 3; i++) {
            assertThat(ledger.admit("dee").headers()).containsEntry("X-RateLimit-Remaining", String.valueOf(4 - i));
        }
        for (int i = 0; i < 2; i++) {
            clock.advance(Duration.ofSeconds(1));
            ledger.admit("dee");
        }
        assertRefused(ledger, "dee", "rate_limit_exceeded");

        // once the window has moved on: five more (10 today), then two more a minute later (12), then the quota
        clock.advance(Duration.ofSeconds(61));
        for (int i = 0; i < 5; i++) {
            ledger.admit("dee");
        }
        clock.advance(Duration.ofSeconds(61));
        assertThat(ledger.admit("dee").headers()).containsEntry("X-RateLimit-Remaining", "4");
        ledger.admit("dee");
        assertRefused(ledger, "dee", "daily_quota_exceeded");

        // a new UTC day
        clock.advance(Duration.ofHours(15));
        assertThat(ledger.admit("dee").headers()).containsEntry("X-RateLimit-Remaining", "4");
    }

    /**
     * Messages recorded before the user had a lock row (e.g. rows from an upgrade, or a previous run for the local
     * ledger) count from the first admission.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("ledgers")
    void messagesRecordedBeforeTheUserHadALockRowStillCount(String kind) throws Exception {
        Database database = open(kind.substring(kind.lastIndexOf(' ') + 1));
        try (java.sql.Connection c = database.dataSource().getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO user_request (user_id, accepted_at, seq) VALUES (?, ?, ?)")) {
            for (int i = 1; i <= 3; i++) {
                ps.setString(1, "cy");
                ps.setObject(2, clock.instant().minus(Duration.ofMinutes(10 - i)).atOffset(java.time.ZoneOffset.UTC));
                ps.setLong(3, i);
                ps.executeUpdate();
            }
        }
        LimitLedger ledger = ledger(kind, database, new LimitRules(1000, 4, 1000));

        ledger.admit("cy");
        assertRefused(ledger, "cy", "daily_quota_exceeded");
    }

    /**
     * PostgreSQL: an admission and a release commit without waiting for the disk (V16) - the setting is in force in
     * their own transaction up to its commit - and the pooled connection keeps the database's setting afterwards, so
     * the chat store's transactions on the same connection still commit synchronously.
     */
    @org.junit.jupiter.api.Test
    void onPostgresTheLedgersOwnTransactionsAloneCommitWithoutWaitingForTheDisk() throws Exception {
        Database database = open("postgres");
        try (java.sql.Connection c = database.dataSource().getConnection()) {
            assertThat(setting(c)).isEqualTo("on");
            c.setAutoCommit(false);
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT admitted FROM cobalt_admit_quick(?, ?, ?, ?,"
                    + " ?, ?, ?, ?, ?, ?)")) {
                java.time.OffsetDateTime now = clock.instant().atOffset(java.time.ZoneOffset.UTC);
                ps.setString(1, "eve");
                ps.setObject(2, now);
                ps.setObject(3, now.minusHours(9));
                ps.setObject(4, now.minusMinutes(1));
                ps.setLong(5, 10);
                ps.setLong(6, 10);
                ps.setInt(7, 1);
                ps.setString(8, "slot-1");
                ps.setString(9, "instance-1");
                ps.setObject(10, now.plusMinutes(1));
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBoolean(1)).isTrue();
                }
            }
            assertThat(setting(c)).isEqualTo("off");
            c.commit();
            assertThat(setting(c)).isEqualTo("on");
            c.commit();
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT cobalt_release_quick(?)")) {
                ps.setString(1, "slot-1");
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
            }
            assertThat(setting(c)).isEqualTo("off");
            c.commit();
            assertThat(setting(c)).isEqualTo("on");
        }
    }

    private static String setting(java.sql.Connection c) throws java.sql.SQLException {
        try (java.sql.Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SHOW synchronous_commit")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
