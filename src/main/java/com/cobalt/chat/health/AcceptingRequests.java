package com.cobalt.chat.health;

import java.util.Map;
import java.util.function.BooleanSupplier;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness: this instance takes new requests. DOWN from SIGTERM on, while its streams drain, so a balancer sends
 * new chats elsewhere; the process is still live.
 */
public final class AcceptingRequests extends AbstractHealthCheck {

    private final BooleanSupplier draining;

    public AcceptingRequests(BooleanSupplier draining) {
        super("gateway", "accepting-requests");
        this.draining = draining;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        if (draining.getAsBoolean()) {
            builder.message("shutting down: streams in flight are finishing");
            builder.down();
        } else {
            builder.up();
        }
    }
}
