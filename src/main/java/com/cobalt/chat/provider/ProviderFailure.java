package com.cobalt.chat.provider;

/**
 * A provider failed before its stream began: the breaker counts it and the fallback takes over. The message is
 * safe to log (no key, no content, no upstream error text).
 */
public class ProviderFailure extends RuntimeException {

    public enum Kind { CONNECT, TIMEOUT, HTTP_STATUS, BAD_RESPONSE, BAD_STREAM, BREAKER_OPEN, COOLDOWN, IDENTITY, BUSY }

    private final String provider;
    private final Kind kind;
    private final int status;
    private final Long retryAfterSeconds;

    public ProviderFailure(String provider, Kind kind, int status, Long retryAfterSeconds, String message) {
        super(message, null, false, false);
        this.provider = provider;
        this.kind = kind;
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ProviderFailure connect(String provider, Throwable cause) {
        return new ProviderFailure(provider, Kind.CONNECT, 0, null,
                provider + ": connection failed (" + cause.getClass().getSimpleName() + ")");
    }

    public static ProviderFailure timeout(String provider, String what) {
        return new ProviderFailure(provider, Kind.TIMEOUT, 0, null, provider + ": " + what);
    }

    public static ProviderFailure status(String provider, int status, Long retryAfterSeconds) {
        return new ProviderFailure(provider, Kind.HTTP_STATUS, status, retryAfterSeconds,
                provider + ": HTTP " + status);
    }

    public static ProviderFailure badResponse(String provider, String what) {
        return new ProviderFailure(provider, Kind.BAD_RESPONSE, 0, null, provider + ": " + what);
    }

    /** The 200 stream broke (error event, error data, cut, unreadable) before its first content. */
    public static ProviderFailure badStream(String provider, String code) {
        return new ProviderFailure(provider, Kind.BAD_STREAM, 0, null, provider + ": stream failed before content ("
                + code + ")");
    }

    /** The 200 stream broke after its first content had gone to the client: counted, never a fallback. */
    public static ProviderFailure brokeAfterStart(String provider, String code) {
        return new ProviderFailure(provider, Kind.BAD_STREAM, 0, null, provider + ": stream broke after it began ("
                + code + ")");
    }

    /** Skipped without a network call: the provider asked us to wait (429/503 with a retry hint). */
    public static ProviderFailure coolingDown(String provider, int originStatus, long retryAfterSeconds) {
        return new ProviderFailure(provider, Kind.COOLDOWN, originStatus, retryAfterSeconds,
                provider + ": cooling down after HTTP " + originStatus);
    }

    /** No credential for the request: the Entra ID token could not be had (the message names no token). */
    public static ProviderFailure identity(String provider, String what) {
        return new ProviderFailure(provider, Kind.IDENTITY, 0, null, provider + ": " + what);
    }

    /**
     * No connection to the provider came free within the attempt's wait: every one of the gateway's connections to
     * its host (LLM_MAX_CONNECTIONS over HTTP/1.1, or every stream of its HTTP/2 connections) carried another answer.
     * The gateway's own limit, not the provider's failure: the breaker ignores it, it is not retried at the same
     * provider (its pool is still full), and a 503 made of such failures alone says {@code overloaded}, retry in 1 s.
     */
    public static ProviderFailure busy(String provider, long waitedMs) {
        return new ProviderFailure(provider, Kind.BUSY, 0, 1L,
                provider + ": no free connection within " + waitedMs + " ms (every connection carries an answer)");
    }

    public static ProviderFailure breakerOpen(String provider) {
        return breakerOpen(provider, null);
    }

    /** @param retryAfterSeconds when the breaker lets a call through again (the 503's Retry-After), or null */
    public static ProviderFailure breakerOpen(String provider, Long retryAfterSeconds) {
        return new ProviderFailure(provider, Kind.BREAKER_OPEN, 0, retryAfterSeconds,
                provider + ": circuit breaker open");
    }

    public String provider() {
        return provider;
    }

    public Kind kind() {
        return kind;
    }

    public int status() {
        return status;
    }

    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public boolean rateLimited() {
        return (kind == Kind.HTTP_STATUS || kind == Kind.COOLDOWN) && status == 429;
    }

    /** Every connection to the provider was in use (the gateway's limit, not a provider failure). */
    public boolean busy() {
        return kind == Kind.BUSY;
    }

    /** Worth another try at the same provider: connect errors, 408 and 5xx without a retry hint. */
    public boolean retryable() {
        return switch (kind) {
            case CONNECT -> true;
            case HTTP_STATUS -> retryAfterSeconds == null && (status == 408 || status >= 500);
            default -> false;
        };
    }

    /** The provider asked for a pause: 429 or 503 with retry-after-ms / Retry-After. */
    public boolean asksForCooldown() {
        return kind == Kind.HTTP_STATUS && (status == 429 || status == 503) && retryAfterSeconds != null;
    }

    /** A short label for logs and metrics. */
    public String errorClass() {
        return kind == Kind.HTTP_STATUS ? "http_" + status : kind.name().toLowerCase();
    }
}
