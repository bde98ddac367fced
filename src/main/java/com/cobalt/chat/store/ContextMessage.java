package com.cobalt.chat.store;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One message of the conversation as the provider sees it.
 *
 * @param role    system, user, assistant or tool
 * @param content its text (the text parts joined; empty for an assistant message that only calls tools): what the
 *                gateway counts and trims by
 * @param wire    the message exactly as an OpenAI-compatible caller sent it, when it is more than a role and a text
 *                (an assistant message with {@code tool_calls}, a {@code tool} result, image parts); sent upstream
 *                unchanged. Null for plain messages, which are sent as {@code {"role","content"}}.
 */
public record ContextMessage(String role, String content, JsonNode wire) {

    public ContextMessage(String role, String content) {
        this(role, content, null);
    }

    /** What the provider is sent. */
    @JsonValue
    public Object json() {
        if (wire != null) {
            return wire;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
