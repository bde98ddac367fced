package com.cobalt.chat.provider;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the upstream request carries besides the messages: {@code max_tokens} always, and the sampling settings an
 * OpenAI-compatible caller chose (null: the provider's default). Kept in the exchange variable {@link #VARIABLE};
 * the session API sends only CHAT_MAX_TOKENS.
 *
 * @param passThrough parameters sent upstream verbatim, in the caller's order: {@code tools}, {@code tool_choice},
 *                    {@code parallel_tool_calls}, {@code response_format}, {@code reasoning_effort}
 */
public record CompletionOptions(int maxTokens, Double temperature, Double topP, List<String> stop,
                                Map<String, JsonNode> passThrough) {

    public static final String VARIABLE = "completionOptions";

    public CompletionOptions {
        stop = stop == null ? null : List.copyOf(stop);
        passThrough = passThrough == null || passThrough.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(passThrough));
    }

    public CompletionOptions(int maxTokens, Double temperature, Double topP, List<String> stop) {
        this(maxTokens, temperature, topP, stop, Map.of());
    }

    public CompletionOptions withMaxTokens(int limit) {
        return new CompletionOptions(limit, temperature, topP, stop, passThrough);
    }

    public static CompletionOptions maxTokens(int maxTokens) {
        return new CompletionOptions(maxTokens, null, null, null);
    }
}
