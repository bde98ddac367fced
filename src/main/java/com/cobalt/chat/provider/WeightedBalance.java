package com.cobalt.chat.provider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

import com.cobalt.chat.config.CatalogModel;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * LLM_BALANCE=weighted: which of the provider instances serving a model takes a request. Each instance's chance is
 * its LLM_PROVIDER_<ID>_WEIGHT times the share of its rate limit it has left (Azure's x-ratelimit-remaining-requests
 * and -tokens, {@link ProviderHealth#headroom}), so a deployment running out of quota gets less before it starts
 * answering 429. An instance in cooldown (it asked for a pause) or with an open breaker is not chosen at all, so no
 * request fails on it.
 */
public class WeightedBalance {

    private final Map<String, Integer> weights;
    private final ProviderHealth health;
    private final ProviderBreakers breakers;
    private final RandomGenerator random;

    /** @param weights each configured provider's weight */
    public WeightedBalance(Map<String, Integer> weights, ProviderHealth health, ProviderBreakers breakers,
                           RandomGenerator random) {
        this.weights = Map.copyOf(weights);
        this.health = health;
        this.breakers = breakers;
        this.random = random;
    }

    /** Whether the instance takes requests for {@code upstreamModel} now (null: for any): no cooldown, breaker not open. */
    public boolean takesRequests(String provider, String upstreamModel) {
        CircuitBreaker.State state = breakers.of(provider).getState();
        return state != CircuitBreaker.State.OPEN && state != CircuitBreaker.State.FORCED_OPEN
                && !health.inCooldown(provider, upstreamModel);
    }

    /** The instance's share now (llm_provider_share): its weight times its rate-limit headroom; 0 when it takes no requests. */
    public double share(String provider) {
        return share(provider, null);
    }

    private double share(String provider, String upstreamModel) {
        if (!takesRequests(provider, upstreamModel)) {
            return 0;
        }
        return weights.getOrDefault(provider, 1) * health.headroom(provider);
    }

    /**
     * One of {@code candidates} (except {@code except}), drawn by share; null when none has a share (every one is
     * cooling down, open, out of quota or of weight 0).
     */
    public String pick(Map<String, CatalogModel> candidates, String except) {
        List<String> names = new ArrayList<>();
        List<Double> shares = new ArrayList<>();
        double total = 0;
        for (Map.Entry<String, CatalogModel> e : candidates.entrySet()) {
            String c = e.getKey();
            if (c.equals(except)) {
                continue;
            }
            double s = share(c, e.getValue().upstreamName());
            if (s > 0) {
                names.add(c);
                shares.add(s);
                total += s;
            }
        }
        if (names.isEmpty()) {
            return null;
        }
        double draw = random.nextDouble() * total;
        for (int i = 0; i < names.size(); i++) {
            draw -= shares.get(i);
            if (draw < 0) {
                return names.get(i);
            }
        }
        return names.get(names.size() - 1);
    }
}
