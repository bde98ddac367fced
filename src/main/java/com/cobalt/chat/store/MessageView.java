package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A stored message as the API shows it. */
public record MessageView(String id, String role, String content, String status,
                          @JsonProperty("created_at") String createdAt) {
}
