package com.cobalt.chat.store;

import java.util.List;

/**
 * What the provider is given: the system prompt (or null) and the history of completed exchanges, oldest first;
 * and the session's model (null: the default model) and A/B variant (null: none).
 */
public record SessionContext(String systemPrompt, List<ContextMessage> history, String model, String variant) {

    public SessionContext(String systemPrompt, List<ContextMessage> history) {
        this(systemPrompt, history, null, null);
    }
}
