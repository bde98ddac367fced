package com.cobalt.chat.stream;

/**
 * What one upstream data event says: a content delta (may be empty), a finish reason, token usage, or an error.
 * Fields the provider did not send are null.
 */
public record ChunkReading(String content, String finishReason, Integer promptTokens, Integer completionTokens,
                           String errorCode, boolean done) {

    public static final ChunkReading DONE = new ChunkReading(null, null, null, null, null, true);

    public boolean isError() {
        return errorCode != null;
    }

    public boolean hasContent() {
        return content != null && !content.isEmpty();
    }

    public boolean hasUsage() {
        return promptTokens != null || completionTokens != null;
    }

    static ChunkReading error(String code) {
        return new ChunkReading(null, null, null, null, code, false);
    }
}
