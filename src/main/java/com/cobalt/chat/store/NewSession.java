package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The body of POST /api/v1/chat/sessions, all fields optional; {@code model} is a catalog id, and {@code variant} the
 * A/B split's arm when the split chose the model.
 */
public record NewSession(String title, @JsonProperty("system_prompt") String systemPrompt, String model,
                         String variant) {

    public static final String DEFAULT_TITLE = "New chat";

    public NewSession(String title, String systemPrompt) {
        this(title, systemPrompt, null, null);
    }

    public String titleOrDefault() {
        return title == null || title.isBlank() ? DEFAULT_TITLE : title;
    }

    public NewSession withModel(String chosenModel, String chosenVariant) {
        return new NewSession(title, systemPrompt, chosenModel, chosenVariant);
    }
}
