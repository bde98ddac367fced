package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.config.BreakerSettings;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * One Resilience4j circuit breaker per configured provider, configured from the validated
 * {@link BreakerSettings} ({@code llm.breaker.<provider>.<setting>} with {@code llm.breaker.<setting>} as the default), and bound as {@code <provider>CircuitBreaker} for the
 * {@code circuitBreaker} step of that provider's route (made from the provider-call Kamelet), so health checks, the
 * admin API and metrics read the very breaker the route uses.
 *
 * <p>A provider skipped because it is cooling down (it asked for a pause with a retry hint) fails inside the breaker,
 * so the route's {@code onFallback} takes the request, but the breaker ignores that failure: the 429 or 503 that
 * started the cooldown was counted already, and skipped calls are not calls.
 */
public final class ProviderBreakers {

    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();

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
                    .ignoreException(ProviderBreakers::isCooldownSkip)
                    .clock(clock)
                    .build();
            breakers.put(p, CircuitBreaker.of(p, config));
        }
    }

    static boolean isCooldownSkip(Throwable t) {
        return t instanceof ProviderFailure f && f.kind() == ProviderFailure.Kind.COOLDOWN;
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

    public Map<String, CircuitBreaker> all() {
        return breakers;
    }
}
