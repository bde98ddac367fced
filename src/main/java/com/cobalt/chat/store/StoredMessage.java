package com.cobalt.chat.store;

/**
 * A stored message as a context is made from it: its place in the session ({@code seq}), the exchange it belongs to,
 * who wrote it, its status (only an exchange whose answer is {@code complete} is context) and its text.
 */
record StoredMessage(long seq, String exchangeId, String role, String status, String content) {
}
