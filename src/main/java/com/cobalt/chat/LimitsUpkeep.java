package com.cobalt.chat;

import com.cobalt.chat.limit.LimitLedger;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user limits' periodic upkeep ({@link LimitLedger#maintain()}), off the event loop, from the start until
 * {@link #stop()}. Stopped before the ledger and the database close: a run that the timer started after the database
 * had closed, or that was under way as it closed, failed and logged a WARN on a clean SIGTERM (helper audit,
 * 2026-12-05).
 */
final class LimitsUpkeep {

    private static final Logger LOG = LoggerFactory.getLogger(LimitsUpkeep.class);

    private final Vertx vertx;
    private final LimitLedger limits;
    /** Held by a run while it runs; {@link #stop()} takes it, so it waits for a run under way. */
    private final Object running = new Object();
    private boolean stopped;
    private long timer = -1;

    LimitsUpkeep(Vertx vertx, LimitLedger limits) {
        this.vertx = vertx;
        this.limits = limits;
    }

    void start() {
        timer = vertx.setPeriodic(limits.maintenanceInterval().toMillis(), id -> vertx.executeBlocking(() -> {
            synchronized (running) {
                if (!stopped) {
                    limits.maintain();
                }
            }
            return null;
        }, false).onFailure(e -> LOG.warn("Could not keep the per-user limits up to date: {}",
                e.getClass().getSimpleName())));
    }

    /** No run starts after this, and a run under way has ended when it returns. */
    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        synchronized (running) {
            stopped = true;
        }
    }
}
