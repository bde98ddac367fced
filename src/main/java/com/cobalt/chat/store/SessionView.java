package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A session as the API shows it (the list, a created session; GET /sessions/{id} answers a {@link SessionDetail});
 * {@code messages} is always null here; {@code model} and {@code variant}
 * only when the session has them (a session without a model talks to the default model).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionView(String id, String title,
                          @JsonProperty("system_prompt") String systemPrompt,
                          String model, String variant,
                          @JsonProperty("created_at") String createdAt,
                          @JsonProperty("updated_at") String updatedAt,
                          List<MessageView> messages) {
}
