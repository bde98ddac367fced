package com.cobalt.chat.config;

import java.util.List;
import java.util.Map;

/**
 * The model catalog as configured: the models per provider (in the order given), each provider's default model,
 * the equivalents a fallback may use, and the weighted split of new sessions.
 *
 * @param implicitEquivalents true when the catalog comes only from the single-model variables: the providers'
 *                            default models then stand in for each other, as before there was a catalog
 */
public record CatalogSettings(List<CatalogModel> models, Map<String, String> defaults,
                              Map<String, String> equivalents, List<SplitArm> split, boolean implicitEquivalents) {

    public CatalogSettings {
        models = List.copyOf(models);
        defaults = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(defaults));
        equivalents = Map.copyOf(equivalents);
        split = List.copyOf(split);
    }
}
