package com.cobalt.chat.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where each provider's settings live. The three built-in providers keep their own variables (SAMBANOVA_*,
 * AZURE_AI_*, DEMO_*); any other provider id is declared with {@code llm.provider.<id>.kind}
 * (LLM_PROVIDER_<ID>_KIND) and has its settings under {@code llm.provider.<id>.*}. In a variable name the id is upper
 * case with {@code -} written {@code _}: LLM_PROVIDER_AZURE_WEST_KIND declares {@code azure-west}.
 */
public final class ProviderProperties {

    /** The built-in providers and their kinds, in the order they are listed. */
    public static final Map<String, ProviderKind> BUILT_IN = builtIn();
    /** Other names LLM_PROVIDER and LLM_FALLBACK_PROVIDER accept for a built-in provider. */
    public static final Map<String, String> ALIASES = aliases();
    /** Lower case letters, digits and single dashes between them: the id is part of route ids and variable names. */
    public static final Pattern ID = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    static final String PREFIX = "llm.provider.";
    static final String KIND = "kind";

    private static final Map<String, String> SEED_NAMES = Map.ofEntries(
            Map.entry("sambanova.api-base", "sambanova.api-base"),
            Map.entry("sambanova.api-key", "sambanova.api-key"),
            Map.entry("sambanova.api-key-file", "sambanova.api-key-file"),
            Map.entry("sambanova.model", "sambanova.model"),
            Map.entry("azure.endpoint", "azure.ai.endpoint"),
            Map.entry("azure.api-key", "azure.ai.api-key"),
            Map.entry("azure.api-key-file", "azure.ai.api-key-file"),
            Map.entry("azure.auth", "azure.ai.auth"),
            Map.entry("azure.deployment", "azure.ai.deployment"),
            Map.entry("azure.api-version", "azure.ai.api-version"),
            Map.entry("demo.api-base", "demo.api-base"),
            Map.entry("demo.model", "demo.model"));

    private ProviderProperties() {
    }

    private static Map<String, String> aliases() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("azureai", "azure");
        m.put("azure-ai", "azure");
        return java.util.Collections.unmodifiableMap(m);
    }

    private static Map<String, ProviderKind> builtIn() {
        Map<String, ProviderKind> m = new LinkedHashMap<>();
        m.put("sambanova", ProviderKind.OPENAI);
        m.put("azure", ProviderKind.AZURE);
        m.put("demo", ProviderKind.DEMO);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The built-in providers' own properties (sambanova.api-key, azure.ai.endpoint, ...), read only when configured. */
    public static java.util.Collection<String> builtInProperties() {
        return SEED_NAMES.values();
    }

    /** The property that holds one setting of a provider: sambanova.api-key, azure.ai.endpoint, llm.provider.x.model. */
    public static String property(String id, String setting) {
        String seed = SEED_NAMES.get(id + "." + setting);
        return seed != null ? seed : PREFIX + id + "." + setting;
    }

    /** The property that names the provider's one model when it has no list: SAMBANOVA_MODEL, AZURE_AI_DEPLOYMENT. */
    public static String singleModel(String id, ProviderKind kind) {
        return property(id, kind == ProviderKind.AZURE ? "deployment" : "model");
    }

    /** The id a variable name part stands for: AZURE_WEST -> azure-west. */
    public static String idOfVariablePart(String part) {
        return part.toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
