package com.cobalt.chat.provider;

/**
 * A provider failed before its stream began: the breaker counts it and the fallback takes over. The message is
 * safe to log (no key, no content, no upstream error text).
 */
public class ProviderFailure extends RuntimeException {

    public enum Kind { CONNECT, TIMEOUT, HTTP_STATUS, BAD_RESPONSE, BREAKER_OPEN }

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

    public static ProviderFailure breakerOpen(String provider) {
        return new ProviderFailure(provider, Kind.BREAKER_OPEN, 0, null, provider + ": circuit breaker open");
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
        return kind == Kind.HTTP_STATUS && status == 429;
    }

    /** A short label for logs and metrics. */
    public String errorClass() {
        return kind == Kind.HTTP_STATUS ? "http_" + status : kind.name().toLowerCase();
    }
}
