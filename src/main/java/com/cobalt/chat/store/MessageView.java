package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A stored message as the API shows it; an answer also names the model that answered it and, in an A/B split, the
 * session's variant.
 */
public record MessageView(String id, String role, String content, String status,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String model,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String variant,
                          @JsonProperty("created_at") String createdAt) {
}
