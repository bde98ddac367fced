package com.cobalt.chat.openai;

import java.util.List;

import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.store.ContextMessage;

/**
 * A validated {@code POST /v1/chat/completions} body: what the gateway carries of OpenAI's request, nothing it would
 * have to drop.
 *
 * @param model        the catalog id asked for, or null for the default model
 * @param messages     system / user / assistant / tool messages, in order (any that is more than a role and a text
 *                     exactly as sent)
 * @param options      max_tokens (capped at CHAT_MAX_TOKENS), temperature, top_p, stop, and the parameters passed
 *                     through verbatim (tools, tool_choice, parallel_tool_calls, response_format, reasoning_effort)
 * @param stream       SSE chat.completion.chunk events, or one chat.completion
 * @param includeUsage {@code stream_options.include_usage}: a usage chunk before [DONE]
 * @param user         the caller's end-user id (accepted, not sent upstream: the gateway's user is the JWT's subject)
 * @param needs        the capabilities the request needs of its model: tools, json_schema, vision, reasoning
 */
public record ChatCompletionRequest(String model, List<ContextMessage> messages, CompletionOptions options,
                                    boolean stream, boolean includeUsage, String user, List<String> needs) {

    public ChatCompletionRequest {
        messages = List.copyOf(messages);
        needs = needs == null ? List.of() : List.copyOf(needs);
    }
}
