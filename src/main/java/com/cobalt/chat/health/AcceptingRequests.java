package com.cobalt.chat.health;

import java.util.Map;
import java.util.function.BooleanSupplier;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness: this instance takes new requests. DOWN while it starts, until every route has started (the management
 * port answers before the chat routes are on the HTTP router, and a health registry with no check in it yet is UP);
 * DOWN from SIGTERM on, while its streams drain, so a balancer sends new chats elsewhere; the process is still live.
 */
public final class AcceptingRequests extends AbstractHealthCheck {

    private final BooleanSupplier started;
    private final BooleanSupplier draining;

    public AcceptingRequests(BooleanSupplier started, BooleanSupplier draining) {
        super("gateway", "accepting-requests");
        this.started = started;
        this.draining = draining;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        if (!started.getAsBoolean()) {
            builder.message("starting: the routes are not all started yet");
            builder.down();
        } else if (draining.getAsBoolean()) {
            builder.message("shutting down: streams in flight are finishing");
            builder.down();
        } else {
            builder.up();
        }
    }
}
