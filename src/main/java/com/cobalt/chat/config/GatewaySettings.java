package com.cobalt.chat.config;

import java.util.Map;

/**
 * The validated configuration the beans work with.
 *
 * @param primary   the id of the provider new chats go to first
 * @param fallback  the id of the provider a failed request falls back to, or null
 * @param providers every configured provider by id, in the order they were configured
 * @param httpHost       the address the chat API listens on
 * @param managementHost the address the management port (health, metrics) listens on
 * @param maxCooldownSeconds the longest cooldown a provider's retry hint may ask for (longer hints are cut to it)
 * @param breakers       each configured provider's circuit breaker settings, by provider id
 * @param runtime        the HTTP server, pools, background checks, shutdown and demo settings
 * @param databaseEmbedded   the database is an embedded H2 only this process can open: this instance is alone on it
 * @param checkpointMs       how often the text of a streaming answer is stored (CHAT_CHECKPOINT_SECONDS)
 * @param streamLeaseSeconds how long a dead instance's stream slots and streaming answers count as live
 * @param weightedBalance    LLM_BALANCE=weighted: a model's requests are spread over the instances serving it
 * @param entra              where Entra ID tokens come from, or null when no provider uses them
 * @param transport          HTTP/2 and trust for the provider connections
 */
public record GatewaySettings(String primary, String fallback, Map<String, ProviderSettings> providers,
                              int maxTokens, int maxContextMessages, int maxMessageLength,
                              int rateLimitPerMinute, int dailyMessageQuota, int maxConcurrentStreams, int maxSessionsPerUser,
                              int sessionCreatesPerMinute, long maxAnswerBytes, boolean limitsShared,
                              boolean authDisabled, String jwtSecret, String jwtJwksUrl, String jwtIssuer,
                              String jwtAudience, String httpHost, String managementHost,
                              long connectTimeoutMs, long responseHeadersTimeoutMs, long firstTokenTimeoutMs,
                              long streamIdleTimeoutMs, int maxConnections, int errorBodyMaxBytes, long keepAliveMs,
                              int maxRetries, long retryBaseDelayMs, long retryMaxDelayMs, long retryBudgetMs,
                              long maxCooldownSeconds, CatalogSettings catalog, Map<String, BreakerSettings> breakers,
                              RuntimeSettings runtime, boolean databaseEmbedded, long checkpointMs,
                              int streamLeaseSeconds, boolean weightedBalance, EntraSettings entra,
                              UpstreamTransport transport) {

    public GatewaySettings {
        breakers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(breakers));
    }

    /** The breaker settings of a configured provider. */
    public BreakerSettings breaker(String id) {
        BreakerSettings b = breakers.get(id);
        if (b == null) {
            throw new IllegalStateException("provider not configured: " + id);
        }
        return b;
    }

    public ProviderSettings provider(String id) {
        ProviderSettings s = providers.get(id);
        if (s == null) {
            throw new IllegalStateException("provider not configured: " + id);
        }
        return s;
    }

    @Override
    public String toString() {
        return "GatewaySettings[primary=" + primary + ", fallback=" + (fallback == null ? "none" : fallback)
                + ", authDisabled=" + authDisabled + "]";
    }
}
