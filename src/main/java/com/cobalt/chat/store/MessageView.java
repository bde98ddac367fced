package com.cobalt.chat.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A stored message as the API shows it; a question and the answer to it share an {@code exchange_id}, which pairs
 * them when a session's messages were sent side by side; an answer also names the model that answered it and, in an
 * A/B split, the session's variant; a reasoning model's answer carries its {@code reasoning} beside the content,
 * and an answer the provider finished says why in {@code finish_reason} ({@code length}: cut at the token or answer
 * limit, {@code content_filter}, {@code stop}, {@code tool_calls}), so a cut answer is not taken for a whole one.
 */
public record MessageView(String id, @JsonProperty("exchange_id") String exchangeId, String role, String content,
                          String status,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String model,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String variant,
                          @JsonProperty("created_at") String createdAt,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String reasoning,
                          @JsonProperty("finish_reason") @JsonInclude(JsonInclude.Include.NON_NULL) String finishReason) {
}
