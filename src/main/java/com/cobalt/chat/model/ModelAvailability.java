package com.cobalt.chat.model;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.provider.ProviderBreakers;
import com.cobalt.chat.provider.ProviderHealth;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * Whether a provider can serve one of its catalog models now: its breaker lets calls through, it is not cooling
 * down, its health probe (when on) did not fail, and the last catalog check did not find the model missing.
 */
public class ModelAvailability {

    private final ProviderBreakers breakers;
    private final ProviderHealth health;
    /** provider -> the upstream names its last successful catalog check did not find. */
    private final Map<String, Set<String>> missing = new ConcurrentHashMap<>();

    public ModelAvailability(ProviderBreakers breakers, ProviderHealth health) {
        this.breakers = breakers;
        this.health = health;
    }

    /** The model at its provider: breaker not open, probe not failing, this model not cooling down, not missing. */
    public boolean available(CatalogModel m) {
        return breakerAndProbeAllow(m.provider()) && !health.inCooldown(m.provider(), m.upstreamName())
                && !missing.getOrDefault(m.provider(), Set.of()).contains(m.upstreamName());
    }

    /**
     * Whether the provider takes calls now (llm_provider_up): breaker not open, none of its models cooling down,
     * probe not failing.
     */
    public boolean providerUp(String provider) {
        return breakerAndProbeAllow(provider) && !health.inCooldown(provider);
    }

    private boolean breakerAndProbeAllow(String provider) {
        CircuitBreaker.State state = breakers.of(provider).getState();
        if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
            return false;
        }
        return !Boolean.FALSE.equals(health.snapshot(provider).probeOk());
    }

    /** The result of a catalog check that got an answer: these upstream names are not served (replaces the last). */
    public void missing(String provider, Set<String> upstreamNames) {
        missing.put(provider, Set.copyOf(upstreamNames));
    }
}
