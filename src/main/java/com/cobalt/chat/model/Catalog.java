package com.cobalt.chat.model;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.CatalogSettings;
import com.cobalt.chat.config.ProviderName;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.store.SessionContext;

/**
 * The models the gateway serves, by provider-neutral id, and which provider serves each under which upstream name.
 * One bean used by the session API, chat-router's variables, the fallback, GET /api/v1/models and the
 * OpenAI-compatible endpoint. The routes ask it: which model a session talks to, which provider serves that model
 * (the current primary when several do, so the runtime switch still works), under which name, and where a failed
 * request may go instead - a provider serving the same model, or one serving its configured equivalent.
 */
public class Catalog {

    /** What {@link #fallbackFor} and {@link #fallbackModelFor} answer when the fallback has nowhere to go. */
    public static final String NONE = "";

    private final CatalogSettings settings;
    private final ProviderSelection selection;
    /** id -> the providers serving it, in catalog order. */
    private final Map<String, Map<ProviderName, CatalogModel>> byId = new LinkedHashMap<>();

    public Catalog(CatalogSettings settings, ProviderSelection selection) {
        this.settings = settings;
        this.selection = selection;
        for (CatalogModel m : settings.models()) {
            byId.computeIfAbsent(m.id(), k -> new EnumMap<>(ProviderName.class)).put(m.provider(), m);
        }
    }

    /** Every model id, each once, in catalog order. */
    public Set<String> ids() {
        return byId.keySet();
    }

    public boolean contains(String id) {
        return id != null && byId.containsKey(id);
    }

    /** The entries of one id, one per provider serving it. */
    public List<CatalogModel> entries(String id) {
        Map<ProviderName, CatalogModel> serving = byId.get(id);
        return serving == null ? List.of() : List.copyOf(serving.values());
    }

    /** The model of a session that chose none (or was created before the catalog): the current primary's default. */
    public String defaultModel() {
        ProviderName primary = primary();
        String d = settings.defaults().get(primary);
        return d != null ? d : settings.models().get(0).id();
    }

    /** The 400 for a model not in the catalog, listing the valid ids. */
    public ApiError unknownModel(String id) {
        return ApiError.badRequest("unknown_model", "Unknown model '" + id + "'; valid models: "
                + String.join(", ", ids()));
    }

    /** The model a session talks to: its own, or the default when it has none (or one no longer in the catalog). */
    public String sessionModel(SessionContext session) {
        String m = session.model();
        return contains(m) ? m : defaultModel();
    }

    /** The provider that serves {@code model}: the current primary if it does, else the fallback, else the first. */
    public String providerFor(String model) {
        Map<ProviderName, CatalogModel> serving = byId.get(model);
        if (serving == null) {
            throw unknownModel(model);
        }
        for (ProviderName p : preference(null)) {
            if (serving.containsKey(p)) {
                return p.id();
            }
        }
        return serving.keySet().iterator().next().id();
    }

    /** What {@code provider} calls {@code model}: a SambaNova model id or an Azure deployment name. */
    public String upstreamName(String model, String provider) {
        ProviderName p = ProviderName.parse(provider).orElseThrow();
        Map<ProviderName, CatalogModel> serving = byId.get(model);
        CatalogModel m = serving == null ? null : serving.get(p);
        if (m == null) {
            throw new IllegalStateException(provider + " does not serve " + model);
        }
        return m.upstreamName();
    }

    /** Where a request for {@code model} at {@code provider} goes when that provider fails. */
    public record Fallback(String provider, String model) {
    }

    /**
     * The fallback of a request: none when the selection has no fallback provider; else another provider serving
     * the same model, or one serving the model's configured equivalent (with only single-model variables, the other
     * provider's default model is the equivalent, as before there was a catalog); else none.
     */
    public Optional<Fallback> fallback(String model, String provider) {
        if (!selection.hasFallback()) {
            return Optional.empty();
        }
        ProviderName failed = ProviderName.parse(provider).orElseThrow();
        List<ProviderName> others = preference(failed);
        Map<ProviderName, CatalogModel> same = byId.getOrDefault(model, Map.of());
        for (ProviderName q : others) {
            if (same.containsKey(q)) {
                return Optional.of(new Fallback(q.id(), model));
            }
        }
        String equivalent = settings.equivalents().get(model);
        if (equivalent != null) {
            Map<ProviderName, CatalogModel> eq = byId.getOrDefault(equivalent, Map.of());
            for (ProviderName q : others) {
                if (eq.containsKey(q)) {
                    return Optional.of(new Fallback(q.id(), equivalent));
                }
            }
        }
        if (settings.implicitEquivalents()) {
            for (ProviderName q : others) {
                String d = settings.defaults().get(q);
                if (d != null && (q == selectionFallback() || q == primary())) {
                    return Optional.of(new Fallback(q.id(), d));
                }
            }
        }
        return Optional.empty();
    }

    /** For chat-http and provider-fallback: the fallback provider's id, or "" when there is none. */
    public String fallbackFor(String model, String provider) {
        return fallback(model, provider).map(Fallback::provider).orElse(NONE);
    }

    /** The model the fallback provider is asked for, or "" when there is none. */
    public String fallbackModelFor(String model, String provider) {
        return fallback(model, provider).map(Fallback::model).orElse(NONE);
    }

    /** Whether a request that found no fallback had one configured, but no provider for its model or an equivalent. */
    public boolean lacksEquivalent(String model, String provider) {
        return selection.hasFallback() && fallback(model, provider).isEmpty();
    }

    /** Providers in the order a model is looked for: the current primary, the current fallback, the others. */
    private List<ProviderName> preference(ProviderName except) {
        Set<ProviderName> order = new LinkedHashSet<>();
        order.add(primary());
        ProviderName f = selectionFallback();
        if (f != null) {
            order.add(f);
        }
        order.addAll(settings.defaults().keySet());
        order.remove(except);
        return new ArrayList<>(order);
    }

    private ProviderName primary() {
        return ProviderName.parse(selection.getPrimary()).orElseThrow();
    }

    private ProviderName selectionFallback() {
        return ProviderName.parse(selection.getFallback()).orElse(null);
    }
}
