package com.cobalt.chat.store;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * GET /api/v1/chat/sessions/{id}: the session as {@link SessionView} shows it, with one page of its messages (oldest
 * first) and {@code next_cursor}, the cursor of the older messages (null when the page reaches the first message).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionDetail(String id, String title,
                            @JsonProperty("system_prompt") String systemPrompt,
                            String model, String variant,
                            @JsonProperty("created_at") String createdAt,
                            @JsonProperty("updated_at") String updatedAt,
                            List<MessageView> messages,
                            @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("next_cursor") String nextCursor) {
}
