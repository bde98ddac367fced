package com.cobalt.chat.credential;

/**
 * The header that authenticates one upstream request: {@code api-key: <key>} or {@code Authorization: Bearer <token>}.
 * The value is a secret: {@link #toString()} never shows it.
 */
public record AuthHeader(String name, String value) {

    /**
     * Why {@code key} cannot be sent in a header, or null when it can: an API key is printable ASCII. A line break
     * (two keys pasted into one file while rotating) made every request fail inside the HTTP client, so each chat
     * waited out the first-token timeout under a misleading "timeout" (black-box probe); a non-ASCII character was
     * sent as {@code ?}. The reason never quotes the key.
     */
    public static String unusableKey(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '\r' || c == '\n') {
                return "it holds a line break (one key per file or variable)";
            }
            if (c < 0x20 || c == 0x7f) {
                return "it holds a control character";
            }
            if (c > 0x7e) {
                return "it holds a character outside printable ASCII";
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "AuthHeader[" + name + "]";
    }
}
