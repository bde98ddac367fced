package com.cobalt.chat.store;

/** An assistant message to store once its stream ended. Token counts are null when the provider did not say. */
public record AnswerRecord(String sessionId, String exchangeId, String content, String status, String provider,
                           String model, String finishReason, String errorCode, Integer promptTokens,
                           Integer completionTokens, Long timeToFirstTokenMs, Long durationMs) {
}
