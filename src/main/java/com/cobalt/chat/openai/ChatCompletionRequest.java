package com.cobalt.chat.openai;

import java.util.List;

import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.store.ContextMessage;

/**
 * A validated {@code POST /v1/chat/completions} body: what the gateway carries of OpenAI's request, nothing it would
 * have to drop.
 *
 * @param model        the catalog id asked for, or null for the default model
 * @param messages     system / user / assistant messages with their text, in order
 * @param options      max_tokens (capped at CHAT_MAX_TOKENS), temperature, top_p, stop
 * @param stream       SSE chat.completion.chunk events, or one chat.completion
 * @param includeUsage {@code stream_options.include_usage}: a usage chunk before [DONE]
 * @param user         the caller's end-user id (accepted, not sent upstream: the gateway's user is the JWT's subject)
 */
public record ChatCompletionRequest(String model, List<ContextMessage> messages, CompletionOptions options,
                                    boolean stream, boolean includeUsage, String user) {

    public ChatCompletionRequest {
        messages = List.copyOf(messages);
    }
}
