package com.cobalt.chat.provider;

/**
 * The provider refused the request itself (HTTP 400: a bad request, or Azure's prompt content filter). It is the
 * caller's problem, not the provider's: no fallback, and the breaker does not count it.
 */
public record ProviderRejection(String provider, boolean contentFilter) implements UpstreamAnswer {
}
