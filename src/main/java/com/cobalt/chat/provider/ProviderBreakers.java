package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * One Resilience4j circuit breaker per configured provider, configured from {@code llm.breaker.<provider>.<setting>}
 * with {@code llm.breaker.<setting>} as the default, and bound as {@code <provider>CircuitBreaker} for the
 * {@code circuitBreaker} step of that provider's route (made from the provider-call Kamelet), so health checks, the
 * admin API and metrics read the very breaker the route uses.
 *
 * <p>A provider skipped because it is cooling down (it asked for a pause with a retry hint) fails inside the breaker,
 * so the route's {@code onFallback} takes the request, but the breaker ignores that failure: the 429 or 503 that
 * started the cooldown was counted already, and skipped calls are not calls.
 */
public final class ProviderBreakers {

    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();

    public ProviderBreakers(Collection<String> providers, Function<String, String> properties, Clock clock) {
        for (String p : providers) {
            Function<String, String> setting = key -> {
                String own = properties.apply("llm.breaker." + p + "." + key);
                return own == null || own.isBlank() ? properties.apply("llm.breaker." + key) : own;
            };
            CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                    .failureRateThreshold(Float.parseFloat(setting.apply("failure-rate-threshold")))
                    .slidingWindowSize(Integer.parseInt(setting.apply("sliding-window-size")))
                    .minimumNumberOfCalls(Integer.parseInt(setting.apply("minimum-number-of-calls")))
                    .waitDurationInOpenState(Duration.ofMillis(Long.parseLong(setting.apply("wait-in-open-ms"))))
                    .permittedNumberOfCallsInHalfOpenState(
                            Integer.parseInt(setting.apply("permitted-calls-in-half-open-state")))
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
