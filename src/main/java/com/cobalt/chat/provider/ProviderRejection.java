package com.cobalt.chat.provider;

/**
 * The provider refused the request itself: HTTP 400 (a bad request, or Azure's prompt content filter), 413 (a body
 * larger than it takes) or 422 (a request it cannot process). It is the caller's problem, not the provider's: no
 * fallback, and the breaker does not count it - one user's oversized conversation must not take the provider away
 * from everyone.
 */
public record ProviderRejection(String provider, boolean contentFilter, int status) implements UpstreamAnswer {

    public ProviderRejection(String provider, boolean contentFilter) {
        this(provider, contentFilter, 400);
    }

    /** The statuses that are the request's fault, not the provider's. */
    public static boolean rejects(int status) {
        return status == 400 || status == 413 || status == 422;
    }
}
