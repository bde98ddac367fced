package com.cobalt.chat.stream;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which tool call of an answer a provider's tool-call delta belongs to: its {@code index}; without one (Gemini- and
 * Mistral-style OpenAI compatibility send a whole call per delta, no index), a new id is the next call and a delta
 * without id continues the last. One per answer and reader of its deltas (the /v1 format, the token estimate);
 * event loop only.
 */
public final class ToolCallIndexes {

    /** The highest index of this answer so far, and the index and id of the call the last delta belonged to. */
    private int highest = -1;
    private int last = -1;
    private String lastId;

    public int of(JsonNode call) {
        JsonNode given = call.get("index");
        String id = call.path("id").isTextual() ? call.get("id").asText() : null;
        int index;
        if (given != null && given.canConvertToInt()) {
            index = given.asInt();
        } else if (last < 0 || (id != null && !id.equals(lastId))) {
            index = highest + 1;
        } else {
            index = last;
        }
        highest = Math.max(highest, index);
        last = index;
        if (id != null) {
            lastId = id;
        }
        return index;
    }
}
