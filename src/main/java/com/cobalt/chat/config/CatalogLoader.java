package com.cobalt.chat.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads the model catalog: {@code llm.models.<provider>} (a list of model ids, or {@code id=upstream name} pairs -
 * for Azure the deployment), {@code llm.model.<id>.context-window} / {@code .max-output-tokens},
 * {@code llm.model-equivalents} ({@code id=id, ...}) and {@code llm.split} ({@code id:weight, ...}). A provider
 * without a list serves the model of its single-model variable (SAMBANOVA_MODEL, AZURE_AI_DEPLOYMENT, demo.model,
 * LLM_PROVIDER_<ID>_MODEL or _DEPLOYMENT),
 * which is also its default model when set. Problems are added to the loader's list, named by environment variable.
 */
final class CatalogLoader {

    static final String MODELS_PREFIX = "llm.models.";
    static final String EQUIVALENTS = "llm.model-equivalents";
    static final String SPLIT = "llm.split";

    private final Function<String, String> value;
    private final List<String> problems;

    CatalogLoader(Function<String, String> value, List<String> problems) {
        this.value = value;
        this.problems = problems;
    }

    static String modelsProperty(String provider) {
        return MODELS_PREFIX + provider;
    }

    static String env(String property) {
        return SettingsLoader.envName(property);
    }

    /** The upstream name of a list's first entry, or null. */
    static String firstUpstreamName(String list) {
        if (list == null) {
            return null;
        }
        for (String entry : list.split(",")) {
            String e = entry.trim();
            if (!e.isEmpty()) {
                int eq = e.indexOf('=');
                return eq < 0 ? e : e.substring(eq + 1).trim();
            }
        }
        return null;
    }

    /** Every provider named under llm.models.* must be a built-in or declared one. */
    void checkProviderIds(Set<String> ids, Map<String, ProviderKind> kinds) {
        for (String id : ids) {
            if (!kinds.containsKey(id)) {
                problems.add(env(MODELS_PREFIX + id) + " names an unknown provider '" + id + "'; valid: "
                        + String.join(", ", kinds.keySet()) + " (declare another with LLM_PROVIDER_<ID>_KIND)");
            }
        }
    }

    boolean hasList(String provider) {
        return value.apply(modelsProperty(provider)) != null;
    }

    CatalogSettings load(Map<String, ProviderSettings> providers) {
        List<CatalogModel> models = new ArrayList<>();
        Map<String, String> defaults = new LinkedHashMap<>();
        boolean anyList = false;
        for (Map.Entry<String, ProviderSettings> provider : providers.entrySet()) {
            String p = provider.getKey();
            String list = value.apply(modelsProperty(p));
            String single = value.apply(ProviderProperties.singleModel(p, provider.getValue().kind()));
            List<String[]> entries = new ArrayList<>();
            if (list != null) {
                anyList = true;
                entries.addAll(parseList(p, provider.getValue().kind(), list));
                if (single != null && entries.stream().noneMatch(e -> e[1].equals(single))) {
                    entries.add(0, new String[] {single, single});
                }
            } else {
                String upstream = provider.getValue().modelLabel();
                entries.add(new String[] {upstream, upstream});
            }
            if (entries.isEmpty()) {
                problems.add(env(modelsProperty(p)) + " lists no model");
                continue;
            }
            String defaultId = entries.get(0)[0];
            if (single != null) {
                defaultId = entries.stream().filter(e -> e[1].equals(single)).findFirst().map(e -> e[0])
                        .orElse(defaultId);
            }
            defaults.put(p, defaultId);
            for (String[] e : entries) {
                boolean thinkTags = thinkTags(e[0]);
                models.add(new CatalogModel(e[0], p, e[1], capability(e[0], "context-window"),
                        capability(e[0], "max-output-tokens"), capabilities(e[0], thinkTags), thinkTags,
                        tokenLimit(e[0])));
            }
        }
        Set<String> ids = models.stream().map(CatalogModel::id).collect(Collectors.toCollection(LinkedHashSet::new));
        checkCapabilities(models);
        return new CatalogSettings(models, defaults, equivalents(ids), split(ids), !anyList);
    }

    private List<String[]> parseList(String p, ProviderKind kind, String list) {
        String variable = env(modelsProperty(p));
        String upstreamKind = kind == ProviderKind.AZURE ? "deployment" : "upstream model name";
        List<String[]> entries = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String raw : list.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String id = eq < 0 ? entry : entry.substring(0, eq).trim();
            String upstream = eq < 0 ? entry : entry.substring(eq + 1).trim();
            if (id.isEmpty()) {
                problems.add(variable + ": '" + entry + "' names no model id");
                continue;
            }
            if (upstream.isEmpty()) {
                problems.add(variable + ": '" + entry + "' names no " + upstreamKind + " for " + id);
                continue;
            }
            if (!seen.add(id)) {
                problems.add(variable + " lists the model " + id + " twice");
                continue;
            }
            entries.add(new String[] {id, upstream});
        }
        return entries;
    }

    /**
     * {@code llm.model.<id>.capabilities}: a list of tools, json_schema, vision, reasoning (commas or spaces); none
     * when unset. A model whose reasoning is in think tags reasons, whether or not the list says so.
     */
    private List<String> capabilities(String id, boolean thinkTags) {
        String property = "llm.model." + id + ".capabilities";
        String v = value.apply(property);
        Set<String> declared = new LinkedHashSet<>();
        if (v != null) {
            for (String raw : v.split("[,\\s]+")) {
                String c = raw.trim();
                if (c.isEmpty()) {
                    continue;
                }
                if (CatalogModel.CAPABILITIES.contains(c)) {
                    declared.add(c);
                } else {
                    problems.add(env(property) + ": '" + c + "' is not a capability; valid: "
                            + String.join(", ", CatalogModel.CAPABILITIES));
                }
            }
        }
        if (thinkTags) {
            declared.add(CatalogModel.REASONING);
        }
        return CatalogModel.CAPABILITIES.stream().filter(declared::contains).toList();
    }

    /** {@code llm.model.<id>.reasoning}: {@code fields} (the default: reasoning_content / reasoning deltas) or
     * {@code think-tags} (the reasoning is inside the content, between think tags). */
    private boolean thinkTags(String id) {
        String property = "llm.model." + id + ".reasoning";
        String v = value.apply(property);
        if (v == null || v.equals("fields")) {
            return false;
        }
        if (v.equals("think-tags")) {
            return true;
        }
        problems.add(env(property) + " must be fields or think-tags, got: " + v);
        return false;
    }

    /**
     * {@code llm.model.<id>.token-limit}: the request field that caps the answer, {@code max_tokens} (the default)
     * or {@code max_completion_tokens} (OpenAI's reasoning models refuse max_tokens).
     */
    private String tokenLimit(String id) {
        String property = "llm.model." + id + ".token-limit";
        String v = value.apply(property);
        if (v == null || v.equals(CatalogModel.MAX_TOKENS)) {
            return CatalogModel.MAX_TOKENS;
        }
        if (v.equals(CatalogModel.MAX_COMPLETION_TOKENS)) {
            return v;
        }
        problems.add(env(property) + " must be max_tokens or max_completion_tokens, got: " + v);
        return CatalogModel.MAX_TOKENS;
    }

    private Integer capability(String id, String name) {
        String property = "llm.model." + id + "." + name;
        String v = value.apply(property);
        if (v == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(env(property) + " must be a positive integer, got: " + v);
        return null;
    }

    private void checkCapabilities(List<CatalogModel> models) {
        Set<String> told = new LinkedHashSet<>();
        for (CatalogModel m : models) {
            if (m.contextWindow() != null && m.maxOutputTokens() != null
                    && m.maxOutputTokens() >= m.contextWindow() && told.add(m.id())) {
                problems.add(env("llm.model." + m.id() + ".max-output-tokens") + " (" + m.maxOutputTokens()
                        + ") must be less than the context window (" + m.contextWindow() + ")");
            }
        }
    }

    private Map<String, String> equivalents(Set<String> ids) {
        Map<String, String> map = new LinkedHashMap<>();
        String v = value.apply(EQUIVALENTS);
        if (v == null) {
            return map;
        }
        for (String raw : v.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String from = eq < 0 ? "" : entry.substring(0, eq).trim();
            String to = eq < 0 ? "" : entry.substring(eq + 1).trim();
            if (from.isEmpty() || to.isEmpty()) {
                problems.add(env(EQUIVALENTS) + ": '" + entry + "' must be <model>=<equivalent model>");
            } else if (!ids.contains(from) || !ids.contains(to)) {
                problems.add(env(EQUIVALENTS) + ": '" + entry + "' names a model not in the catalog; valid: "
                        + String.join(", ", ids));
            } else if (from.equals(to)) {
                problems.add(env(EQUIVALENTS) + ": '" + entry + "' names the same model twice");
            } else if (map.putIfAbsent(from, to) != null) {
                problems.add(env(EQUIVALENTS) + " gives " + from + " more than one equivalent");
            }
        }
        return map;
    }

    private List<SplitArm> split(Set<String> ids) {
        List<SplitArm> arms = new ArrayList<>();
        String v = value.apply(SPLIT);
        if (v == null) {
            return arms;
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String raw : v.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int colon = entry.lastIndexOf(':');
            String id = colon < 0 ? entry : entry.substring(0, colon).trim();
            Integer weight = null;
            try {
                weight = colon < 0 ? null : Integer.valueOf(entry.substring(colon + 1).trim());
            } catch (NumberFormatException e) {
                // reported below
            }
            if (weight == null || weight <= 0) {
                problems.add(env(SPLIT) + ": '" + entry + "' must be <model>:<positive weight>");
            } else if (!ids.contains(id)) {
                problems.add(env(SPLIT) + ": " + id + " is not in the catalog; valid: " + String.join(", ", ids));
            } else if (!seen.add(id)) {
                problems.add(env(SPLIT) + " names " + id + " twice");
            } else {
                arms.add(new SplitArm(id, weight));
            }
        }
        return arms;
    }
}
