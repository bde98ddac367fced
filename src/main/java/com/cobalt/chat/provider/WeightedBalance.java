package com.cobalt.chat.provider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

import com.cobalt.chat.config.CatalogModel;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * LLM_BALANCE=weighted: which of the provider instances serving a model takes a request. Each instance's chance is
 * its LLM_PROVIDER_<ID>_WEIGHT times the share of the model's rate limit it has left there (Azure's
 * x-ratelimit-remaining-requests and -tokens, counted per deployment: {@link ProviderHealth#headroom(String, String)}),
 * so a deployment running out of quota gets less before it starts answering 429, and the instance's other
 * deployments keep theirs. An instance in cooldown (it asked for a pause) or with an open breaker is not chosen at
 * all, so no request fails on it.
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

    /**
     * The instance's share now as one figure (llm_provider_share): its weight times the lowest rate-limit headroom of
     * its models (the one closest to its limit); 0 while one of its models cools down or its breaker is open.
     */
    public double share(String provider) {
        if (!takesRequests(provider, null)) {
            return 0;
        }
        return weights.getOrDefault(provider, 1) * health.headroom(provider);
    }

    /** The instance's share of the requests for {@code upstreamModel}: its weight times that model's headroom. */
    private double share(String provider, String upstreamModel) {
        if (!takesRequests(provider, upstreamModel)) {
            return 0;
        }
        return weights.getOrDefault(provider, 1) * health.headroom(provider, upstreamModel);
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
