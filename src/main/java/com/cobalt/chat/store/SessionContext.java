package com.cobalt.chat.store;

import java.util.List;

/** What the provider is given: the system prompt (or null) and the history of completed exchanges, oldest first. */
public record SessionContext(String systemPrompt, List<ContextMessage> history) {
}
