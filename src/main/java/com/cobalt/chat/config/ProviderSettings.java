package com.cobalt.chat.config;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What the gateway needs to call one configured provider. {@code apiKey} is a secret: {@link #toString()} never
 * shows it.
 *
 * @param id             the provider's id: routes ({@code provider-<id>}), metrics, JMX, the database
 * @param kind           how it is spoken to
 * @param url            the chat completions URL of the default model
 * @param authHeader     the header that carries the key (Authorization with "Bearer " prefix, or api-key); null
 *                       when the provider takes no key (a local vLLM)
 * @param model          the value sent as {@code model} for the default model, or null where the URL names the deployment
 * @param modelLabel     the default model's upstream name (model id or deployment)
 * @param includeUsage   whether the API accepts {@code stream_options.include_usage}
 * @param deploymentUrl  for the Azure OpenAI shape, the URL with {@value #DEPLOYMENT} where the deployment goes (the
 *                       deployment is in the path, not the body); null when the model goes in the body
 * @param modelsUrl      where the provider lists the models it serves (OpenAI's list shape), or null if it cannot
 * @param apiKeyFile     the file the key is read from (and re-read when it changes) instead of {@code apiKey}, or null
 * @param entra          Azure only: requests carry a Microsoft Entra ID token ({@code Authorization: Bearer}) instead
 *                       of a key
 * @param weight         the instance's share of its models' requests under LLM_BALANCE=weighted (0: only as a
 *                       fallback)
 */
public record ProviderSettings(String id, ProviderKind kind, String url, String authHeader, String authPrefix,
                               String apiKey, String model, String modelLabel, boolean includeUsage,
                               String deploymentUrl, String modelsUrl, Path apiKeyFile, boolean entra, int weight) {

    public static final String DEPLOYMENT = "{deployment}";

    /** A provider with a fixed key (or none), weight 1. */
    public ProviderSettings(String id, ProviderKind kind, String url, String authHeader, String authPrefix,
                            String apiKey, String model, String modelLabel, boolean includeUsage,
                            String deploymentUrl, String modelsUrl) {
        this(id, kind, url, authHeader, authPrefix, apiKey, model, modelLabel, includeUsage, deploymentUrl, modelsUrl,
                null, false, 1);
    }

    /** Where and under which name one model of this provider is called. */
    public record Target(String url, String bodyModel, String upstreamName) {
    }

    /** The URL and body {@code model} for the model the provider calls {@code upstreamName} (null: the default). */
    public Target target(String upstreamName) {
        String name = upstreamName == null ? modelLabel : upstreamName;
        if (deploymentUrl != null) {
            return new Target(deploymentUrl.replace(DEPLOYMENT, URLEncoder.encode(name, StandardCharsets.UTF_8)),
                    null, name);
        }
        return new Target(url, name, name);
    }

    /** Whether requests carry a key or token at all. */
    public boolean authenticated() {
        return authHeader != null && (apiKey != null || apiKeyFile != null || entra);
    }

    @Override
    public String toString() {
        return "ProviderSettings[" + id + " " + url + " model=" + modelLabel + "]";
    }
}
