package com.cobalt.chat.store;

/** One message of the conversation as the provider sees it. */
public record ContextMessage(String role, String content) {
}
