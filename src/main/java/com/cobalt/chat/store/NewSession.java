package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The body of POST /api/v1/chat/sessions; both fields optional. */
public record NewSession(String title, @JsonProperty("system_prompt") String systemPrompt) {

    public static final String DEFAULT_TITLE = "New chat";

    public String titleOrDefault() {
        return title == null || title.isBlank() ? DEFAULT_TITLE : title.strip();
    }
}
