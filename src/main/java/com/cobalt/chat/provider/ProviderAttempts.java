package com.cobalt.chat.provider;

import java.util.ArrayList;
import java.util.List;

/**
 * The failed provider attempts of one chat request, in order. One instance per exchange, kept in a property: the
 * breaker's exchange copies share it, so a fallback sees what failed before it.
 */
public final class ProviderAttempts {

    public static final String PROPERTY = "cobaltAttempts";

    private final List<ProviderFailure> failures = new ArrayList<>();

    public synchronized void add(ProviderFailure failure) {
        failures.add(failure);
    }

    public synchronized List<ProviderFailure> failures() {
        return List.copyOf(failures);
    }

    public synchronized boolean allRateLimited() {
        return !failures.isEmpty() && failures.stream().allMatch(ProviderFailure::rateLimited);
    }

    /** Every provider tried had every connection in use: the gateway is at its connection limit, not a provider down. */
    public synchronized boolean allBusy() {
        return !failures.isEmpty() && failures.stream().allMatch(ProviderFailure::busy);
    }

    /**
     * The shortest Retry-After among the failures, or null when none carried one: once the first provider's pause is
     * over the request has somewhere to go (a provider cooling down is skipped and the next one asked), so that is
     * when a retry can be answered.
     */
    public synchronized Long retryAfterSeconds() {
        return failures.stream().map(ProviderFailure::retryAfterSeconds).filter(v -> v != null)
                .min(Long::compare).orElse(null);
    }
}
