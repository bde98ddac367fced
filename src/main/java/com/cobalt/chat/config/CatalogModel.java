package com.cobalt.chat.config;

/**
 * One model a provider serves, as the catalog knows it.
 *
 * @param id              the provider-neutral id callers choose (e.g. {@code gpt-4o})
 * @param provider        the id of the provider that serves it under {@code upstreamName}
 * @param upstreamName    what the provider calls it: a SambaNova model id, or an Azure deployment name
 * @param contextWindow   tokens the model accepts, prompt and answer together; null when not configured
 * @param maxOutputTokens the most tokens it may answer with; null when not configured
 */
public record CatalogModel(String id, String provider, String upstreamName, Integer contextWindow,
                           Integer maxOutputTokens) {
}
