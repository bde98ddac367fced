package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.camel.Variable;

/**
 * What the gateway knows about each provider's health besides its breaker: the cooldown a 429/503 retry hint asked
 * for, the last error, and how many calls and failures it had. Times come from the injected clock.
 */
public class ProviderHealth {

    private final Clock clock;
    /** One state per configured provider, made at start: the map is only read afterwards. */
    private final Map<String, State> states = new HashMap<>();

    public ProviderHealth(Clock clock, Collection<String> providers) {
        this.clock = clock;
        for (String p : providers) {
            states.put(p, new State());
        }
    }

    /** A snapshot for health checks and the admin API. */
    public record Snapshot(Instant cooldownUntil, int cooldownStatus, String lastErrorClass, Instant lastErrorAt,
                           long requests, long failures, Boolean probeOk) {
    }

    private static final class State {
        final AtomicReference<Instant> cooldownUntil = new AtomicReference<>(Instant.EPOCH);
        volatile int cooldownStatus;
        volatile String lastErrorClass;
        volatile Instant lastErrorAt;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        volatile Boolean probeOk;
        volatile RateLimits rateLimits;
        /** The most remaining requests / tokens seen: taken as the deployment's quota per window. */
        volatile long mostRequests;
        volatile long mostTokens;
    }

    /** The last x-ratelimit-remaining-* reading of a provider, and when it was seen. */
    private record RateLimits(Instant at, long remainingRequests, long remainingTokens) {
    }

    /** How long a rate-limit reading counts: Azure's quotas are counted in windows of 10 to 60 seconds. */
    static final Duration RATE_LIMIT_READING = Duration.ofSeconds(10);

    public boolean inCooldown(String provider) {
        return state(provider).cooldownUntil.get().isAfter(clock.instant());
    }

    /**
     * The first step of a provider's route: a provider in cooldown is skipped without a network call, by failing
     * here, so the fallback takes the request; its breaker is not asked (and would ignore this failure).
     */
    public void requireNotCoolingDown(@Variable("provider") String provider) {
        if (inCooldown(provider)) {
            throw coolingDown(provider);
        }
    }

    /** The failure a provider in cooldown stands for, so the fallback sees why it was skipped. */
    public ProviderFailure coolingDown(String provider) {
        State s = state(provider);
        long seconds = Math.max(1, (Duration.between(clock.instant(), s.cooldownUntil.get()).toMillis() + 999) / 1000);
        return ProviderFailure.coolingDown(provider, s.cooldownStatus, seconds);
    }

    public void noteRequest(String provider) {
        state(provider).requests.incrementAndGet();
    }

    /** Counts a failed call; a retry hint on 429/503 starts or extends (never shortens) the cooldown. */
    public void noteFailure(ProviderFailure failure) {
        State s = state(failure.provider());
        s.failures.incrementAndGet();
        s.lastErrorClass = failure.errorClass();
        s.lastErrorAt = clock.instant();
        if (failure.asksForCooldown()) {
            Instant until = clock.instant().plusSeconds(failure.retryAfterSeconds());
            Instant previous = s.cooldownUntil.getAndAccumulate(until, (a, b) -> a.isAfter(b) ? a : b);
            if (!previous.isAfter(until)) {
                s.cooldownStatus = failure.status();
            }
        }
    }

    /**
     * Azure's {@code x-ratelimit-remaining-requests} / {@code x-ratelimit-remaining-tokens} of an answer (-1: the
     * header was not there). The largest values seen stand for the quota.
     */
    public void noteRateLimits(String provider, long remainingRequests, long remainingTokens) {
        if (remainingRequests < 0 && remainingTokens < 0) {
            return;
        }
        State s = state(provider);
        if (remainingRequests > s.mostRequests) {
            s.mostRequests = remainingRequests;
        }
        if (remainingTokens > s.mostTokens) {
            s.mostTokens = remainingTokens;
        }
        s.rateLimits = new RateLimits(clock.instant(), remainingRequests, remainingTokens);
    }

    /**
     * The share of its quota a provider has left, from 0 to 1, by its last rate-limit reading: the smaller of
     * remaining requests and remaining tokens, each against the most seen. 1 without a reading, or when the reading
     * is older than {@link #RATE_LIMIT_READING} (the window it counted has passed).
     */
    public double headroom(String provider) {
        State s = state(provider);
        RateLimits r = s.rateLimits;
        if (r == null || r.at().plus(RATE_LIMIT_READING).isBefore(clock.instant())) {
            return 1.0;
        }
        double h = 1.0;
        if (r.remainingRequests() >= 0 && s.mostRequests > 0) {
            h = Math.min(h, (double) r.remainingRequests() / s.mostRequests);
        }
        if (r.remainingTokens() >= 0 && s.mostTokens > 0) {
            h = Math.min(h, (double) r.remainingTokens() / s.mostTokens);
        }
        return h;
    }

    /** The periodic probe's verdict (null until a probe ran). */
    public void noteProbe(String provider, boolean ok) {
        state(provider).probeOk = ok;
    }

    public Snapshot snapshot(String provider) {
        State s = state(provider);
        Instant until = s.cooldownUntil.get();
        return new Snapshot(until.isAfter(clock.instant()) ? until : null, s.cooldownStatus, s.lastErrorClass,
                s.lastErrorAt, s.requests.get(), s.failures.get(), s.probeOk);
    }

    private State state(String provider) {
        State s = provider == null ? null : states.get(provider);
        if (s == null) {
            throw new IllegalArgumentException("unknown provider " + provider);
        }
        return s;
    }
}
