package com.cobalt.chat.provider;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.RequestBodies;
import org.apache.camel.Exchange;

/** The admin API's view of the providers, and its runtime switch of primary and fallback. */
public class ProviderAdmin {

    private final ProviderSelection selection;
    private final ProviderBreakers breakers;
    private final ProviderHealth health;
    private final Map<String, String> auth;
    private final Map<String, Integer> weights;

    public ProviderAdmin(ProviderSelection selection, ProviderBreakers breakers, ProviderHealth health) {
        this(selection, breakers, health, Map.of(), Map.of());
    }

    /**
     * @param auth    how each provider authenticates (none, key, key-file, entra)
     * @param weights each provider's LLM_PROVIDER_<ID>_WEIGHT
     */
    public ProviderAdmin(ProviderSelection selection, ProviderBreakers breakers, ProviderHealth health,
                         Map<String, String> auth, Map<String, Integer> weights) {
        this.selection = selection;
        this.breakers = breakers;
        this.health = health;
        this.auth = Map.copyOf(auth);
        this.weights = Map.copyOf(weights);
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ProviderStatus(String name, String auth, Integer weight,
                                 @JsonProperty("breaker_state") String breakerState,
                                 @JsonProperty("cooldown_until") String cooldownUntil,
                                 @JsonProperty("last_error_class") String lastErrorClass,
                                 @JsonProperty("last_error_at") String lastErrorAt,
                                 long requests, long failures,
                                 @JsonProperty("probe_ok") Boolean probeOk) {
    }

    public record Providers(String primary, String fallback, List<ProviderStatus> providers) {
    }

    public Providers status() {
        List<ProviderStatus> list = new ArrayList<>();
        for (String p : selection.configured()) {
            ProviderHealth.Snapshot s = health.snapshot(p);
            list.add(new ProviderStatus(p, auth.get(p), weights.get(p), breakers.of(p).getState().name(),
                    iso(s.cooldownUntil()),
                    s.lastErrorClass(), iso(s.lastErrorAt()), s.requests(), s.failures(), s.probeOk()));
        }
        return new Providers(selection.getPrimary(), selection.hasFallback() ? selection.getFallback() : null, list);
    }

    /** PUT /api/v1/admin/providers/selection {"primary": "...", "fallback": "..." | null}. */
    public Providers select(Exchange exchange) {
        JsonNode body = RequestBodies.jsonObject(exchange, true);
        if (!body.path("primary").isTextual()) {
            throw ApiError.badRequest("invalid_selection", "The body needs a \"primary\" provider name");
        }
        JsonNode fallback = body.get("fallback");
        if (fallback != null && !fallback.isNull() && !fallback.isTextual()) {
            throw ApiError.badRequest("invalid_selection", "\"fallback\" must be a provider name or null");
        }
        selection.select(body.get("primary").asText(), fallback == null || fallback.isNull() ? null : fallback.asText(),
                "admin API (" + exchange.getVariable("user", String.class) + ")");
        return status();
    }

    private static String iso(Instant t) {
        return t == null ? null : t.toString();
    }
}
