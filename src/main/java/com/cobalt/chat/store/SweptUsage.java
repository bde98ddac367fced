package com.cobalt.chat.store;

import java.math.BigDecimal;
import java.util.List;

/**
 * The usage the sweep of expired leases stores for an answer its instance lost (AnswerCheckpoints): the provider
 * produced - and billed - its tokens, but the stream's counts never arrived, so they are the gateway's estimate, as
 * for any answer whose provider reported none (ChatRecorder).
 */
@FunctionalInterface
public interface SweptUsage {

    /**
     * @param prompt     what the gateway sent for the answer (ChatStore.promptOf)
     * @param completion the answer's checkpointed text
     */
    Estimate estimate(String provider, String model, List<ContextMessage> prompt, String completion);

    /** @param costUsd null when the model has no price */
    record Estimate(int promptTokens, int completionTokens, BigDecimal costUsd) {
    }
}
