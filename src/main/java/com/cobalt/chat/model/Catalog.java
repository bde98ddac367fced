package com.cobalt.chat.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.CatalogSettings;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.provider.ProviderSelection.Choice;
import com.cobalt.chat.provider.WeightedBalance;
import com.cobalt.chat.store.SessionContext;
import org.apache.camel.Variable;

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
    /** The exchange variable holding the request's one reading of the provider selection. */
    public static final String SELECTION = "selection";
    /** The exchange variable listing the capabilities a request needs (tools, json_schema, vision, reasoning). */
    public static final String NEEDS = "needs";

    private final CatalogSettings settings;
    private final ProviderSelection selection;
    /** LLM_BALANCE=weighted: spreads a model over the instances serving it; null for LLM_BALANCE=primary. */
    private final WeightedBalance balance;
    /** id -> the providers serving it, in catalog order. */
    private final Map<String, Map<String, CatalogModel>> byId = new LinkedHashMap<>();

    public Catalog(CatalogSettings settings, ProviderSelection selection) {
        this(settings, selection, null);
    }

    /** @param balance the weighted spread over a model's instances, or null for the primary-first rule */
    public Catalog(CatalogSettings settings, ProviderSelection selection, WeightedBalance balance) {
        this.settings = settings;
        this.selection = selection;
        this.balance = balance;
        for (CatalogModel m : settings.models()) {
            byId.computeIfAbsent(m.id(), k -> new LinkedHashMap<>()).put(m.provider(), m);
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
        Map<String, CatalogModel> serving = byId.get(id);
        return serving == null ? List.of() : List.copyOf(serving.values());
    }

    /**
     * A model's capabilities (the same for every provider serving its id: the union of what each entry declares, as
     * a model is configured by its id).
     */
    public List<String> capabilities(String id) {
        Set<String> all = new LinkedHashSet<>();
        entries(id).forEach(m -> all.addAll(m.capabilities()));
        return CatalogModel.CAPABILITIES.stream().filter(all::contains).toList();
    }

    /** The first of {@code needs} the model lacks, or null when it has them all. */
    public String lacking(String id, Collection<String> needs) {
        if (needs == null || needs.isEmpty()) {
            return null;
        }
        List<String> has = capabilities(id);
        return needs.stream().filter(n -> !has.contains(n)).findFirst().orElse(null);
    }

    /**
     * For openai-http: the 400 when the model asked for (or the default one) lacks a capability the request needs -
     * it is never sent anywhere, primary or fallback.
     */
    public void requireCapabilities(@Variable("model") String model, @Variable(NEEDS) List<String> needs) {
        String missing = lacking(model, needs);
        if (missing != null) {
            throw ApiError.invalidParam("model_lacks_capability", "The model '" + model + "' does not support "
                    + missing + " (" + describe(missing) + "); GET /v1/models lists each model's capabilities.",
                    param(missing));
        }
    }

    /** What a request does that needs the capability, for the error message. */
    public static String describe(String capability) {
        return switch (capability) {
            case CatalogModel.TOOLS -> "tools, tool_choice or tool messages";
            case CatalogModel.JSON_SCHEMA -> "response_format json_object or json_schema";
            case CatalogModel.VISION -> "image_url content parts";
            case CatalogModel.REASONING -> "reasoning_effort";
            default -> capability;
        };
    }

    private static String param(String capability) {
        return switch (capability) {
            case CatalogModel.JSON_SCHEMA -> "response_format";
            case CatalogModel.VISION -> "messages";
            case CatalogModel.REASONING -> "reasoning_effort";
            default -> "tools";
        };
    }

    /** The model of a session that chose none (or was created before the catalog): the current primary's default. */
    public String defaultModel() {
        return defaultModel(selection.current());
    }

    private String defaultModel(Choice sel) {
        String d = settings.defaults().get(sel.primary());
        return d != null ? d : settings.models().get(0).id();
    }

    /** The 400 for a model not in the catalog, listing the valid ids. */
    public ApiError unknownModel(String id) {
        return ApiError.badRequest("unknown_model", "Unknown model '" + ApiError.echo(id) + "'; valid models: "
                + String.join(", ", ids()));
    }

    /** The model a session talks to: its own, or the default when it has none (or one no longer in the catalog). */
    public String sessionModel(@Variable("sessionContext") SessionContext session,
                               @Variable(SELECTION) Choice selected) {
        String m = session.model();
        return contains(m) ? m : defaultModel(orNow(selected));
    }

    /** The request's own reading of the selection; none (a caller that did not take one) reads it now. */
    private Choice orNow(Choice selected) {
        return selected != null ? selected : selection.current();
    }

    /**
     * The provider that serves {@code model}: under LLM_BALANCE=weighted one of the instances serving it that takes
     * requests, drawn by weight; else (or when none does) the current primary if it serves it, else the fallback,
     * else the first.
     */
    public String providerFor(@Variable("model") String model, @Variable(SELECTION) Choice selected) {
        Map<String, CatalogModel> serving = byId.get(model);
        if (serving == null) {
            throw unknownModel(model);
        }
        if (balance != null && serving.size() > 1) {
            String picked = balance.pick(serving, null);
            if (picked != null) {
                return picked;
            }
        }
        for (String p : preference(orNow(selected), null)) {
            if (serving.containsKey(p)) {
                return p;
            }
        }
        return serving.keySet().iterator().next();
    }

    /** What {@code provider} calls {@code model}: a SambaNova model id or an Azure deployment name. */
    public String upstreamName(@Variable("model") String model, @Variable("provider") String provider) {
        Map<String, CatalogModel> serving = byId.get(model);
        CatalogModel m = serving == null ? null : serving.get(provider);
        if (m == null) {
            throw new IllegalStateException(provider + " does not serve " + model);
        }
        return m.upstreamName();
    }

    /** Where a request for {@code model} at {@code provider} goes when that provider fails. */
    private record Fallback(String provider, String model) {
    }

    /**
     * The fallback of a request under its reading of the selection: none when it has no fallback provider; else
     * another provider serving the same model, or one serving the model's configured equivalent (with only
     * single-model variables, the other provider's default model is the equivalent, as before there was a catalog);
     * else none.
     */
    private Optional<Fallback> fallback(String model, String provider, Choice sel, Collection<String> needs) {
        Optional<Fallback> any = fallback(model, provider, sel);
        // a fallback model that lacks what the request needs is no fallback (the same model always has it)
        return any.filter(f -> lacking(f.model(), needs) == null);
    }

    private Optional<Fallback> fallback(String model, String provider, Choice sel) {
        if (balance != null) {
            // weighted: first another instance of the same model that takes requests (no fallback provider needed)
            String other = balance.pick(byId.getOrDefault(model, Map.of()), provider);
            if (other != null) {
                return Optional.of(new Fallback(other, model));
            }
        }
        if (!sel.hasFallback()) {
            return Optional.empty();
        }
        List<String> others = preference(sel, provider);
        Map<String, CatalogModel> same = byId.getOrDefault(model, Map.of());
        for (String q : others) {
            if (same.containsKey(q)) {
                return Optional.of(new Fallback(q, model));
            }
        }
        String equivalent = settings.equivalents().get(model);
        if (equivalent != null) {
            Map<String, CatalogModel> eq = byId.getOrDefault(equivalent, Map.of());
            for (String q : others) {
                if (eq.containsKey(q)) {
                    return Optional.of(new Fallback(q, equivalent));
                }
            }
        }
        if (settings.implicitEquivalents()) {
            for (String q : others) {
                String d = settings.defaults().get(q);
                if (d != null && (q.equals(sel.fallback()) || q.equals(sel.primary()))) {
                    return Optional.of(new Fallback(q, d));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The current primary's models that have nowhere to fall back to under the current selection: its fallback
     * provider serves neither them nor an equivalent. Empty when no fallback provider is set (no fallback is then
     * what was asked for). Start-up warns of these, since a catalog list turns off the single-model pairing.
     */
    public List<String> withoutFallback() {
        Choice sel = selection.current();
        if (!sel.hasFallback()) {
            return List.of();
        }
        List<String> stranded = new ArrayList<>();
        byId.forEach((id, serving) -> {
            if (serving.containsKey(sel.primary()) && fallback(id, sel.primary(), sel).isEmpty()) {
                stranded.add(id);
            }
        });
        return stranded;
    }

    /** For chat-http and provider-fallback: the fallback provider's id, or "" when there is none. */
    public String fallbackFor(@Variable("model") String model, @Variable("provider") String provider,
                              @Variable(SELECTION) Choice selected, @Variable(NEEDS) List<String> needs) {
        return fallback(model, provider, orNow(selected), needs).map(Fallback::provider).orElse(NONE);
    }

    /** The model the fallback provider is asked for, or "" when there is none. */
    public String fallbackModelFor(@Variable("model") String model, @Variable("provider") String provider,
                                   @Variable(SELECTION) Choice selected, @Variable(NEEDS) List<String> needs) {
        return fallback(model, provider, orNow(selected), needs).map(Fallback::model).orElse(NONE);
    }

    /**
     * When a request found no fallback: the capability its fallback model would have lacked (so the 503 can say why
     * nothing else was tried), or null when that was not the reason.
     */
    public String fallbackLacks(String model, String provider, Choice selected, Collection<String> needs) {
        return fallback(model, provider, orNow(selected)).map(f -> lacking(f.model(), needs)).orElse(null);
    }

    /** Whether a request that found no fallback had one configured, but no provider for its model or an equivalent. */
    public boolean lacksEquivalent(String model, String provider, Choice selected) {
        Choice sel = orNow(selected);
        return sel.hasFallback() && fallback(model, provider, sel).isEmpty();
    }

    /** Providers in the order a model is looked for: the current primary, the current fallback, the others. */
    private List<String> preference(Choice sel, String except) {
        Set<String> order = new LinkedHashSet<>();
        order.add(sel.primary());
        if (sel.hasFallback()) {
            order.add(sel.fallback());
        }
        order.addAll(settings.defaults().keySet());
        order.remove(except);
        return new ArrayList<>(order);
    }
}
