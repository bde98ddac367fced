package com.cobalt.chat.config;

/**
 * One provider's circuit breaker, validated: {@code llm.breaker.<id>.<setting>} where set, else
 * {@code llm.breaker.<setting>}.
 *
 * @param failureRateThreshold          % of failed calls in the window that opens the breaker, in (0, 100]
 * @param slidingWindowSize             calls in the window, at least 1
 * @param minimumNumberOfCalls          calls before the rate is evaluated, at least 1
 * @param waitInOpenMs                  time open before half-open, at least 1 ms
 * @param permittedCallsInHalfOpenState probe calls let through when half-open, at least 1
 */
public record BreakerSettings(float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
                              long waitInOpenMs, int permittedCallsInHalfOpenState) {

    /** The settings of application.properties. */
    public static final BreakerSettings DEFAULTS = new BreakerSettings(50f, 20, 5, 30_000, 2);
}
