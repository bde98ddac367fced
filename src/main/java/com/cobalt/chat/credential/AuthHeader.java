package com.cobalt.chat.credential;

/**
 * The header that authenticates one upstream request: {@code api-key: <key>} or {@code Authorization: Bearer <token>}.
 * The value is a secret: {@link #toString()} never shows it.
 */
public record AuthHeader(String name, String value) {

    @Override
    public String toString() {
        return "AuthHeader[" + name + "]";
    }
}
