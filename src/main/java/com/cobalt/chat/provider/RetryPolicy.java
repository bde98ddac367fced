package com.cobalt.chat.provider;

import java.util.function.DoubleSupplier;

/**
 * Retries of one provider: exponential backoff with jitter (each delay drawn between half and all of
 * {@code base * 2^attempt}, capped), within a total time budget.
 */
public record RetryPolicy(int maxRetries, long baseDelayMs, long maxDelayMs, long budgetMs) {

    /** The pause before retry number {@code retry} (1-based); {@code random} yields values in [0, 1). */
    public long delayMs(int retry, DoubleSupplier random) {
        long ceiling = Math.min(maxDelayMs, baseDelayMs << Math.min(30, retry - 1));
        return ceiling / 2 + Math.round(random.getAsDouble() * (ceiling - ceiling / 2));
    }

    /** Whether another try fits: retries left, and the pause plus a try still inside the budget. */
    public boolean allows(int retry, long elapsedMs, long delayMs) {
        return retry <= maxRetries && elapsedMs + delayMs < budgetMs;
    }
}
