package com.cobalt.chat.stream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Turns the upstream's bytes, split anywhere by the network, into server-sent events. Lines end in LF or CRLF (a CR
 * and its LF may arrive in different reads); a line is decoded as UTF-8 only once it is whole, so a multi-byte
 * character split across reads survives. Comment lines ({@code :}) are dropped; a blank line ends an event.
 */
public final class SseDecoder {

    /** A line longer than this is not an SSE stream we can trust; the relay treats it as a broken stream. */
    public static final int MAX_LINE_BYTES = 1 << 20;

    private final Consumer<SseEvent> sink;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final StringBuilder data = new StringBuilder();
    private String eventType;
    private boolean hasData;

    public SseDecoder(Consumer<SseEvent> sink) {
        this.sink = sink;
    }

    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    public void feed(byte[] bytes, int offset, int length) {
        int start = offset;
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            if (bytes[i] == '\n') {
                checkLength(i - start);
                line.write(bytes, start, i - start);
                onLine();
                start = i + 1;
            }
        }
        checkLength(end - start);
        line.write(bytes, start, end - start);
    }

    private void checkLength(int more) {
        if (line.size() + more > MAX_LINE_BYTES) {
            throw new LineTooLongException();
        }
    }

    /** The upstream sent a line no SSE stream of a chat answer needs; the relay treats the stream as broken. */
    public static final class LineTooLongException extends IllegalStateException {
        LineTooLongException() {
            super("SSE line longer than " + MAX_LINE_BYTES + " bytes");
        }
    }

    /** The stream ended: a last event that lacks its blank line is still delivered. */
    public void end() {
        if (line.size() > 0) {
            onLine();
        }
        dispatch();
    }

    private void onLine() {
        byte[] raw = line.toByteArray();
        line.reset();
        int len = raw.length;
        if (len > 0 && raw[len - 1] == '\r') {
            len--;
        }
        String text = new String(raw, 0, len, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            dispatch();
            return;
        }
        if (text.charAt(0) == ':') {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "data" -> {
                if (hasData) {
                    data.append('\n');
                }
                data.append(value);
                hasData = true;
            }
            case "event" -> eventType = value;
            default -> {
                // id, retry and unknown fields carry nothing the relay needs
            }
        }
    }

    private void dispatch() {
        if (hasData) {
            sink.accept(new SseEvent(eventType, data.toString()));
        }
        data.setLength(0);
        hasData = false;
        eventType = null;
    }
}
