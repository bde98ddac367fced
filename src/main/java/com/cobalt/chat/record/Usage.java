package com.cobalt.chat.record;

import java.math.BigDecimal;

/**
 * The tokens and cost of one answer. {@code estimated} is true when any count was made by the gateway's tokenizer
 * instead of reported by the provider; {@code costUsd} is null when the model has no price.
 */
public record Usage(int promptTokens, int completionTokens, boolean estimated, BigDecimal costUsd) {
}
