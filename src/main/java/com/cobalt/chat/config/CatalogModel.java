package com.cobalt.chat.config;

import java.util.List;

/**
 * One model a provider serves, as the catalog knows it.
 *
 * @param id              the provider-neutral id callers choose (e.g. {@code gpt-4o})
 * @param provider        the id of the provider that serves it under {@code upstreamName}
 * @param upstreamName    what the provider calls it: a SambaNova model id, or an Azure deployment name
 * @param contextWindow   tokens the model accepts, prompt and answer together; null when not configured
 * @param maxOutputTokens the most tokens it may answer with; null when not configured
 * @param capabilities    what a request may ask of it beyond plain text ({@link #CAPABILITIES}), in that order
 * @param thinkTags       the model writes its reasoning inline, between {@code <think>} and {@code </think>}
 * @param tokenLimit      the request field that caps the answer: {@link #MAX_TOKENS}, or
 *                        {@link #MAX_COMPLETION_TOKENS} for models that refuse max_tokens (OpenAI's o-series and
 *                        GPT-5, on OpenAI and Azure OpenAI: a 400 unsupported_parameter)
 */
public record CatalogModel(String id, String provider, String upstreamName, Integer contextWindow,
                           Integer maxOutputTokens, List<String> capabilities, boolean thinkTags, String tokenLimit) {

    public static final String MAX_TOKENS = "max_tokens";
    public static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";

    public static final String TOOLS = "tools";
    public static final String JSON_SCHEMA = "json_schema";
    public static final String VISION = "vision";
    public static final String REASONING = "reasoning";
    /** Every capability a model may declare, in the order they are listed. */
    public static final List<String> CAPABILITIES = List.of(TOOLS, JSON_SCHEMA, VISION, REASONING);

    public CatalogModel {
        capabilities = capabilities == null ? List.of() : List.copyOf(capabilities);
        tokenLimit = tokenLimit == null ? MAX_TOKENS : tokenLimit;
    }

    /** A model capped by max_tokens. */
    public CatalogModel(String id, String provider, String upstreamName, Integer contextWindow,
                        Integer maxOutputTokens, List<String> capabilities, boolean thinkTags) {
        this(id, provider, upstreamName, contextWindow, maxOutputTokens, capabilities, thinkTags, MAX_TOKENS);
    }

    /** A model without capabilities. */
    public CatalogModel(String id, String provider, String upstreamName, Integer contextWindow,
                        Integer maxOutputTokens) {
        this(id, provider, upstreamName, contextWindow, maxOutputTokens, List.of(), false);
    }

    public boolean supports(String capability) {
        return capabilities.contains(capability);
    }
}
