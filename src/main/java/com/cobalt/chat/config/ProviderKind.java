package com.cobalt.chat.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What the gateway knows how to talk to. A kind is code (its URL shapes, its auth header, how it lists models); a
 * provider is configuration: an id and a kind, any number of them ({@link ProviderSettings}).
 */
public enum ProviderKind {
    /** Any OpenAI-compatible API: {@code {api-base}/chat/completions}, Bearer auth, {@code GET {api-base}/models}. */
    OPENAI,
    /** Azure AI Foundry / Azure OpenAI: the three endpoint shapes, the {@code api-key} header. */
    AZURE,
    /** The simulator the gateway serves itself, for runs without credentials. */
    DEMO;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ProviderKind> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.id().equals(v)).findFirst();
    }

    public static String validNames() {
        return Arrays.stream(values()).map(ProviderKind::id).collect(Collectors.joining(", "));
    }
}
