package com.cobalt.chat.store;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** GET /api/v1/chat/sessions: one page of the caller's sessions; {@code next_cursor} is null on the last page. */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record SessionPage(List<SessionView> sessions, @JsonProperty("next_cursor") String nextCursor) {
}
