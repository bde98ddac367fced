package com.cobalt.chat.health;

import java.util.Map;

import io.vertx.core.Vertx;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Liveness: whether the process should be restarted. Every stream, every HTTP request and the provider client run on
 * Vert.x's event loops; one that stops turning (blocked, or dead after an error) leaves a process that looks alive
 * and serves nothing. A timer on the event loop notes each turn; the check is DOWN when none came for
 * {@link #STUCK_AFTER_MS}. Draining on SIGTERM is not a reason to restart: that is readiness.
 */
public final class EventLoopLiveness extends AbstractHealthCheck {

    static final long TICK_MS = 1000;
    static final long STUCK_AFTER_MS = 30_000;

    private volatile long lastTickNanos = System.nanoTime();

    public EventLoopLiveness(Vertx vertx) {
        super("gateway", "event-loop");
        vertx.setPeriodic(TICK_MS, id -> lastTickNanos = System.nanoTime());
    }

    @Override
    public boolean isReadiness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long silentMs = (System.nanoTime() - lastTickNanos) / 1_000_000;
        if (silentMs > STUCK_AFTER_MS) {
            builder.message("the event loop has not turned for " + silentMs + " ms");
            builder.down();
        } else {
            builder.up();
        }
    }
}
