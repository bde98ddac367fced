package com.cobalt.chat.config;

import java.util.List;

/**
 * Where the Microsoft Entra ID tokens of the Azure providers with {@code AZURE_AI_AUTH=entra} come from: azure-identity's
 * standard environment, read and checked at start. {@code clientSecret} is a secret: {@link #toString()} never shows it.
 *
 * @param chain             the credential sources tried in order (the first that gives a token wins)
 * @param tenantId          AZURE_TENANT_ID, or null
 * @param clientId          AZURE_CLIENT_ID (the app registration, or a user-assigned managed identity), or null
 * @param clientSecret      AZURE_CLIENT_SECRET, or null
 * @param federatedTokenFile AZURE_FEDERATED_TOKEN_FILE (AKS workload identity), or null
 * @param authorityHost     AZURE_AUTHORITY_HOST (a sovereign cloud), or null for the public cloud
 */
public record EntraSettings(List<Source> chain, String tenantId, String clientId, String clientSecret,
                            String federatedTokenFile, String authorityHost) {

    /** The scope every Azure AI / Azure OpenAI token is asked for. */
    public static final String SCOPE = "https://cognitiveservices.azure.com/.default";

    /** The credential sources, in DefaultAzureCredential's order. */
    public enum Source {
        CLIENT_SECRET("client-secret"),
        WORKLOAD_IDENTITY("workload-identity"),
        MANAGED_IDENTITY("managed-identity"),
        AZURE_CLI("azure-cli");

        private final String id;

        Source(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }
    }

    public EntraSettings {
        chain = List.copyOf(chain);
    }

    @Override
    public String toString() {
        return "EntraSettings[" + chain.stream().map(Source::id).toList() + "]";
    }
}
