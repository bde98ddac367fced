package com.cobalt.chat.provider;

import java.util.Map;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness of one provider, shown by name at /observe/health: DOWN while its breaker is open, while it is in a
 * cooldown it asked for, or while the periodic probe (when enabled) fails.
 */
public class ProviderHealthCheck extends AbstractHealthCheck {

    private final String provider;
    private final CircuitBreaker breaker;
    private final ProviderHealth health;

    public ProviderHealthCheck(String provider, CircuitBreaker breaker, ProviderHealth health) {
        super("providers", "provider:" + provider);
        this.provider = provider;
        this.breaker = breaker;
        this.health = health;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        ProviderHealth.Snapshot s = health.snapshot(provider);
        CircuitBreaker.State state = breaker.getState();
        builder.detail("provider", provider);
        builder.detail("breaker.state", state.name());
        builder.detail("requests", s.requests());
        builder.detail("failures", s.failures());
        if (s.cooldownUntil() != null) {
            builder.detail("cooldown.until", s.cooldownUntil().toString());
        }
        if (s.lastErrorClass() != null) {
            builder.detail("last.error.class", s.lastErrorClass());
            builder.detail("last.error.at", s.lastErrorAt().toString());
        }
        if (s.probeOk() != null) {
            builder.detail("probe.ok", s.probeOk());
        }
        boolean breakerOpen = state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN;
        if (breakerOpen) {
            builder.message("circuit breaker open");
            builder.down();
        } else if (s.cooldownUntil() != null) {
            builder.message("cooling down as the provider asked");
            builder.down();
        } else if (Boolean.FALSE.equals(s.probeOk())) {
            builder.message("health probe failing");
            builder.down();
        } else {
            builder.up();
        }
    }
}
