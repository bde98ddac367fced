package com.cobalt.chat.provider;

import com.cobalt.chat.config.ProviderName;

/** Which provider a new chat goes to first, and which one its breaker falls back to. */
public class ProviderSelection {

    private volatile ProviderName primary;
    private volatile ProviderName fallback;

    public ProviderSelection(ProviderName primary, ProviderName fallback) {
        this.primary = primary;
        this.fallback = fallback;
    }

    public String primary() {
        return primary.id();
    }

    /** The fallback's id, or an empty string when none is configured. */
    public String fallback() {
        return fallback == null ? "" : fallback.id();
    }

    public boolean hasFallback() {
        return fallback != null;
    }
}
