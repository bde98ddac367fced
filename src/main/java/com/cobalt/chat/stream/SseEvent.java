package com.cobalt.chat.stream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One server-sent event as the upstream framed it; {@code event} is null for the default "message" type. Its data is
 * UTF-8, {@code bytes[offset, offset + length)}: usually a slice of the bytes the network delivered, so the relay
 * parses a chunk's JSON where it lies, without decoding it into a String first.
 */
public record SseEvent(String event, byte[] bytes, int offset, int length) {

    public SseEvent {
        Objects.checkFromIndexSize(offset, length, bytes.length);
    }

    public SseEvent(String event, String data) {
        this(event, data.getBytes(StandardCharsets.UTF_8));
    }

    private SseEvent(String event, byte[] data) {
        this(event, data, 0, data.length);
    }

    /** The data as text (malformed UTF-8 as U+FFFD). */
    public String data() {
        return new String(bytes, offset, length, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SseEvent e && Objects.equals(event, e.event)
                && Arrays.equals(bytes, offset, offset + length, e.bytes, e.offset, e.offset + e.length);
    }

    @Override
    public int hashCode() {
        int h = Objects.hashCode(event);
        for (int i = offset; i < offset + length; i++) {
            h = 31 * h + bytes[i];
        }
        return h;
    }

    @Override
    public String toString() {
        return "SseEvent[event=" + event + ", data=" + data() + "]";
    }
}
