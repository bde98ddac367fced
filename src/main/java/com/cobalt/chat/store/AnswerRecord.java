package com.cobalt.chat.store;

import java.math.BigDecimal;

/**
 * An assistant message to store once its stream ended. Token counts are null when no provider answered;
 * {@code tokensEstimated} says they were counted by the gateway; {@code costUsd} is null when unknown;
 * {@code model} is the catalog id of the model that answered; {@code variant} the session's A/B arm, or null.
 */
public record AnswerRecord(String sessionId, String exchangeId, String userId, String content, String status,
                           String provider, String model, String finishReason, String errorCode, Integer promptTokens,
                           Integer completionTokens, Boolean tokensEstimated, BigDecimal costUsd,
                           Long timeToFirstTokenMs, Long durationMs, String variant) {
}
