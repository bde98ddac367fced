package com.cobalt.chat.provider;

import java.util.concurrent.TimeUnit;

import com.cobalt.chat.stream.StreamOutcome;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;

/**
 * Counts a stream its provider broke after it began: cut off, unreadable, an error event, silent past
 * LLM_STREAM_IDLE_TIMEOUT_MS. Its start was the breaker's success (the breaker decides at the first token, so that
 * a long answer does not hold a half-open breaker's trial call); the break is one more failure for the provider's
 * breaker and its health, so a provider that breaks every stream it starts opens its breaker like one that fails
 * before it starts. An answer the caller left, that was too slow for its reader, or that a shutdown or a deleted
 * session ended is not the provider's doing and is not counted.
 */
public class BrokenStreams {

    private final ProviderBreakers breakers;
    private final ProviderHealth health;

    public BrokenStreams(ProviderBreakers breakers, ProviderHealth health) {
        this.breakers = breakers;
        this.health = health;
    }

    public void count(@Variable("provider") String provider,
                      @ExchangeProperty(StreamOutcome.PROPERTY) StreamOutcome outcome) {
        if (provider == null || outcome == null || !outcome.brokenByProvider()) {
            return;
        }
        ProviderFailure failure = ProviderFailure.brokeAfterStart(provider, outcome.errorCode());
        breakers.of(provider).onError(0, TimeUnit.MILLISECONDS, failure);
        health.noteFailure(failure);
    }
}
