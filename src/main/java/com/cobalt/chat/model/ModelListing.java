package com.cobalt.chat.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.cobalt.chat.config.CatalogModel;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * GET /api/v1/models: the models a caller may choose for a session, by provider-neutral id, with their
 * capabilities, the providers that serve it (by provider id, in the order they are preferred when several do) and
 * whether one of them can answer now.
 */
public class ModelListing {

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ModelInfo(String id,
                            @JsonProperty("context_window") Integer contextWindow,
                            @JsonProperty("max_output_tokens") Integer maxOutputTokens,
                            boolean available,
                            @JsonProperty("default") boolean isDefault,
                            List<String> providers,
                            List<String> capabilities) {
    }

    public record Models(@JsonProperty("default_model") String defaultModel, List<ModelInfo> models) {
    }

    private final Catalog catalog;
    private final ModelAvailability availability;

    public ModelListing(Catalog catalog, ModelAvailability availability) {
        this.catalog = catalog;
        this.availability = availability;
    }

    public Models list() {
        String defaultModel = catalog.defaultModel();
        List<ModelInfo> models = new ArrayList<>();
        for (String id : catalog.ids()) {
            List<CatalogModel> entries = catalog.entries(id);
            Integer window = entries.stream().map(CatalogModel::contextWindow).filter(Objects::nonNull)
                    .min(Integer::compare).orElse(null);
            Integer output = entries.stream().map(CatalogModel::maxOutputTokens).filter(Objects::nonNull)
                    .min(Integer::compare).orElse(null);
            boolean available = entries.stream().anyMatch(availability::available);
            models.add(new ModelInfo(id, window, output, available, id.equals(defaultModel),
                    entries.stream().map(CatalogModel::provider).toList(), catalog.capabilities(id)));
        }
        return new Models(defaultModel, models);
    }
}
