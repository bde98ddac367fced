package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A stored message as the API shows it; an answer also names the model that answered it and, in an A/B split, the
 * session's variant; a reasoning model's answer carries its {@code reasoning} beside the content.
 */
public record MessageView(String id, String role, String content, String status,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String model,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String variant,
                          @JsonProperty("created_at") String createdAt,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String reasoning) {

    public MessageView(String id, String role, String content, String status, String model, String variant,
                       String createdAt) {
        this(id, role, content, status, model, variant, createdAt, null);
    }
}
