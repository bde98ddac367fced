package com.cobalt.chat.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.model.Catalog;
import com.cobalt.chat.record.TokenEstimator;
import org.apache.camel.Variable;

/**
 * Builds what the provider is sent: system prompt, then the session's history, then the new user message - trimmed
 * to the model's context window when the catalog gives one. The budget is the window less the answer's
 * {@code max_tokens} (CHAT_MAX_TOKENS, or the model's lower output limit); the oldest history goes first, the system
 * prompt and the new message never. Tokens are counted with the {@link TokenEstimator}.
 */
public class Conversations {

    private final Catalog catalog;
    private final TokenEstimator tokens;
    private final int maxTokens;

    public Conversations(Catalog catalog, TokenEstimator tokens, int maxTokens) {
        this.catalog = catalog;
        this.tokens = tokens;
        this.maxTokens = maxTokens;
    }

    public String newExchangeId() {
        return RowIds.next();
    }

    /** Tokens are counted once: dropping a message takes its own share off the total, no recount. */
    public List<ContextMessage> upstreamMessages(@Variable("sessionContext") SessionContext context,
                                               @Variable("content") String userContent,
                                               @Variable("model") String model) {
        List<ContextMessage> history = new ArrayList<>(context.history());
        Integer budget = promptBudget(model);
        if (budget != null) {
            int total = tokens.prompt(assemble(context, history, userContent), model);
            while (!history.isEmpty() && total > budget) {
                total -= tokens.message(history.remove(0), model);
                // never start the history with an answer whose question was dropped
                while (!history.isEmpty() && !"user".equals(history.get(0).role())) {
                    total -= tokens.message(history.remove(0), model);
                }
            }
            if (total > budget) {
                throw tooLong(total, model, budget);
            }
        }
        return assemble(context, history, userContent);
    }

    /** 400 context_too_long when even the system prompt and the new message do not fit the model's window. */
    public void requireFits(@Variable("sessionContext") SessionContext context, @Variable("content") String userContent,
                            @Variable("model") String model) {
        Integer budget = promptBudget(model);
        if (budget == null) {
            return;
        }
        int needed = tokens.prompt(assemble(context, List.of(), userContent), model);
        if (needed > budget) {
            throw tooLong(needed, model, budget);
        }
    }

    private static ApiError tooLong(int needed, String model, int budget) {
        return ApiError.badRequest("context_too_long", "The message and the system prompt take " + needed
                + " tokens; the model " + model + " accepts at most " + budget + " before its answer");
    }

    /** The prompt's token budget for a model with a context window: the window less the answer's max_tokens. */
    Integer promptBudget(String model) {
        if (model == null) {
            return null;
        }
        List<CatalogModel> entries = catalog.entries(model);
        Integer window = entries.stream().map(CatalogModel::contextWindow).filter(Objects::nonNull)
                .min(Integer::compare).orElse(null);
        if (window == null) {
            return null;
        }
        int answer = entries.stream().map(CatalogModel::maxOutputTokens).filter(Objects::nonNull)
                .min(Integer::compare).map(m -> Math.min(m, maxTokens)).orElse(maxTokens);
        return window - answer;
    }

    private static List<ContextMessage> assemble(SessionContext context, List<ContextMessage> history,
                                                 String userContent) {
        List<ContextMessage> messages = new ArrayList<>(history.size() + 2);
        if (context.systemPrompt() != null) {
            messages.add(new ContextMessage("system", context.systemPrompt()));
        }
        messages.addAll(history);
        messages.add(new ContextMessage("user", userContent));
        return messages;
    }
}
