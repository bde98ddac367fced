package com.cobalt.chat.stream;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What one upstream data event says: a content delta (may be empty), a reasoning delta, tool-call deltas (as the
 * provider sent them, to be relayed verbatim), a finish reason, token usage with its cached and reasoning parts, or
 * an error; and a refusal delta (OpenAI's structured outputs: the model declines, in {@code delta.refusal} instead
 * of the content). Fields the provider did not send are null.
 */
public record ChunkReading(String content, String reasoning, JsonNode toolCalls, String finishReason,
                           Integer promptTokens, Integer completionTokens, Integer cachedTokens,
                           Integer reasoningTokens, String errorCode, boolean done, String refusal) {

    public static final ChunkReading DONE = new ChunkReading(null, null, null, null, null, true);

    /** Content, finish reason and the two main token counts only. */
    public ChunkReading(String content, String finishReason, Integer promptTokens, Integer completionTokens,
                        String errorCode, boolean done) {
        this(content, null, null, finishReason, promptTokens, completionTokens, null, null, errorCode, done, null);
    }

    public boolean isError() {
        return errorCode != null;
    }

    public boolean hasContent() {
        return content != null && !content.isEmpty();
    }

    public boolean hasRefusal() {
        return refusal != null && !refusal.isEmpty();
    }

    public boolean hasReasoning() {
        return reasoning != null && !reasoning.isEmpty();
    }

    public boolean hasToolCalls() {
        return toolCalls != null && toolCalls.isArray() && !toolCalls.isEmpty();
    }

    public boolean hasUsage() {
        return promptTokens != null || completionTokens != null;
    }

    static ChunkReading error(String code) {
        return new ChunkReading(null, null, null, null, code, false);
    }
}
