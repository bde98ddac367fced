package com.cobalt.chat.record;

import java.math.BigDecimal;

/**
 * The tokens and cost of one answer. {@code estimated} is true when any count was made by the gateway's tokenizer
 * instead of reported by the provider; {@code costUsd} is null when the model has no price; {@code cachedTokens} and
 * {@code reasoningTokens} (parts of the prompt and completion) are null when the provider did not report them.
 */
public record Usage(int promptTokens, int completionTokens, boolean estimated, BigDecimal costUsd,
                    Integer cachedTokens, Integer reasoningTokens) {

    public Usage(int promptTokens, int completionTokens, boolean estimated, BigDecimal costUsd) {
        this(promptTokens, completionTokens, estimated, costUsd, null, null);
    }
}
