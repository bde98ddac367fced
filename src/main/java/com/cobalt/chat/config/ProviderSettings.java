package com.cobalt.chat.config;

/**
 * What the gateway needs to call one provider. {@code apiKey} is a secret: {@link #toString()} never shows it.
 *
 * @param authHeader   the header that carries the key (Authorization with "Bearer " prefix, or api-key)
 * @param model        the value sent as {@code model}, or null where the URL names the deployment
 * @param modelLabel   the model or deployment name used in records and metrics
 * @param includeUsage whether the API accepts {@code stream_options.include_usage}
 */
public record ProviderSettings(ProviderName name, String url, String authHeader, String authPrefix, String apiKey,
                               String model, String modelLabel, boolean includeUsage) {

    @Override
    public String toString() {
        return "ProviderSettings[" + name.id() + " " + url + " model=" + modelLabel + "]";
    }
}
