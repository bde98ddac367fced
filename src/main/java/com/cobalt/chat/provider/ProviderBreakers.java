package com.cobalt.chat.provider;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

import com.cobalt.chat.config.ProviderName;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * One Resilience4j circuit breaker per provider, configured from {@code llm.breaker.<provider>.<setting>} with
 * {@code llm.breaker.<setting>} as the default, and bound as {@code <provider>CircuitBreaker} for the provider
 * route's {@code circuitBreaker} step, so health checks, the admin API and metrics read the very breaker the
 * route uses.
 */
public final class ProviderBreakers {

    private final Map<ProviderName, CircuitBreaker> breakers = new EnumMap<>(ProviderName.class);

    public ProviderBreakers(Function<String, String> properties, Clock clock) {
        for (ProviderName p : ProviderName.values()) {
            Function<String, String> setting = key -> {
                String own = properties.apply("llm.breaker." + p.id() + "." + key);
                return own == null || own.isBlank() ? properties.apply("llm.breaker." + key) : own;
            };
            CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                    .failureRateThreshold(Float.parseFloat(setting.apply("failure-rate-threshold")))
                    .slidingWindowSize(Integer.parseInt(setting.apply("sliding-window-size")))
                    .minimumNumberOfCalls(Integer.parseInt(setting.apply("minimum-number-of-calls")))
                    .waitDurationInOpenState(Duration.ofMillis(Long.parseLong(setting.apply("wait-in-open-ms"))))
                    .permittedNumberOfCallsInHalfOpenState(
                            Integer.parseInt(setting.apply("permitted-calls-in-half-open-state")))
                    .clock(clock)
                    .build();
            breakers.put(p, CircuitBreaker.of(p.id(), config));
        }
    }

    public static String beanName(ProviderName provider) {
        return provider.id() + "CircuitBreaker";
    }

    public CircuitBreaker of(ProviderName provider) {
        return breakers.get(provider);
    }

    public Map<ProviderName, CircuitBreaker> all() {
        return breakers;
    }
}
