package com.cobalt.chat.provider;

/**
 * What a provider answered before the client was sent anything: a stream that has produced its first output
 * ({@link com.cobalt.chat.stream.RelaySession}), or a {@link ProviderRejection} of the request itself. Failures are
 * thrown ({@link ProviderFailure}), so the circuit breaker sees them; these two are not failures of the provider.
 */
public interface UpstreamAnswer {
}
