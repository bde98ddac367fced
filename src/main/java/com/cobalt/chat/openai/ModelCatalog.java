package com.cobalt.chat.openai;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.cobalt.chat.config.ProviderName;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderSelection;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The models callers of the OpenAI-compatible API can name. Until the gateway has a catalog of its own it is what is
 * configured: each configured provider's model (the demo model, SAMBANOVA_MODEL, the Azure deployment), under its own
 * name, so no id says which provider serves it. A request for a model goes to the provider that serves it (the
 * current primary when both do); its fallback is the other provider of the current selection, so a fallback stays
 * invisible to the caller, who sees the model id it asked for.
 */
public class ModelCatalog {

    /** OpenAI's model object; {@code owned_by} is the gateway, never the provider. */
    public record Model(String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {
    }

    /** OpenAI's list shape: {@code {"object":"list","data":[...]}}. */
    public record ModelList(String object, List<Model> data) {
    }

    static final String OWNER = "cobalt-chat-gateway";

    private record Entry(String id, ProviderName provider) {
    }

    private final ProviderSelection selection;
    private final List<Entry> entries = new ArrayList<>();
    private final long created;

    public ModelCatalog(Map<ProviderName, ProviderSettings> providers, ProviderSelection selection, Clock clock) {
        this.selection = selection;
        this.created = clock.instant().getEpochSecond();
        providers.forEach((name, settings) -> entries.add(new Entry(settings.modelLabel(), name)));
    }

    /** GET /v1/models: each id once, the current primary's model first. */
    public ModelList list() {
        List<Model> data = new ArrayList<>();
        String first = defaultModel();
        data.add(new Model(first, "model", created, OWNER));
        entries.stream().map(Entry::id).distinct().filter(id -> !id.equals(first))
                .forEach(id -> data.add(new Model(id, "model", created, OWNER)));
        return new ModelList("list", data);
    }

    /** GET /v1/models/{model}: one model object; 404 model_not_found for an id not in the catalog. */
    public Model model(String id) {
        if (id == null || entries.stream().noneMatch(e -> e.id().equals(id))) {
            throw notFound(id);
        }
        return new Model(id, "model", created, OWNER);
    }

    /** The model a request asked for (the current primary's when it named none); 404 model_not_found otherwise. */
    public String modelOf(ChatCompletionRequest request) {
        String asked = request.model();
        if (asked == null) {
            return defaultModel();
        }
        if (entries.stream().noneMatch(e -> e.id().equals(asked))) {
            throw notFound(asked);
        }
        return asked;
    }

    private static ApiError notFound(String id) {
        return new ApiError(404, "model_not_found", "The model `" + id + "` does not exist or you do not have"
                + " access to it. GET /v1/models lists the available models.", Map.of(), "model");
    }

    /** The provider that serves {@code model}: the current primary if it does, else the first that does. */
    public String providerFor(String model) {
        ProviderName primary = primary();
        List<ProviderName> serving = entries.stream().filter(e -> e.id().equals(model)).map(Entry::provider).toList();
        if (serving.isEmpty()) {
            throw new IllegalArgumentException("not in the catalog: " + model);
        }
        return (serving.contains(primary) ? primary : serving.get(0)).id();
    }

    /**
     * The provider a request to {@code provider} falls back to: the current fallback when it goes to the primary,
     * the primary when it goes to the fallback; empty when there is none.
     */
    public String fallbackFor(String provider) {
        String primary = selection.getPrimary();
        String fallback = selection.getFallback();
        if (provider.equals(primary)) {
            return fallback;
        }
        return provider.equals(fallback) ? primary : "";
    }

    private String defaultModel() {
        ProviderName primary = primary();
        return entries.stream().filter(e -> e.provider() == primary).map(Entry::id).findFirst()
                .orElseGet(() -> entries.get(0).id());
    }

    private ProviderName primary() {
        Optional<ProviderName> p = ProviderName.parse(selection.getPrimary());
        return p.orElseThrow();
    }
}
