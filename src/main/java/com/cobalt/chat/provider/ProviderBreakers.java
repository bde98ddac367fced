package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.config.BreakerSettings;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;

/**
 * One Resilience4j circuit breaker per configured provider, configured from the validated
 * {@link BreakerSettings} ({@code llm.breaker.<provider>.<setting>} with {@code llm.breaker.<setting>} as the
 * default), and bound as {@code <provider>CircuitBreaker}, so health checks, the admin API and metrics read the very
 * breaker the provider's route uses.
 *
 * <p>The route (made from the provider-call Kamelet) uses the breaker around a call that does not hold a thread:
 * {@link #permit} asks the breaker before the call (an open breaker fails the step without a network call), and
 * {@link #recordSuccess} / {@link #recordFailure} tell it the outcome once the provider answered or failed, with the
 * call's duration - Resilience4j's own protocol for asynchronous calls ({@code tryAcquirePermission}, {@code
 * onSuccess}, {@code onError}), the same one its {@code decorateCompletionStage} uses. Camel's {@code circuitBreaker}
 * EIP runs its steps synchronously on the calling thread, which held a worker per chat until the provider's first
 * token (docs/ARCHITECTURE.md, "Threads").
 *
 * <p>A provider skipped because it is cooling down (it asked for a pause with a retry hint) is skipped before its
 * breaker is asked, and the breaker also ignores that failure: the 429 or 503 that started the cooldown was counted
 * already, and skipped calls are not calls. It ignores a chat that found every connection to the provider in use
 * too: the gateway's own limit, not the provider's failure.
 */
public final class ProviderBreakers {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProviderBreakers.class);

    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();
    /** When each breaker last opened, on the breakers' clock: how long an open one still refuses calls. */
    private final Map<String, java.time.Instant> openedAt = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Long> waitInOpenMs = new LinkedHashMap<>();
    private final Clock clock;

    /** @param settings each provider's validated breaker settings (SettingsLoader), by provider id */
    public ProviderBreakers(Map<String, BreakerSettings> settings, Clock clock) {
        for (Map.Entry<String, BreakerSettings> e : settings.entrySet()) {
            String p = e.getKey();
            BreakerSettings s = e.getValue();
            CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                    .failureRateThreshold(s.failureRateThreshold())
                    .slidingWindowSize(s.slidingWindowSize())
                    .minimumNumberOfCalls(s.minimumNumberOfCalls())
                    .waitDurationInOpenState(Duration.ofMillis(s.waitInOpenMs()))
                    .permittedNumberOfCallsInHalfOpenState(s.permittedCallsInHalfOpenState())
                    .ignoreException(ProviderBreakers::isNotTheProviders)
                    .clock(clock)
                    .build();
            CircuitBreaker breaker = CircuitBreaker.of(p, config);
            breaker.getEventPublisher().onStateTransition(t -> {
                CircuitBreaker.State to = t.getStateTransition().getToState();
                if (to == CircuitBreaker.State.OPEN) {
                    openedAt.put(p, clock.instant());
                    // one line per opening: the chats it then skips are not logged each (they were, one WARN a chat)
                    LOG.warn("Provider {}: breaker opened ({}); calls to it are skipped for {} ms", p,
                            t.getStateTransition(), s.waitInOpenMs());
                } else {
                    LOG.info("Provider {}: breaker {}", p, t.getStateTransition());
                }
            });
            breakers.put(p, breaker);
            waitInOpenMs.put(p, s.waitInOpenMs());
        }
        this.clock = clock;
    }

    /**
     * Seconds until an open breaker lets a trial call through (at least 1), for the Retry-After of a request that
     * found no provider; 1 when half-open with its trial calls taken (one of them may close it any moment).
     */
    long secondsUntilPermitted(String provider, CircuitBreaker breaker) {
        java.time.Instant opened = openedAt.get(provider);
        if (breaker.getState() != CircuitBreaker.State.OPEN || opened == null) {
            return 1;
        }
        long leftMs = waitInOpenMs.get(provider) - Duration.between(opened, clock.instant()).toMillis();
        return Math.max(1, (leftMs + 999) / 1000);
    }

    /**
     * Failures the breaker ignores (Resilience4j releases the call's permission): a cooldown skip, and a chat that
     * found every connection to the provider in use - a burst past LLM_MAX_CONNECTIONS opened a healthy provider's
     * breaker for its wait in open before (a 3,000-stream probe).
     */
    static boolean isNotTheProviders(Throwable t) {
        return t instanceof ProviderFailure f
                && (f.kind() == ProviderFailure.Kind.COOLDOWN || f.kind() == ProviderFailure.Kind.BUSY);
    }

    public static String beanName(String provider) {
        return provider + "CircuitBreaker";
    }

    public CircuitBreaker of(String provider) {
        CircuitBreaker b = breakers.get(provider);
        if (b == null) {
            throw new IllegalArgumentException("no breaker for provider " + provider);
        }
        return b;
    }

    /**
     * The breaker's permission for one call of the provider: the call's start, to hand back with its outcome.
     *
     * @throws ProviderFailure of kind breaker-open when the breaker does not permit the call (open, or half-open
     *                         with its trial calls taken); the breaker counts it as not permitted
     */
    public Permit permit(@Variable("provider") String provider) {
        CircuitBreaker breaker = of(provider);
        if (!breaker.tryAcquirePermission()) {
            throw ProviderFailure.breakerOpen(provider, secondsUntilPermitted(provider, breaker));
        }
        return new Permit(breaker, breaker.getCurrentTimestamp());
    }

    /** The permitted call answered (a stream began, or a 400 that is the caller's fault): a success. */
    public void recordSuccess(@Variable(Permit.VARIABLE) Permit permit) {
        if (permit != null && !permit.recorded) {
            permit.recorded = true;
            permit.breaker.onSuccess(permit.elapsed(), permit.breaker.getTimestampUnit());
        }
    }

    /**
     * The permitted call failed: an error for the breaker (unless it is one the breaker ignores). Nothing is recorded
     * when the step failed before a permission was given (a cooldown skip, an open breaker).
     */
    public void recordFailure(@Variable(Permit.VARIABLE) Permit permit,
                              @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Throwable failure) {
        if (permit != null && !permit.recorded) {
            permit.recorded = true;
            if (failure instanceof ShuttingDown) {
                permit.breaker.releasePermission(); // the gateway stopped the call, not the provider
                return;
            }
            permit.breaker.onError(permit.elapsed(), permit.breaker.getTimestampUnit(),
                    failure == null ? new IllegalStateException("unknown failure") : failure);
        }
    }

    /**
     * One permitted call of a provider; kept in the request's variable {@value #VARIABLE} while it runs. Its outcome
     * is recorded once: the variable may still hold an earlier provider's permit when a later step fails before its
     * own permit (a cooldown skip, an open breaker), and that permit's outcome is already in its breaker.
     */
    public static final class Permit {
        public static final String VARIABLE = "breakerPermit";
        final CircuitBreaker breaker;
        final long start;
        boolean recorded;

        Permit(CircuitBreaker breaker, long start) {
            this.breaker = breaker;
            this.start = start;
        }

        long elapsed() {
            return breaker.getCurrentTimestamp() - start;
        }
    }

    public Map<String, CircuitBreaker> all() {
        return breakers;
    }
}
