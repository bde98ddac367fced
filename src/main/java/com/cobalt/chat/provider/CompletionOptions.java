package com.cobalt.chat.provider;

import java.util.List;

/**
 * What the upstream request carries besides the messages: {@code max_tokens} always, and the sampling settings an
 * OpenAI-compatible caller chose (null: the provider's default). Kept in the exchange property {@link #PROPERTY};
 * the session API sends only CHAT_MAX_TOKENS.
 */
public record CompletionOptions(int maxTokens, Double temperature, Double topP, List<String> stop) {

    public static final String PROPERTY = "cobaltCompletionOptions";

    public CompletionOptions {
        stop = stop == null ? null : List.copyOf(stop);
    }

    public CompletionOptions withMaxTokens(int limit) {
        return new CompletionOptions(limit, temperature, topP, stop);
    }

    public static CompletionOptions maxTokens(int maxTokens) {
        return new CompletionOptions(maxTokens, null, null, null);
    }
}
