package com.cobalt.chat.provider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.store.ContextMessage;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The OpenAI-compatible chat completion request sent upstream. */
public final class UpstreamRequestBody {

    private static final ObjectMapper JSON = new ObjectMapper();

    private UpstreamRequestBody() {
    }

    public static byte[] json(ProviderSettings provider, List<ContextMessage> messages, CompletionOptions options) {
        return json(provider, provider.target(null), messages, options, CatalogModel.MAX_TOKENS);
    }

    /**
     * For one model of the provider: its name goes in the body unless the URL names the deployment; the answer's
     * cap goes in {@code tokenLimit} ({@code max_tokens}, or {@code max_completion_tokens} for models that refuse it).
     */
    public static byte[] json(ProviderSettings provider, ProviderSettings.Target target, List<ContextMessage> messages,
                              CompletionOptions options, String tokenLimit) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (target.bodyModel() != null) {
            body.put("model", target.bodyModel());
        }
        body.put("messages", messages);
        body.put(tokenLimit, options.maxTokens());
        if (options.temperature() != null) {
            body.put("temperature", options.temperature());
        }
        if (options.topP() != null) {
            body.put("top_p", options.topP());
        }
        if (options.stop() != null && !options.stop().isEmpty()) {
            body.put("stop", options.stop());
        }
        // tools, tool_choice, parallel_tool_calls, response_format, reasoning_effort: as the caller sent them
        options.passThrough().forEach(body::put);
        body.put("stream", true);
        if (provider.includeUsage()) {
            body.put("stream_options", Map.of("include_usage", true));
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
