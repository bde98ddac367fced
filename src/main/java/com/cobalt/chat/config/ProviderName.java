package com.cobalt.chat.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The providers a chat can be routed to; the id is the value used in routes, metrics and the database. */
public enum ProviderName {
    SAMBANOVA("sambanova"),
    AZURE("azure", "azureai", "azure-ai"),
    DEMO("demo");

    private final String id;
    private final String[] aliases;

    ProviderName(String id, String... aliases) {
        this.id = id;
        this.aliases = aliases;
    }

    public String id() {
        return id;
    }

    public static Optional<ProviderName> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (ProviderName p : values()) {
            if (p.id.equals(v) || Arrays.asList(p.aliases).contains(v)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    public static String validNames() {
        return Arrays.stream(values())
                .map(p -> p.aliases.length == 0 ? p.id : p.id + " (aliases " + String.join(", ", p.aliases) + ")")
                .collect(Collectors.joining(", "));
    }
}
