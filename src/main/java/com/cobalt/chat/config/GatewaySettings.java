package com.cobalt.chat.config;

import java.util.Map;

/** The validated configuration the beans work with. */
public record GatewaySettings(ProviderName primary, ProviderName fallback, Map<ProviderName, ProviderSettings> providers,
                              int maxTokens, int maxContextMessages, int maxMessageLength,
                              int rateLimitPerMinute, int dailyMessageQuota, int maxConcurrentStreams, boolean limitsShared,
                              boolean authDisabled, String jwtSecret, String jwtJwksUrl, String jwtIssuer,
                              String jwtAudience,
                              long connectTimeoutMs, long responseHeadersTimeoutMs, long firstTokenTimeoutMs,
                              long streamIdleTimeoutMs, int maxConnections, int errorBodyMaxBytes, long keepAliveMs,
                              int maxRetries, long retryBaseDelayMs, long retryMaxDelayMs, long retryBudgetMs,
                              CatalogSettings catalog) {

    public ProviderSettings provider(ProviderName name) {
        ProviderSettings s = providers.get(name);
        if (s == null) {
            throw new IllegalStateException("provider not configured: " + name.id());
        }
        return s;
    }

    @Override
    public String toString() {
        return "GatewaySettings[primary=" + primary.id() + ", fallback=" + (fallback == null ? "none" : fallback.id())
                + ", authDisabled=" + authDisabled + "]";
    }
}
