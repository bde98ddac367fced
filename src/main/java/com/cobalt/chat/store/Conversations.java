package com.cobalt.chat.store;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds what the provider is sent: system prompt, then the session's history, then the new user message. */
public class Conversations {

    public String newExchangeId() {
        return UUID.randomUUID().toString();
    }

    public List<ContextMessage> upstreamMessages(SessionContext context, String userContent) {
        List<ContextMessage> messages = new ArrayList<>(context.history().size() + 2);
        if (context.systemPrompt() != null) {
            messages.add(new ContextMessage("system", context.systemPrompt()));
        }
        messages.addAll(context.history());
        messages.add(new ContextMessage("user", userContent));
        return messages;
    }
}
