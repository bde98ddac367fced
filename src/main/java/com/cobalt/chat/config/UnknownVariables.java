package com.cobalt.chat.config;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The gateway's own environment variables (CHAT_*, LLM_*) that no setting reads: a typo such as
 * {@code CHAT_RATE_LIMT_PER_MINUTE} otherwise starts the gateway with the default, silently. A variable is known
 * when it is the environment name of a property the gateway reads or ships in application.properties, or belongs to
 * a family whose names carry an id ({@code LLM_MODELS_<PROVIDER>}, {@code LLM_MODEL_<ID>_*},
 * {@code LLM_PROVIDER_<ID>_*}, {@code LLM_PRICE_*}, {@code LLM_BREAKER_<ID>_*}).
 */
public final class UnknownVariables {

    static final List<String> PREFIXES = List.of("CHAT_", "LLM_");
    static final List<String> FAMILIES = List.of("LLM_MODELS_", "LLM_MODEL_", "LLM_PROVIDER_", "LLM_PRICE_",
            "LLM_BREAKER_");

    private UnknownVariables() {
    }

    /** The names (never the values) of the variables in {@code env} that no property in {@code known} reads. */
    public static Set<String> among(Map<String, String> env, Set<String> knownProperties) {
        Set<String> known = new TreeSet<>();
        knownProperties.forEach(p -> known.add(SettingsLoader.envName(p)));
        Set<String> unknown = new TreeSet<>();
        for (String name : env.keySet()) {
            if (PREFIXES.stream().anyMatch(name::startsWith) && !known.contains(name)
                    && FAMILIES.stream().noneMatch(name::startsWith)) {
                unknown.add(name);
            }
        }
        return unknown;
    }
}
