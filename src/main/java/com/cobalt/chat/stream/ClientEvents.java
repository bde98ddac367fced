package com.cobalt.chat.stream;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;

/** The SSE events of the chat contract (README.md, "HTTP API (v1)"). */
public final class ClientEvents {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String DONE = "data: [DONE]\n\n";
    public static final String KEEP_ALIVE = ": keep-alive\n\n";

    private ClientEvents() {
    }

    /** The hot path (one per token): built as text, the content quoted as Jackson would. */
    public static String delta(String content) {
        return "data: {\"content\":" + jsonString(content) + ",\"done\":false}\n\n";
    }

    private static final byte[] DELTA_HEAD = "data: {\"content\":\"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DELTA_TAIL = "\",\"done\":false}\n\n".getBytes(StandardCharsets.UTF_8);

    /** {@link #delta}'s event in UTF-8, appended without building its text (one token's copy instead of three). */
    public static void appendDelta(String content, Buffer out) {
        appendQuoted(out, DELTA_HEAD, content, DELTA_TAIL);
    }

    /**
     * head, the inside of {@link #jsonString}'s literal for value, tail: as UTF-8 bytes, escaped the same way. Text with
     * a lone surrogate (a provider's {@code "\\ud800"}), which Jackson's UTF-8 quoting refuses, is quoted as text and
     * encoded as the text events are (the surrogate as {@code ?}).
     */
    public static void appendQuoted(Buffer out, byte[] head, String value, byte[] tail) {
        out.appendBytes(head);
        try {
            out.appendBytes(JsonStringEncoder.getInstance().quoteAsUTF8(value));
        } catch (IllegalArgumentException e) {
            out.appendString(new String(JsonStringEncoder.getInstance().quoteAsString(value)));
        }
        out.appendBytes(tail);
    }

    /**
     * A piece of a reasoning model's thinking, in the added field {@code reasoning}; its {@code content} is empty, so a
     * client that appends only {@code content} shows the answer alone.
     */
    public static String reasoning(String text) {
        return "data: {\"content\":\"\",\"reasoning\":" + jsonString(text) + ",\"done\":false}\n\n";
    }

    /** A JSON string literal: quotes, backslash and control characters escaped, the rest as is. */
    public static String jsonString(String value) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(value)) + "\"";
    }

    public static String finished(String finishReason) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("content", "");
        m.put("done", true);
        m.put("finish_reason", finishReason);
        return data(m);
    }

    public static String error(String code, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        return "event: error\n" + data(Map.of("error", inner));
    }

    private static String data(Object value) {
        try {
            return "data: " + JSON.writeValueAsString(value) + "\n\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
