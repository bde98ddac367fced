package com.cobalt.chat.stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;

/**
 * The shape of the events the caller gets while an answer streams. The session API has its own events
 * ({@link ClientEvents}); the OpenAI-compatible endpoint writes {@code chat.completion.chunk}s, or nothing at all when
 * the caller asked for one whole {@code chat.completion}. Each method returns the SSE text to write, or null for
 * nothing. Kept in the exchange variable {@link #VARIABLE} (the session's format when absent).
 */
public interface ClientFormat {

    String VARIABLE = "clientFormat";

    /** The session API's events: {@code {"content","done"}}, {@code event: error}. */
    ClientFormat SESSION = new ClientFormat() {
        @Override
        public String delta(String content) {
            return ClientEvents.delta(content);
        }

        @Override
        public boolean appendDelta(String content, Buffer out) {
            ClientEvents.appendDelta(content, out);
            return true;
        }

        @Override
        public String finished(String finishReason) {
            return ClientEvents.finished(finishReason);
        }

        @Override
        public String error(String code, String message) {
            return ClientEvents.error(code, message);
        }

        @Override
        public String reasoning(String text) {
            return ClientEvents.reasoning(text);
        }
    };

    /** A piece of the answer. */
    String delta(String content);

    /**
     * The same event as {@link #delta}, appended to {@code out} as UTF-8 bytes: the hot path (one per token), which a
     * format may write without building the text first. False when there is nothing to write.
     */
    default boolean appendDelta(String content, Buffer out) {
        String event = delta(content);
        if (event == null) {
            return false;
        }
        out.appendString(event);
        return true;
    }

    /** The provider finished the answer, for this reason (stop, length, content_filter, ...). */
    String finished(String finishReason);

    /** The stream broke after it began; no [DONE] follows. */
    String error(String code, String message);

    /** Whether the caller's partial answer is stored when its stream breaks (the session API's is; /v1 stores none). */
    default boolean keepsPartialAnswers() {
        return true;
    }

    /**
     * Whether a model's refusal (OpenAI's {@code delta.refusal}: it declines a structured-output request) is relayed,
     * stored and counted as the answer's text. The session API's is: its user reads the refusal as the answer. The
     * OpenAI format keeps it apart, in {@code refusal}, as OpenAI's API does.
     */
    default boolean refusalIsContent() {
        return true;
    }

    /** A piece of a refusal, for a format that keeps it apart from the content; null when there is nothing to send. */
    default String refusal(String text) {
        return null;
    }

    /** A piece of a reasoning model's thinking (never part of the answer). */
    default String reasoning(String text) {
        return null;
    }

    /**
     * Tool-call deltas exactly as the provider sent them ({@code [{"index":0,"id":...,"function":{...}}]}). The session
     * API sends no tools, so it has nothing to say.
     */
    default String toolCalls(JsonNode calls) {
        return null;
    }
}
