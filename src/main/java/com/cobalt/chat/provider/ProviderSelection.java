package com.cobalt.chat.provider;

import java.util.Set;
import java.util.stream.Collectors;

import com.cobalt.chat.config.ProviderName;
import com.cobalt.chat.http.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which provider a new chat goes to first, and which one its breaker falls back to. Operators change it at runtime
 * through JMX or the admin API; requests already under way keep the providers they started with.
 */
public class ProviderSelection implements ProviderSelectionMBean {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderSelection.class);

    /** Primary and fallback change together, so a request never sees half a switch. */
    private record Choice(ProviderName primary, ProviderName fallback) {
    }

    private final Set<ProviderName> configured;
    private volatile Choice choice;

    public ProviderSelection(ProviderName primary, ProviderName fallback, Set<ProviderName> configured) {
        this.choice = new Choice(primary, fallback);
        this.configured = Set.copyOf(configured);
    }

    // one name per value: Camel's bean binding finds getPrimary also as "primary", and two would be ambiguous
    @Override
    public String getPrimary() {
        return choice.primary().id();
    }

    /** The fallback's id, or an empty string when none is configured. */
    @Override
    public String getFallback() {
        ProviderName f = choice.fallback();
        return f == null ? "" : f.id();
    }

    public boolean hasFallback() {
        return choice.fallback() != null;
    }

    public Set<ProviderName> configured() {
        return configured;
    }

    public boolean isSelected(ProviderName provider, String role) {
        Choice c = choice;
        return "primary".equals(role) ? c.primary() == provider : c.fallback() == provider;
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
        ProviderName p = configuredProvider(primary, "primary");
        ProviderName f = fallback == null || fallback.isBlank() ? null : configuredProvider(fallback, "fallback");
        if (p == f) {
            throw new ApiError(400, "invalid_selection", "The fallback must differ from the primary");
        }
        choice = new Choice(p, f);
        LOG.info("Provider selection changed via {}: primary={}, fallback={}", source, p.id(),
                f == null ? "none" : f.id());
    }

    private ProviderName configuredProvider(String value, String role) {
        ProviderName p = ProviderName.parse(value).orElse(null);
        if (p == null || !configured.contains(p)) {
            throw new ApiError(400, "invalid_selection", "The " + role + " must be one of the configured providers: "
                    + configured.stream().map(ProviderName::id).sorted().collect(Collectors.joining(", ")));
        }
        return p;
    }
}
