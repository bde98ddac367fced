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
    }

    public boolean inCooldown(String provider) {
        return state(provider).cooldownUntil.get().isAfter(clock.instant());
    }

    /**
     * The first step inside a provider's circuitBreaker: a provider in cooldown is skipped without a network call, by
     * failing here, so the breaker's onFallback takes the request (the breaker itself ignores this failure).
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
