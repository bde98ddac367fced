package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What only the in-memory ledger has to prove: its counts reach the database in the background and a new instance
 * starts from them, one user's parallel admissions stay exact without a database lock, and a user it forgets is
 * read back correctly. (LimitLedgerTest runs the limits themselves against both ledgers.)
 */
class LocalLimitLedgerTest {

    final TestClock clock = new TestClock(Instant.parse("2026-11-26T09:00:00Z"));
    final Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
    final List<LocalLimitLedger> ledgers = new ArrayList<>();

    @AfterEach
    void close() {
        ledgers.forEach(LocalLimitLedger::close);
        database.close();
    }

    LocalLimitLedger ledger(LimitRules rules) {
        LocalLimitLedger ledger = new LocalLimitLedger(database.dataSource(), clock, rules);
        ledgers.add(ledger);
        return ledger;
    }

    @Test
    void acceptedMessagesReachTheDatabaseInTheBackgroundAndTheNextInstanceStartsFromThem() throws Exception {
        LocalLimitLedger first = ledger(new LimitRules(1000, 3, 1000));
        first.admit("eve");
        first.admit("eve");

        await(() -> storedMessages("eve") == 2, "both accepted messages counted without a shutdown");
        assertThat(first.unwrittenCount()).isZero();
        assertThat(recent("eve")).isEqualTo(clock.instant().getEpochSecond() + ":2");
        first.close();

        LocalLimitLedger second = ledger(new LimitRules(1000, 3, 1000));
        // the third of a quota of three: nothing is left today, so 0 (not the minute's 997) - the two were read back
        assertThat(second.admit("eve").headers()).containsEntry("X-RateLimit-Remaining", "0");
        LimitLedgerTest.assertRefused(second, "eve", "daily_quota_exceeded");
        second.close();
        assertThat(storedMessages("eve")).isEqualTo(3);
        assertThat(lastSeq("eve")).isEqualTo(3);
    }

    @Test
    void oneBatchOfKnownAndNewUsersLeavesEachUsersRowAtItsLastMessage() throws Exception {
        LocalLimitLedger first = ledger(new LimitRules(1000, 1000, 1000));
        first.admit("ida");
        first.close(); // ida's lock row exists from here on

        LocalLimitLedger second = ledger(new LimitRules(1000, 1000, 1000));
        second.admit("ida");
        second.admit("jon");
        second.admit("ida");
        second.admit("kim");
        second.admit("jon");
        second.close(); // written in the background or at close: ida's row updated, jon's and kim's inserted

        assertThat(lastSeq("ida")).isEqualTo(3);
        assertThat(storedMessages("ida")).isEqualTo(3);
        assertThat(lastSeq("jon")).isEqualTo(2);
        assertThat(lastSeq("kim")).isEqualTo(1);
        assertThat(storedMessages("ida") + storedMessages("jon") + storedMessages("kim")).isEqualTo(6);
    }

    @Test
    void oneUsersParallelAdmissionsAreExact() throws Exception {
        LocalLimitLedger ledger = ledger(new LimitRules(10, 1000, 1000));
        ExecutorService pool = Executors.newFixedThreadPool(50);
        CountDownLatch start = new CountDownLatch(1);
        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add(pool.submit(() -> {
                start.await();
                try {
                    ledger.admit("gus");
                    outcomes.merge("admitted", 1, Integer::sum);
                } catch (ApiError e) {
                    outcomes.merge(e.code(), 1, Integer::sum);
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> call : calls) {
            call.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(outcomes).isEqualTo(Map.of("admitted", 10, "rate_limit_exceeded", 40));
        ledger.close();
        assertThat(storedMessages("gus")).isEqualTo(10);
        assertThat(lastSeq("gus")).isEqualTo(10);
    }

    @Test
    void aUserIdleSinceYesterdayIsForgottenAndReadBackWithTheSequenceGoingOn() throws Exception {
        clock.advance(Duration.between(clock.instant(), Instant.parse("2026-11-26T23:59:30Z")));
        LocalLimitLedger ledger = ledger(new LimitRules(1000, 2, 1));
        ledger.release(ledger.admit("hal").slot());
        ledger.release(ledger.admit("hal").slot());
        LimitLedgerTest.assertRefused(ledger, "hal", "daily_quota_exceeded");
        await(() -> ledger.unwrittenCount() == 0 && storedMessages("hal") == 2, "the two messages written");

        ledger.maintain(); // sent today: kept
        assertThat(ledger.usersInMemory()).isEqualTo(1);

        clock.advance(Duration.ofMinutes(2)); // 00:01:30 the next day
        ledger.maintain();
        assertThat(ledger.usersInMemory()).isZero();

        assertThat(ledger.admit("hal").headers()).containsEntry("X-RateLimit-Remaining", "999");
        LimitLedgerTest.assertRefused(ledger, "hal", "concurrent_streams_exceeded");
        ledger.close();
        assertThat(storedMessages("hal")).as("today's count: yesterday's two are not in it").isEqualTo(1);
        assertThat(lastSeq("hal")).isEqualTo(3);
    }

    @Test
    void aRowTheDatabaseCannotStoreIsSetAsideAndTheOtherUsersCountsAreWritten() throws Exception {
        LocalLimitLedger ledger = ledger(new LimitRules(1000, 1000, 1000));
        String tooLong = "x".repeat(300); // the user_id column holds 255
        ledger.admit("before");
        ledger.admit(tooLong);
        ledger.admit("after");

        await(() -> storedMessages("before") == 1 && storedMessages("after") == 1,
                "the good rows of the refused batch written one by one");
        await(() -> ledger.unwrittenCount() == 0, "nothing left to retry");
        assertThat(ledger.setAsideCount()).isEqualTo(1);
        assertThat(storedMessages(tooLong)).isZero();

        ledger.admit("later");
        await(() -> storedMessages("later") == 1, "later batches are written as usual");
    }

    @Test
    void aRestartRestoresTheMinuteWindowToTheSecondAndNeverLetsOneMoreThrough() throws Exception {
        clock.advance(Duration.ofMillis(250)); // 09:00:00.250
        LocalLimitLedger first = ledger(new LimitRules(3, 1000, 1000));
        first.admit("uma");
        clock.advance(Duration.ofSeconds(5)); // 09:00:05.250
        first.admit("uma");
        first.admit("uma");
        first.close();
        long start = Instant.parse("2026-11-26T09:00:00Z").getEpochSecond();
        assertThat(recent("uma")).isEqualTo(start + ":1," + (start + 5) + ":2");

        clock.advance(Duration.ofMillis(55_250)); // 09:01:00.500: exactly, the first message left the window at .250
        LocalLimitLedger second = ledger(new LimitRules(3, 1000, 1000));
        assertThatThrownBy(() -> second.admit("uma")).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.code()).isEqualTo("rate_limit_exceeded");
            assertThat(e.headers()).containsEntry("Retry-After", "1").containsEntry("X-RateLimit-Remaining", "0");
        });

        clock.advance(Duration.ofMillis(500)); // 09:01:01.000: after the end of the first message's second
        assertThat(second.admit("uma").headers()).containsEntry("X-RateLimit-Remaining", "0");
        LimitLedgerTest.assertRefused(second, "uma", "rate_limit_exceeded");
    }

    @Test
    void aUserTheSharedLedgerAdmittedSinceTheRowWasWrittenIsReadFromItsAcceptedMessages() throws Exception {
        LocalLimitLedger first = ledger(new LimitRules(1000, 4, 1000));
        first.admit("val");
        first.admit("val");
        first.close(); // val's row: 2 today

        clock.advance(Duration.ofSeconds(1));
        SharedLimitLedger shared = new SharedLimitLedger(database.dataSource(), clock, new LimitRules(1000, 4, 1000),
                Duration.ofMinutes(1));
        for (int i = 0; i < 3; i++) {
            shared.release(shared.admit("val").slot());
        }
        shared.close();

        clock.advance(Duration.ofSeconds(1));
        LocalLimitLedger second = ledger(new LimitRules(1000, 4, 1000));
        // admitted as the last of a quota of four: exactly three counted before it (five would refuse it)
        assertThat(second.admit("val").headers()).as("the shared ledger's three count, the stale row's two do not")
                .containsEntry("X-RateLimit-Remaining", "0");
        LimitLedgerTest.assertRefused(second, "val", "daily_quota_exceeded");
    }

    @Test
    void onPostgreSqlTheRowsAreInsertedUpdatedAndReadBackAlike() throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("local_ledger");
             Database pg = new Database(schema.url(), Postgres.USER, "", 2)) {
            LocalLimitLedger first = new LocalLimitLedger(pg.dataSource(), clock, new LimitRules(1000, 3, 1000));
            first.admit("wes");
            first.close(); // wes's row inserted
            LocalLimitLedger second = new LocalLimitLedger(pg.dataSource(), clock, new LimitRules(1000, 3, 1000));
            second.admit("wes");
            second.admit("xia");
            second.close(); // wes's row updated, xia's inserted, in one batch

            LocalLimitLedger third = new LocalLimitLedger(pg.dataSource(), clock, new LimitRules(1000, 3, 1000));
            try {
                // the last of wes's quota of three: 0 left today, so exactly two were read back
                assertThat(third.admit("wes").headers()).containsEntry("X-RateLimit-Remaining", "0");
                LimitLedgerTest.assertRefused(third, "wes", "daily_quota_exceeded");
                assertThat(third.admit("xia").headers()).containsEntry("X-RateLimit-Remaining", "998");
            } finally {
                third.close();
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** Today's count as the ledger wrote it for the user (0 without a row). */
    private long storedMessages(String user) {
        return Math.max(0, queryLong("SELECT day_count FROM user_limit_count WHERE user_id = ?", user));
    }

    private long lastSeq(String user) {
        return queryLong("SELECT last_seq FROM user_limit_count WHERE user_id = ?", user);
    }

    private String recent(String user) {
        try (Connection c = database.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT recent FROM user_limit_count WHERE user_id = ?")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private long queryLong(String sql, String user) {
        try (Connection c = database.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
