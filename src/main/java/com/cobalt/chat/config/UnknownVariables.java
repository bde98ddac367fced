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

    /** The gateway's own properties in application.properties (Camel's and OpenTelemetry's are theirs to check). */
    static final List<String> OWN_PROPERTIES = List.of("chat.", "llm.", "http.", "openai.", "management.", "demo.",
            "sambanova.", "azure.");
    static final List<String> PROPERTY_FAMILIES = List.of("llm.models.", "llm.model.", "llm.provider.", "llm.price.",
            "llm.breaker.");
    static final String PROVIDER = "llm.provider.";

    /**
     * The names (never the values) of the variables in {@code env} that no property in {@code known} reads. Of the
     * {@code LLM_PROVIDER_<ID>_*} family, a variable of a provider whose settings are read (a declared one, or a
     * built-in one's {@code _WEIGHT}) that is none of them: {@code LLM_PROVIDER_VLLM_API_KYE} left the provider
     * without its key, silently (ops probe, 2026-12-05).
     */
    public static Set<String> among(Map<String, String> env, Set<String> knownProperties) {
        Set<String> known = new TreeSet<>();
        knownProperties.forEach(p -> known.add(SettingsLoader.envName(p)));
        Set<String> providers = new TreeSet<>();
        providerPrefixes(knownProperties).forEach(p -> providers.add(SettingsLoader.envName(p)));
        Set<String> unknown = new TreeSet<>();
        for (String name : env.keySet()) {
            if (PREFIXES.stream().anyMatch(name::startsWith) && !known.contains(name)
                    && (FAMILIES.stream().noneMatch(name::startsWith) || providers.stream().anyMatch(name::startsWith))) {
                unknown.add(name);
            }
        }
        return unknown;
    }

    /**
     * The gateway's own keys in the configuration file ({@code file}, each key with its value) that no setting
     * {@code read}, nor another entry's {@code {{placeholder}}}: {@code chat.rate-limt-per-minute = 5} or
     * {@code llm.provider.vllm.api-kye = ...} were ignored without a word, where the same typo as an environment
     * variable is named (ops probe, 2026-12-05). The id families are checked as the environment's are.
     */
    public static Set<String> unreadProperties(Map<String, String> file, Set<String> read) {
        Set<String> providers = providerPrefixes(read);
        Set<String> unread = new TreeSet<>();
        for (String key : file.keySet()) {
            if (OWN_PROPERTIES.stream().anyMatch(key::startsWith) && !read.contains(key)
                    && (PROPERTY_FAMILIES.stream().noneMatch(key::startsWith)
                            || providers.stream().anyMatch(key::startsWith))
                    && file.values().stream().noneMatch(v -> v != null
                            && (v.contains("{{" + key + "}}") || v.contains("{{" + key + ":")))) {
                unread.add(key);
            }
        }
        return unread;
    }

    /** {@code llm.provider.<id>.} of every provider with a setting among {@code properties}. */
    private static Set<String> providerPrefixes(Set<String> properties) {
        Set<String> prefixes = new TreeSet<>();
        for (String p : properties) {
            int dot = p.startsWith(PROVIDER) ? p.indexOf('.', PROVIDER.length()) : -1;
            if (dot > PROVIDER.length()) {
                prefixes.add(p.substring(0, dot + 1));
            }
        }
        return prefixes;
    }
}
