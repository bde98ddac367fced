package com.cobalt.chat.stream;

/** One server-sent event as the upstream framed it; {@code event} is null for the default "message" type. */
public record SseEvent(String event, String data) {
}
