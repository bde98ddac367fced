package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.cobalt.chat.store.Database;
import com.cobalt.chat.testing.TestClock;
import io.vertx.core.Vertx;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/**
 * The admission's safety net (the slot released when the exchange completes, on a path the routes did not release
 * it) never runs the shared ledger's JDBC on a Vert.x event loop: a stream ended at shutdown completes there, and
 * with the database unresponsive the release blocked the loop for seconds (black-box probe, 2026-12-05).
 */
class ReleaseOffTheEventLoopTest {

    @Test
    void aSlotReleasedWhereTheExchangeCompletesOnAnEventLoopIsFreedOnAnotherThread() throws Exception {
        TestClock clock = new TestClock(Instant.parse("2026-12-05T06:30:00Z"));
        List<String> connectingThreads = new CopyOnWriteArrayList<>();
        ExecutorService offLoop = Executors.newSingleThreadExecutor(r -> new Thread(r, "release-off-loop"));
        Vertx vertx = Vertx.vertx();
        try (Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
             SharedLimitLedger ledger = new SharedLimitLedger(recordingThreads(database.dataSource(),
                     connectingThreads), clock, new LimitRules(1000, 1000, 1), Duration.ofSeconds(60))) {
            UserLimits limits = new UserLimits(ledger, null, offLoop);
            Exchange exchange = new DefaultExchange(new DefaultCamelContext());
            limits.admit(exchange, "dana");
            LimitLedgerTest.assertRefusedForStreams(ledger, "dana");
            connectingThreads.clear();

            List<Synchronization> completions = exchange.getExchangeExtension().handoverCompletions();
            vertx.getOrCreateContext().runOnContext(v -> completions.forEach(s -> s.onComplete(exchange)));

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!connectingThreads.contains("release-off-loop") && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(connectingThreads).contains("release-off-loop")
                    .noneMatch(thread -> thread.startsWith("vert.x-eventloop"));
            offLoop.shutdown();
            assertThat(offLoop.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(exchange.getVariable(UserLimits.SLOT)).isNull();
            ledger.release(ledger.admit("dana").slot()); // the slot is free again
        } finally {
            offLoop.shutdownNow();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** The data source, noting the thread that takes each connection. */
    static DataSource recordingThreads(DataSource target, List<String> threads) {
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        threads.add(Thread.currentThread().getName());
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
