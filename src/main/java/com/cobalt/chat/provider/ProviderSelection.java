package com.cobalt.chat.provider;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which provider a new chat goes to first, and which one its breaker falls back to. Operators change it at runtime
 * through JMX or the admin API; requests already under way keep the providers they started with.
 */
public class ProviderSelection implements ProviderSelectionMBean {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderSelection.class);

    /**
     * Primary and fallback as one value: they change together, and a request reads them once (the variable
     * {@code selection} that chat-http and openai-http set first), so a runtime switch applies to whole requests.
     *
     * @param fallback the fallback's id, or null when there is none
     */
    public record Choice(String primary, String fallback) {

        public boolean hasFallback() {
            return fallback != null;
        }
    }

    private final List<String> configured;
    /** Other names accepted for a configured provider (azureai -> azure). */
    private final Map<String, String> aliases;
    private volatile Choice choice;

    /**
     * @param configured every configured provider id, in their configured order
     * @param aliases    other accepted names of configured ids
     */
    public ProviderSelection(String primary, String fallback, List<String> configured, Map<String, String> aliases) {
        this.choice = new Choice(primary, fallback);
        this.configured = List.copyOf(configured);
        this.aliases = Map.copyOf(aliases);
    }

    /** The selection now, as one value: the first step of a chat request keeps it for the whole request. */
    public Choice current() {
        return choice;
    }

    // one name per value: Camel's bean binding finds getPrimary also as "primary", and two would be ambiguous
    @Override
    public String getPrimary() {
        return choice.primary();
    }

    /** The fallback's id, or an empty string when none is configured. */
    @Override
    public String getFallback() {
        String f = choice.fallback();
        return f == null ? "" : f;
    }

    public boolean hasFallback() {
        return choice.fallback() != null;
    }

    /** Every configured provider id, in configured order. */
    public List<String> configured() {
        return configured;
    }

    public boolean isSelected(String provider, String role) {
        Choice c = choice;
        return provider.equals("primary".equals(role) ? c.primary() : c.fallback());
    }

    @Override
    public String switchProviders(String primary, String fallback) {
        try {
            select(primary, fallback, "JMX");
            return "primary=" + getPrimary() + ", fallback=" + (hasFallback() ? getFallback() : "none");
        } catch (ApiError e) {
            // JMX clients cannot load our exception classes
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** Validates and applies a new selection; only providers configured at startup can be chosen. */
    public void select(String primary, String fallback, String source) {
        String p = configuredProvider(primary, "primary");
        String f = fallback == null || fallback.isBlank() ? null : configuredProvider(fallback, "fallback");
        if (p.equals(f)) {
            throw new ApiError(400, "invalid_selection", "The fallback must differ from the primary");
        }
        choice = new Choice(p, f);
        LOG.info("Provider selection changed via {}: primary={}, fallback={}", source, p,
                f == null ? "none" : f);
    }

    private String configuredProvider(String value, String role) {
        String v = value == null ? "" : value.trim().toLowerCase(java.util.Locale.ROOT);
        String p = aliases.getOrDefault(v, v);
        if (!configured.contains(p)) {
            throw new ApiError(400, "invalid_selection", "The " + role + " must be one of the configured providers: "
                    + String.join(", ", configured.stream().sorted().toList()));
        }
        return p;
    }
}
