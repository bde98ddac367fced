package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.camel.Variable;

/**
 * What the gateway knows about each provider's health besides its breaker: the cooldowns 429/503 retry hints asked
 * for, the last error, and how many calls and failures it had. Times come from the injected clock.
 *
 * <p>A cooldown holds for the model the hint came with (its upstream name: an Azure deployment, a SambaNova model):
 * providers count their quotas per deployment or model, so one model's 429 does not take the provider's other
 * models out. A failure not tied to a model (none is named) cools the provider's every model.
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

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProviderHealth.class);

    /** One model's cooldown (or the provider's, under {@link #EVERY_MODEL}). */
    private static final class Cooldown {
        final AtomicReference<Instant> until = new AtomicReference<>(Instant.EPOCH);
        volatile int status;
    }

    /** The key of a cooldown that holds for all of a provider's models (a failure that named none). */
    private static final String EVERY_MODEL = "";

    private static final class State {
        /** By upstream model name; made by a model's first cooldown, never removed (one per catalog model at most). */
        final Map<String, Cooldown> cooldowns = new ConcurrentHashMap<>();
        volatile String lastErrorClass;
        volatile Instant lastErrorAt;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        volatile Boolean probeOk;
        /** By upstream model name (deployment): each counts its own quota; made by a model's first reading. */
        final Map<String, Quota> quotas = new ConcurrentHashMap<>();
    }

    /** One upstream model's rate-limit readings: the last one, and the most seen (taken as its quota per window). */
    private static final class Quota {
        volatile RateLimits last;
        final AtomicLong mostRequests = new AtomicLong();
        final AtomicLong mostTokens = new AtomicLong();
    }

    /** The last x-ratelimit-remaining-* reading of an upstream model, and when it was seen. */
    private record RateLimits(Instant at, long remainingRequests, long remainingTokens) {
    }

    /** How long a rate-limit reading counts: Azure's quotas are counted in windows of 10 to 60 seconds. */
    static final Duration RATE_LIMIT_READING = Duration.ofSeconds(10);

    /** Whether any of the provider's models is cooling down (the provider's health as the admin API shows it). */
    public boolean inCooldown(String provider) {
        return latest(state(provider), null) != null;
    }

    /** Whether {@code upstreamModel} at the provider is cooling down (null: any of its models). */
    public boolean inCooldown(String provider, String upstreamModel) {
        return latest(state(provider), upstreamModel) != null;
    }

    /**
     * The first step of a provider's route: a model in cooldown is skipped without a network call, by failing
     * here, so the fallback takes the request; its breaker is not asked (and would ignore this failure).
     */
    public void requireNotCoolingDown(@Variable("provider") String provider,
                                      @Variable(UpstreamClient.UPSTREAM_MODEL_VARIABLE) String upstreamModel) {
        if (inCooldown(provider, upstreamModel)) {
            throw coolingDown(provider, upstreamModel);
        }
    }

    /**
     * The failure a model in cooldown stands for (null: the provider's latest-ending cooldown), so the fallback sees
     * why it was skipped.
     */
    public ProviderFailure coolingDown(String provider, String upstreamModel) {
        Cooldown c = latest(state(provider), upstreamModel);
        Instant until = c == null ? clock.instant() : c.until.get();
        long seconds = Math.max(1, (Duration.between(clock.instant(), until).toMillis() + 999) / 1000);
        return ProviderFailure.coolingDown(provider, c == null ? 0 : c.status, seconds);
    }

    /**
     * The cooldown in force that ends last among those that hold for {@code upstreamModel} (its own and the
     * provider-wide one; null: every model's), or null when none is in force.
     */
    private Cooldown latest(State s, String upstreamModel) {
        Instant now = clock.instant();
        Cooldown best = null;
        if (upstreamModel == null) {
            for (Cooldown c : s.cooldowns.values()) {
                best = later(best, c, now);
            }
            return best;
        }
        best = later(null, s.cooldowns.get(EVERY_MODEL), now);
        return later(best, s.cooldowns.get(upstreamModel), now);
    }

    private static Cooldown later(Cooldown best, Cooldown c, Instant now) {
        if (c == null || !c.until.get().isAfter(now)) {
            return best;
        }
        return best == null || c.until.get().isAfter(best.until.get()) ? c : best;
    }

    public void noteRequest(String provider) {
        state(provider).requests.incrementAndGet();
    }

    /** Counts a failed call that named no model; a retry hint on 429/503 cools the provider's every model. */
    public void noteFailure(ProviderFailure failure) {
        noteFailure(failure, null);
    }

    /**
     * Counts a failed call of {@code upstreamModel} (null: of no one model); a retry hint on 429/503 starts or
     * extends (never shortens) that model's cooldown.
     */
    public void noteFailure(ProviderFailure failure, String upstreamModel) {
        State s = state(failure.provider());
        s.failures.incrementAndGet();
        s.lastErrorClass = failure.errorClass();
        s.lastErrorAt = clock.instant();
        if (failure.asksForCooldown()) {
            Cooldown c = s.cooldowns.computeIfAbsent(upstreamModel == null ? EVERY_MODEL : upstreamModel,
                    k -> new Cooldown());
            Instant until = clock.instant().plusSeconds(failure.retryAfterSeconds());
            Instant previous = c.until.getAndAccumulate(until, (a, b) -> a.isAfter(b) ? a : b);
            if (!previous.isAfter(until)) {
                c.status = failure.status();
            }
            if (!previous.isAfter(clock.instant())) {
                // once per cooldown, not per chat it then skips (those are DEBUG in ProviderFailures)
                LOG.warn("Provider {}: {} cools down for {} s (HTTP {} with a retry hint); calls to it are skipped"
                        + " until then", failure.provider(), upstreamModel == null ? "every model" : "model "
                        + upstreamModel, failure.retryAfterSeconds(), failure.status());
            }
        }
    }

    /**
     * Azure's {@code x-ratelimit-remaining-requests} / {@code x-ratelimit-remaining-tokens} of an answer of
     * {@code upstreamModel} (-1: the header was not there). Azure counts them per deployment, OpenAI and SambaNova per
     * model, so they are kept per upstream model name; the largest values seen for it stand for its quota.
     */
    public void noteRateLimits(String provider, String upstreamModel, long remainingRequests, long remainingTokens) {
        if (remainingRequests < 0 && remainingTokens < 0) {
            return;
        }
        Quota q = state(provider).quotas.computeIfAbsent(upstreamModel == null ? EVERY_MODEL : upstreamModel,
                k -> new Quota());
        q.mostRequests.accumulateAndGet(remainingRequests, Math::max);
        q.mostTokens.accumulateAndGet(remainingTokens, Math::max);
        q.last = new RateLimits(clock.instant(), remainingRequests, remainingTokens);
    }

    /**
     * The share of its quota {@code upstreamModel} has left at the provider, from 0 to 1, by its last rate-limit
     * reading: the smaller of remaining requests and remaining tokens, each against the most seen. 1 without a
     * reading, or when the reading is older than {@link #RATE_LIMIT_READING} (the window it counted has passed).
     */
    public double headroom(String provider, String upstreamModel) {
        Quota q = state(provider).quotas.get(upstreamModel == null ? EVERY_MODEL : upstreamModel);
        return q == null ? 1.0 : headroom(q, clock.instant());
    }

    /** The provider's headroom as one figure (llm_provider_share): the lowest of its models'. */
    public double headroom(String provider) {
        Instant now = clock.instant();
        double h = 1.0;
        for (Quota q : state(provider).quotas.values()) {
            h = Math.min(h, headroom(q, now));
        }
        return h;
    }

    private static double headroom(Quota q, Instant now) {
        RateLimits r = q.last;
        if (r == null || r.at().plus(RATE_LIMIT_READING).isBefore(now)) {
            return 1.0;
        }
        double h = 1.0;
        long mostRequests = q.mostRequests.get();
        long mostTokens = q.mostTokens.get();
        if (r.remainingRequests() >= 0 && mostRequests > 0) {
            h = Math.min(h, (double) r.remainingRequests() / mostRequests);
        }
        if (r.remainingTokens() >= 0 && mostTokens > 0) {
            h = Math.min(h, (double) r.remainingTokens() / mostTokens);
        }
        return h;
    }

    /** The periodic probe's verdict (null until a probe ran). */
    public void noteProbe(String provider, boolean ok) {
        state(provider).probeOk = ok;
    }

    public Snapshot snapshot(String provider) {
        State s = state(provider);
        Cooldown c = latest(s, null);
        return new Snapshot(c == null ? null : c.until.get(), c == null ? 0 : c.status, s.lastErrorClass,
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
