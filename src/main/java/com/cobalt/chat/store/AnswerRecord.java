package com.cobalt.chat.store;

import java.math.BigDecimal;

/**
 * An assistant message to store once its stream ended. Token counts are null when no provider answered;
 * {@code tokensEstimated} says they were counted by the gateway; {@code costUsd} is null when unknown;
 * {@code model} is the catalog id of the model that answered; {@code variant} the session's A/B arm, or null;
 * {@code cachedTokens} / {@code reasoningTokens} the parts of the prompt served from the provider's cache and of the
 * completion spent reasoning (null when the provider did not say); {@code reasoning} what a reasoning model thought,
 * stored beside the answer and never sent back to a provider.
 */
public record AnswerRecord(String sessionId, String exchangeId, String userId, String content, String status,
                           String provider, String model, String finishReason, String errorCode, Integer promptTokens,
                           Integer completionTokens, Boolean tokensEstimated, BigDecimal costUsd,
                           Long timeToFirstTokenMs, Long durationMs, String variant, Integer cachedTokens,
                           Integer reasoningTokens, String reasoning) {

    /** An answer without cached or reasoning tokens and without reasoning. */
    public AnswerRecord(String sessionId, String exchangeId, String userId, String content, String status,
                        String provider, String model, String finishReason, String errorCode, Integer promptTokens,
                        Integer completionTokens, Boolean tokensEstimated, BigDecimal costUsd,
                        Long timeToFirstTokenMs, Long durationMs, String variant) {
        this(sessionId, exchangeId, userId, content, status, provider, model, finishReason, errorCode, promptTokens,
                completionTokens, tokensEstimated, costUsd, timeToFirstTokenMs, durationMs, variant, null, null, null);
    }
}
