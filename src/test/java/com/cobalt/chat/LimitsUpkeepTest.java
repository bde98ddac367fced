package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.cobalt.chat.limit.LimitLedger;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.testing.LogCapture;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The limits' upkeep at shutdown, as {@link GatewayLifecycle} runs it: stopped, then the database closed. A run the
 * timer started after the database had closed, or one under way as it closed, failed and logged "Could not keep the
 * per-user limits up to date" at WARN on some clean SIGTERMs.
 */
@Timeout(30)
class LimitsUpkeepTest {

    final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void noRunAfterTheStopAndNoWarningOnceTheDatabaseHasClosed() throws Exception {
        Ledger ledger = new Ledger();
        LimitsUpkeep upkeep = new LimitsUpkeep(vertx, ledger);
        LogCapture log = LogCapture.start();
        try {
            upkeep.start();
            assertThat(ledger.ran(3, Duration.ofSeconds(10))).as("it runs every 10 ms").isTrue();

            upkeep.stop();
            int runs = ledger.runs.get();
            ledger.databaseClosed.set(true);

            // twenty intervals, then one more run's worth of time: the timer is gone
            assertThat(ledger.ran(runs + 1, Duration.ofMillis(300))).as("a run after the stop").isFalse();
            assertThat(ledger.failures.get()).isZero();
        } finally {
            log.close();
        }
        assertThat(log.lines()).filteredOn(l -> l.logger().equals(LimitsUpkeep.class.getName())).isEmpty();
    }

    @Test
    void theStopWaitsForARunUnderWayBeforeTheDatabaseCloses() throws Exception {
        Ledger ledger = new Ledger();
        ledger.hold = new CountDownLatch(1);
        LimitsUpkeep upkeep = new LimitsUpkeep(vertx, ledger);
        LogCapture log = LogCapture.start();
        try {
            upkeep.start();
            assertThat(ledger.entered.await(10, TimeUnit.SECONDS)).as("a run is under way").isTrue();

            CompletableFuture<Void> stopping = CompletableFuture.runAsync(upkeep::stop);
            // the run ends while the stop waits for it; only then does the database close
            ledger.hold.countDown();
            stopping.get(10, TimeUnit.SECONDS);
            assertThat(ledger.inRun.get()).as("no run under way once stop() returned").isZero();
            ledger.databaseClosed.set(true);

            assertThat(ledger.ran(ledger.runs.get() + 1, Duration.ofMillis(300))).as("a run after the stop").isFalse();
            assertThat(ledger.failures.get()).isZero();
        } finally {
            log.close();
        }
        assertThat(log.lines()).filteredOn(l -> l.logger().equals(LimitsUpkeep.class.getName())).isEmpty();
    }

    /** A ledger whose upkeep fails once its database has closed, as the real ones do. */
    static final class Ledger implements LimitLedger {
        final AtomicInteger runs = new AtomicInteger();
        final AtomicInteger inRun = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        final AtomicBoolean databaseClosed = new AtomicBoolean();
        final CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch hold;

        @Override
        public void maintain() {
            inRun.incrementAndGet();
            try {
                entered.countDown();
                CountDownLatch h = hold;
                if (h != null) {
                    h.await(10, TimeUnit.SECONDS);
                }
                if (databaseClosed.get()) {
                    failures.incrementAndGet();
                    throw new ChatStore.StorageException(new SQLException("HikariDataSource has been closed."));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inRun.decrementAndGet();
                synchronized (runs) {
                    runs.incrementAndGet();
                    runs.notifyAll();
                }
            }
        }

        /** Whether at least {@code n} runs have ended within {@code timeout}. */
        boolean ran(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (runs) {
                while (runs.get() < n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(runs, left);
                }
            }
            return true;
        }

        @Override
        public Duration maintenanceInterval() {
            return Duration.ofMillis(10);
        }

        @Override
        public Admission admit(String user) {
            throw new AssertionError("the upkeep admits no one");
        }

        @Override
        public void release(String slot) {
        }

        @Override
        public void close() {
        }
    }
}
