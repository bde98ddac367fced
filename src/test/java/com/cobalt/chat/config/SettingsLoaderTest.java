package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The configuration check: every problem in one exception, named by its environment variable, never echoing a
 * secret; and the provider URLs the gateway derives from what operators set.
 */
class SettingsLoaderTest {

    static final String SAMBANOVA_KEY = "sn-DISTINCTIVE-sambanova-key-4711";
    static final String AZURE_KEY = "az-DISTINCTIVE-azure-key-0815";
    static final String JWT_SECRET = "jwt-DISTINCTIVE-secret-that-is-long-enough-0123456789";

    /** What application.properties gives a property that the environment does not set. */
    static Map<String, String> defaults() {
        Map<String, String> p = new HashMap<>();
        p.put("sambanova.api-base", "https://api.sambanova.ai/v1");
        p.put("azure.ai.api-version", "2024-10-21");
        p.put("demo.api-base", "http://127.0.0.1:8080/demo/v1");
        p.put("demo.model", "cobalt-demo");
        return p;
    }

    static Map<String, String> validSambanova() {
        Map<String, String> p = defaults();
        p.put("llm.provider", "sambanova");
        p.put("sambanova.api-key", SAMBANOVA_KEY);
        p.put("sambanova.model", "Meta-Llama-3.3-70B-Instruct");
        p.put("chat.jwt.secret", JWT_SECRET);
        return p;
    }

    static Map<String, String> azure(String endpoint, String apiVersion) {
        Map<String, String> p = defaults();
        p.put("llm.provider", "azure");
        p.put("azure.ai.endpoint", endpoint);
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("azure.ai.deployment", "gpt-4o-mini");
        if (apiVersion != null) {
            p.put("azure.ai.api-version", apiVersion);
        }
        p.put("chat.jwt.secret", JWT_SECRET);
        return p;
    }

    static InvalidConfigurationException refused(Map<String, String> properties) {
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(properties::get));
        assertThat(e).as("expected the configuration to be refused").isNotNull();
        assertThat(e.getMessage()).doesNotContain(SAMBANOVA_KEY, AZURE_KEY, JWT_SECRET);
        assertThat(e.getMessage()).isEqualTo("Invalid configuration:\n  - " + String.join("\n  - ", e.problems()));
        return e;
    }

    // --- refusals ---

    @Test
    void sambanovaPrimaryWithNothingSetNamesTheMissingVariablesAndTheJwtSecret() {
        InvalidConfigurationException e = refused(defaults());

        assertThat(e.problems()).containsExactly(
                "LLM_PROVIDER=sambanova needs SAMBANOVA_API_KEY, SAMBANOVA_MODEL",
                "CHAT_JWT_SECRET or CHAT_JWT_JWKS_URL is required unless CHAT_AUTH_DISABLED=true");
    }

    @Test
    void anEmptyEnvironmentWithoutTheFileDefaultsAlsoNamesTheApiBase() {
        InvalidConfigurationException e = refused(new HashMap<>());

        assertThat(e.problems()).containsExactly(
                "LLM_PROVIDER=sambanova needs SAMBANOVA_API_BASE, SAMBANOVA_API_KEY, SAMBANOVA_MODEL",
                "CHAT_JWT_SECRET or CHAT_JWT_JWKS_URL is required unless CHAT_AUTH_DISABLED=true");
    }

    @Test
    void blankValuesCountAsMissing() {
        Map<String, String> p = validSambanova();
        p.put("sambanova.api-key", "   ");
        p.put("sambanova.model", "");

        assertThat(refused(p).problems()).containsExactly("LLM_PROVIDER=sambanova needs SAMBANOVA_API_KEY, SAMBANOVA_MODEL");
    }

    @Test
    void missingVariablesOfPrimaryAndFallbackAreNamedInOneException() {
        Map<String, String> p = defaults();
        p.put("llm.provider", "azure");
        p.put("llm.fallback-provider", "sambanova");
        p.put("sambanova.api-key", SAMBANOVA_KEY);
        p.put("chat.jwt.secret", JWT_SECRET);

        InvalidConfigurationException e = refused(p);

        assertThat(e.problems()).containsExactly(
                "LLM_PROVIDER=azure needs AZURE_AI_ENDPOINT, AZURE_AI_API_KEY, AZURE_AI_DEPLOYMENT",
                "LLM_FALLBACK_PROVIDER=sambanova needs SAMBANOVA_MODEL");
        assertThat(e.getMessage()).isEqualTo("Invalid configuration:\n"
                + "  - LLM_PROVIDER=azure needs AZURE_AI_ENDPOINT, AZURE_AI_API_KEY, AZURE_AI_DEPLOYMENT\n"
                + "  - LLM_FALLBACK_PROVIDER=sambanova needs SAMBANOVA_MODEL");
    }

    @Test
    void aTrustedCaFileThatIsMissingOrHoldsNoCertificateIsRefusedByName() throws Exception {
        java.nio.file.Path notPem = java.nio.file.Files.createTempFile("not-a-ca-", ".pem");
        java.nio.file.Files.writeString(notPem, "just text, no certificate\n");
        Map<String, String> missing = validSambanova();
        missing.put("llm.trusted-ca-file", "/nonexistent/ca.pem");
        Map<String, String> empty = validSambanova();
        empty.put("llm.trusted-ca-file", notPem.toString());

        assertThat(refused(missing).problems()).containsExactly(
                "LLM_TRUSTED_CA_FILE (llm.trusted-ca-file) must name a readable PEM file, got: /nonexistent/ca.pem");
        assertThat(refused(empty).problems()).containsExactly(
                "LLM_TRUSTED_CA_FILE (llm.trusted-ca-file) holds no PEM certificate: " + notPem);
    }

    @Test
    void http2IsOnByDefaultWithSixteenConnectionsAndItsSettingsAreChecked() {
        Map<String, String> bad = validSambanova();
        bad.put("llm.http2", "yes");
        bad.put("llm.http2-connections", "0");

        assertThat(SettingsLoader.load(validSambanova()::get).transport())
                .isEqualTo(new UpstreamTransport(true, 16, null));
        assertThat(refused(bad).problems()).containsExactly(
                "LLM_HTTP2 must be true or false, got: yes",
                "LLM_HTTP2_CONNECTIONS (llm.http2-connections) must be a positive integer, got: 0");
    }

    @Test
    void unknownProviderListsTheValidNames() {
        Map<String, String> p = validSambanova();
        p.put("llm.provider", "sambanovva");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_PROVIDER=sambanovva is not a provider; valid: sambanova, azure (aliases azureai, azure-ai), demo (declare another with LLM_PROVIDER_<ID>_KIND)");
    }

    @Test
    void unknownFallbackProviderListsTheValidNames() {
        Map<String, String> p = validSambanova();
        p.put("llm.fallback-provider", "openai");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_FALLBACK_PROVIDER=openai is not a provider; valid: sambanova, azure (aliases azureai, azure-ai), demo (declare another with LLM_PROVIDER_<ID>_KIND)");
    }

    @Test
    void fallbackEqualToPrimaryIsRefused() {
        Map<String, String> p = validSambanova();
        p.put("llm.fallback-provider", "sambanova");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are sambanova)");
    }

    @Test
    void fallbackEqualToPrimaryThroughAnAliasIsRefused() {
        Map<String, String> p = azure("https://r.openai.azure.com", null);
        p.put("llm.fallback-provider", "Azure-AI");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are azure)");
    }

    @Test
    void demoAsPrimaryAndFallbackIsRefused() {
        Map<String, String> p = defaults();
        p.put("llm.provider", "demo");
        p.put("llm.fallback-provider", "demo");
        p.put("chat.jwt.secret", JWT_SECRET);

        assertThat(refused(p).problems()).containsExactly(
                "LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are demo)");
    }

    @Test
    void shortJwtSecretIsRefusedWithoutEchoingIt() {
        Map<String, String> p = validSambanova();
        p.put("chat.jwt.secret", "short-SECRET-31-bytes-long-xxxx");
        assertThat("short-SECRET-31-bytes-long-xxxx").hasSize(31);

        InvalidConfigurationException e = refused(p);

        assertThat(e.problems()).containsExactly("CHAT_JWT_SECRET must be at least 32 bytes for HS256");
        assertThat(e.getMessage()).doesNotContain("short-SECRET");
    }

    @Test
    void jwtSecretOfExactly32BytesIsAccepted() {
        Map<String, String> p = validSambanova();
        p.put("chat.jwt.secret", "s".repeat(32));

        assertThat(SettingsLoader.load(p::get).jwtSecret()).isEqualTo("s".repeat(32));
    }

    @Test
    void noJwtSecretIsFineWhenAuthIsDisabled() {
        Map<String, String> p = validSambanova();
        p.remove("chat.jwt.secret");
        p.put("chat.auth.disabled", "true");

        GatewaySettings s = SettingsLoader.load(p::get);

        assertThat(s.authDisabled()).isTrue();
        assertThat(s.jwtSecret()).isNull();
    }

    @Test
    void aJwksUrlAloneIsEnoughForAuthAndIssuerAndAudienceAreReadAsGiven() {
        Map<String, String> p = validSambanova();
        p.remove("chat.jwt.secret");
        p.put("chat.jwt.jwks-url", "https://idp.example.com/.well-known/jwks.json");
        p.put("chat.jwt.issuer", " https://idp.example.com/ ");
        p.put("chat.jwt.audience", "cobalt-chat");

        GatewaySettings s = SettingsLoader.load(p::get);

        assertThat(s.jwtSecret()).isNull();
        assertThat(s.jwtJwksUrl()).isEqualTo("https://idp.example.com/.well-known/jwks.json");
        assertThat(s.jwtIssuer()).isEqualTo("https://idp.example.com/");
        assertThat(s.jwtAudience()).isEqualTo("cobalt-chat");
    }

    @Test
    void aSecretAndAJwksUrlMayBothBeSetAndIssuerAndAudienceAreOptional() {
        Map<String, String> p = validSambanova();
        p.put("chat.jwt.jwks-url", "http://127.0.0.1:8081/jwks");

        GatewaySettings s = SettingsLoader.load(p::get);

        assertThat(s.jwtSecret()).isEqualTo(JWT_SECRET);
        assertThat(s.jwtJwksUrl()).isEqualTo("http://127.0.0.1:8081/jwks");
        assertThat(s.jwtIssuer()).isNull();
        assertThat(s.jwtAudience()).isNull();
    }

    @Test
    void aJwksUrlThatIsNotHttpIsRefusedTogetherWithAShortSecret() {
        Map<String, String> p = validSambanova();
        p.put("chat.jwt.secret", "too-short");
        p.put("chat.jwt.jwks-url", "file:///etc/jwks.json");

        assertThat(refused(p).problems()).containsExactly(
                "CHAT_JWT_SECRET must be at least 32 bytes for HS256",
                "CHAT_JWT_JWKS_URL must be an http(s) URL, got: file:///etc/jwks.json");

        p.put("chat.jwt.secret", JWT_SECRET);
        p.put("chat.jwt.jwks-url", "idp.example.com/jwks");
        assertThat(refused(p).problems()).containsExactly(
                "CHAT_JWT_JWKS_URL must be an http(s) URL, got: idp.example.com/jwks");
    }

    @Test
    void neitherSecretNorJwksUrlIsRefusedWhenAuthIsOn() {
        Map<String, String> p = validSambanova();
        p.remove("chat.jwt.secret");
        p.put("chat.jwt.issuer", "https://idp.example.com/");

        assertThat(refused(p).problems()).containsExactly(
                "CHAT_JWT_SECRET or CHAT_JWT_JWKS_URL is required unless CHAT_AUTH_DISABLED=true");
    }

    @Test
    void authDisabledMustBeABoolean() {
        Map<String, String> p = validSambanova();
        p.put("chat.auth.disabled", "yes");

        assertThat(refused(p).problems()).containsExactly("CHAT_AUTH_DISABLED must be true or false, got: yes");
    }

    /**
     * The Azure portal shows a deployment's "Target URI", the whole request URL; pasted as the endpoint, the gateway
     * appended its own path and api-version to it and called {@code ...?api-version=V/openai/deployments/...} (black-box
     * probe). The endpoint must be the resource's, without a deployment, operation or query.
     */
    @Test
    void anAzureEndpointThatIsAWholeRequestUrlIsRefused() {
        String expected = "AZURE_AI_ENDPOINT must be the resource's endpoint (https://R.openai.azure.com, with"
                + " /openai/v1, or https://R.services.ai.azure.com/models), without a deployment, operation or query;"
                + " the deployment goes in AZURE_AI_DEPLOYMENT and the api-version in AZURE_AI_API_VERSION, got: ";
        assertThat(refused(azure("https://cobalt-ai.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions"
                + "?api-version=2025-01-01-preview", null)).problems())
                .containsExactly(expected + "https://cobalt-ai.openai.azure.com/openai/deployments/gpt-4o-prod/chat/"
                        + "completions?...");
        assertThat(refused(azure("https://cobalt-ai.openai.azure.com?api-version=2024-10-21", null)).problems())
                .containsExactly(expected + "https://cobalt-ai.openai.azure.com?...");
        assertThat(refused(azure("https://cobalt-ai.openai.azure.com/openai/v1/chat/completions", null)).problems())
                .containsExactly(expected + "https://cobalt-ai.openai.azure.com/openai/v1/chat/completions");

        Map<String, String> west = validSambanova();
        west.put("llm.fallback-provider", "azure-west");
        west.put("llm.provider.azure-west.kind", "azure");
        west.put("llm.provider.azure-west.endpoint", "https://west.openai.azure.com/openai/deployments/gpt-4o");
        west.put("llm.provider.azure-west.api-key", AZURE_KEY);
        west.put("llm.provider.azure-west.deployment", "gpt-4o");
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(west::get, java.util.Set.of(), java.util.Set.of("azure-west")));
        assertThat(e.problems()).containsExactly("LLM_PROVIDER_AZURE_WEST_ENDPOINT must be the resource's"
                + " endpoint (https://R.openai.azure.com, with /openai/v1, or https://R.services.ai.azure.com/models),"
                + " without a deployment, operation or query; the deployment goes in LLM_PROVIDER_AZURE_WEST_DEPLOYMENT"
                + " and the api-version in LLM_PROVIDER_AZURE_WEST_API_VERSION, got:"
                + " https://west.openai.azure.com/openai/deployments/gpt-4o");

        // the three shapes the README names still load
        for (String ok : List.of("https://cobalt-ai.openai.azure.com", "https://cobalt-ai.openai.azure.com/openai/v1/",
                "https://cobalt-ai.services.ai.azure.com/models", "https://cobalt-ai.cognitiveservices.azure.com/")) {
            assertThat(SettingsLoader.load(azure(ok, null)::get).provider("azure")).as(ok).isNotNull();
        }
    }

    @Test
    void invalidUrlsAreRefused() {
        Map<String, String> p = validSambanova();
        p.put("sambanova.api-base", "ftp://api.sambanova.ai/v1");
        assertThat(refused(p).problems()).containsExactly(
                "SAMBANOVA_API_BASE must be an http(s) URL, got: ftp://api.sambanova.ai/v1");

        // credentials in a URL are not echoed (black-box probe)
        p.put("sambanova.api-base", "ftp://user:pw0rdSECRET@api.sambanova.ai/v1");
        assertThat(refused(p).problems()).containsExactly(
                "SAMBANOVA_API_BASE must be an http(s) URL, got: ftp://***@api.sambanova.ai/v1");

        p.put("sambanova.api-base", "api.sambanova.ai/v1");
        assertThat(refused(p).problems()).containsExactly(
                "SAMBANOVA_API_BASE must be an http(s) URL, got: api.sambanova.ai/v1");

        Map<String, String> a = azure("https://my resource.openai.azure.com", null);
        assertThat(refused(a).problems()).containsExactly(
                "AZURE_AI_ENDPOINT must be an http(s) URL, got: https://my resource.openai.azure.com");
    }

    @Test
    void theOpenAiBodyLimitMustBeAPositiveInteger() {
        Map<String, String> p = validSambanova();
        p.put("openai.max-body-bytes", "10MB");

        assertThat(refused(p).problems()).containsExactly(
                "OPENAI_MAX_BODY_BYTES (openai.max-body-bytes) must be a positive integer, got: 10MB");
    }

    @Test
    void nonNumericMaxTokensIsRefused() {
        Map<String, String> p = validSambanova();
        p.put("chat.max-tokens", "lots");

        assertThat(refused(p).problems()).containsExactly("CHAT_MAX_TOKENS (chat.max-tokens) must be a positive integer, got: lots");
    }

    @Test
    void zeroOrNegativeNumbersAreRefusedAllAtOnce() {
        Map<String, String> p = validSambanova();
        p.put("chat.max-tokens", "0");
        p.put("chat.max-context-messages", "-1");
        p.put("llm.stream-idle-timeout-ms", "1.5");

        assertThat(refused(p).problems()).containsExactly(
                "CHAT_MAX_TOKENS (chat.max-tokens) must be a positive integer, got: 0",
                "CHAT_MAX_CONTEXT_MESSAGES (chat.max-context-messages) must be zero or a positive integer, got: -1",
                "LLM_STREAM_IDLE_TIMEOUT_MS (llm.stream-idle-timeout-ms) must be a positive integer, got: 1.5");
    }

    @Test
    void everyProblemIsInOneExceptionAndNoKeyValueAppears() {
        Map<String, String> p = defaults();
        p.put("llm.provider", "azure");
        p.put("llm.fallback-provider", "sambanova");
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("sambanova.api-key", SAMBANOVA_KEY);
        p.put("chat.max-tokens", "many");
        p.put("chat.jwt.secret", "too-short");

        InvalidConfigurationException e = refused(p);

        assertThat(e.problems()).containsExactly(
                "LLM_PROVIDER=azure needs AZURE_AI_ENDPOINT, AZURE_AI_DEPLOYMENT",
                "LLM_FALLBACK_PROVIDER=sambanova needs SAMBANOVA_MODEL",
                "CHAT_MAX_TOKENS (chat.max-tokens) must be a positive integer, got: many",
                "CHAT_JWT_SECRET must be at least 32 bytes for HS256");
        assertThat(e.getMessage()).doesNotContain(AZURE_KEY, SAMBANOVA_KEY, "too-short");
    }

    // --- accepted configurations ---

    @Test
    void providerAliasesAreAccepted() {
        for (String alias : List.of("azure", "azureai", "azure-ai", "AZURE", "Azure-AI", " AzureAI ")) {
            Map<String, String> p = azure("https://r.openai.azure.com", null);
            p.put("llm.provider", alias);

            GatewaySettings s = SettingsLoader.load(p::get);

            assertThat(s.primary()).as(alias).isEqualTo("azure");
            assertThat(s.providers()).as(alias).containsOnlyKeys("azure");
        }
    }

    @Test
    void sambanovaSettings() {
        Map<String, String> p = validSambanova();
        p.put("sambanova.api-base", "https://api.sambanova.ai/v1/");
        p.put("llm.fallback-provider", "demo");

        GatewaySettings s = SettingsLoader.load(p::get);

        assertThat(s.primary()).isEqualTo("sambanova");
        assertThat(s.fallback()).isEqualTo("demo");
        ProviderSettings sn = s.provider("sambanova");
        assertThat(sn.url()).isEqualTo("https://api.sambanova.ai/v1/chat/completions");
        assertThat(sn.authHeader()).isEqualTo("Authorization");
        assertThat(sn.authPrefix()).isEqualTo("Bearer ");
        assertThat(sn.apiKey()).isEqualTo(SAMBANOVA_KEY);
        assertThat(sn.model()).isEqualTo("Meta-Llama-3.3-70B-Instruct");
        assertThat(sn.includeUsage()).isTrue();
        assertThat(s.provider("demo").url()).isEqualTo("http://127.0.0.1:8080/demo/v1/chat/completions");
        assertThat(sn.toString()).doesNotContain(SAMBANOVA_KEY);
        assertThat(s.toString()).isEqualTo("GatewaySettings[primary=sambanova, fallback=demo, authDisabled=false]");
        assertThat(s.maxTokens()).isEqualTo(2048);
        assertThat(s.maxContextMessages()).isEqualTo(20);
        assertThat(s.maxMessageLength()).isEqualTo(4000);
        assertThat(s.keepAliveMs()).isEqualTo(15000);
    }

    // --- Azure URL shapes ---

    @Test
    void azureOpenAiEndpointWithTrailingSlashUsesTheDeploymentsUrl() {
        ProviderSettings a = azureSettings("https://r.openai.azure.com/", null);

        assertThat(a.url()).isEqualTo(
                "https://r.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21");
        assertThat(a.model()).isNull();
        assertThat(a.modelLabel()).isEqualTo("gpt-4o-mini");
        assertThat(a.authHeader()).isEqualTo("api-key");
        assertThat(a.authPrefix()).isEmpty();
        assertThat(a.apiKey()).isEqualTo(AZURE_KEY);
        assertThat(a.includeUsage()).isTrue();
    }

    @Test
    void cognitiveServicesEndpointUsesTheDeploymentsUrl() {
        ProviderSettings a = azureSettings("https://r.cognitiveservices.azure.com", "2024-06-01");

        assertThat(a.url()).isEqualTo("https://r.cognitiveservices.azure.com/openai/deployments/gpt-4o-mini"
                + "/chat/completions?api-version=2024-06-01");
        assertThat(a.model()).isNull();
        assertThat(a.authHeader()).isEqualTo("api-key");
        assertThat(a.includeUsage()).isFalse();
    }

    @Test
    void foundryModelsEndpointPutsTheModelInTheBody() {
        ProviderSettings a = azureSettings("https://r.services.ai.azure.com/models", null);

        assertThat(a.url()).isEqualTo(
                "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview");
        assertThat(a.model()).isEqualTo("gpt-4o-mini");
        assertThat(a.modelLabel()).isEqualTo("gpt-4o-mini");
        assertThat(a.authHeader()).isEqualTo("api-key");
        assertThat(a.includeUsage()).isFalse();
    }

    @Test
    void openAiV1EndpointPutsTheModelInTheBody() {
        ProviderSettings a = azureSettings("https://r.openai.azure.com/openai/v1", null);

        assertThat(a.url()).isEqualTo("https://r.openai.azure.com/openai/v1/chat/completions");
        assertThat(a.model()).isEqualTo("gpt-4o-mini");
        assertThat(a.authHeader()).isEqualTo("api-key");
        assertThat(a.includeUsage()).isTrue();
    }

    @Test
    void includeUsageFollowsTheApiVersion() {
        Map<String, Boolean> expected = Map.of(
                "2024-02-15-preview", false,
                "2024-06-01", false,
                "2024-08-01-preview", false,
                "2024-09-01-preview", true,
                "2024-10-21", true,
                "2025-01-01-preview", true);
        expected.forEach((version, usage) -> {
            ProviderSettings a = azureSettings("https://r.openai.azure.com", version);

            assertThat(a.includeUsage()).as(version).isEqualTo(usage);
            assertThat(a.url()).as(version).isEqualTo(
                    "https://r.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=" + version);
        });
    }

    @Test
    void providerSettingsToStringNeverShowsTheKey() {
        for (String endpoint : List.of("https://r.openai.azure.com/", "https://r.services.ai.azure.com/models",
                "https://r.openai.azure.com/openai/v1")) {
            ProviderSettings a = azureSettings(endpoint, null);

            assertThat(a.toString()).as(endpoint).doesNotContain(AZURE_KEY).contains("model=gpt-4o-mini");
        }
        ProviderSettings a = azureSettings("https://r.openai.azure.com", null);
        assertThat(a.toString()).isEqualTo("ProviderSettings[azure https://r.openai.azure.com/openai/deployments/"
                + "gpt-4o-mini/chat/completions?api-version=2024-10-21 model=gpt-4o-mini]");
    }

    static ProviderSettings azureSettings(String endpoint, String apiVersion) {
        Map<String, String> p = azure(endpoint, apiVersion);
        GatewaySettings s = SettingsLoader.load(p::get);
        assertThat(s.providers()).containsOnlyKeys("azure");
        return s.provider("azure");
    }

    /** Limits in memory only where no other instance can reach the database: an embedded H2. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} with CHAT_LIMITS_SHARED={1}: shared {2}")
    @org.junit.jupiter.params.provider.CsvSource({
            "jdbc:h2:file:./data/cobalt-chat, , false",
            "jdbc:h2:mem:chat;DB_CLOSE_DELAY=-1, auto, false",
            "jdbc:h2:file:./data/cobalt-chat;AUTO_SERVER=TRUE, auto, true",
            "jdbc:h2:tcp://db.internal/chat, , true",
            "jdbc:postgresql://db.internal:5432/chat, auto, true",
            "jdbc:postgresql://db.internal:5432/chat, false, false",
            "jdbc:h2:file:./data/cobalt-chat, true, true"})
    void theLimitsAreSharedUnlessTheDatabaseIsAnEmbeddedH2(String url, String shared, boolean expected) {
        Map<String, String> p = validSambanova();
        p.put("chat.db.url", url);
        p.put("chat.limits.shared", shared);
        assertThat(SettingsLoader.load(p::get).limitsShared()).isEqualTo(expected);
    }

    @Test
    void withAuthOnBothPortsListenOnEveryAddressUnlessSet() {
        GatewaySettings s = SettingsLoader.load(validSambanova()::get);
        assertThat(s.httpHost()).isEqualTo("0.0.0.0");
        assertThat(s.managementHost()).isEqualTo("0.0.0.0");

        Map<String, String> p = validSambanova();
        p.put("http.host", "127.0.0.2");
        p.put("management.host", "127.0.0.1");
        GatewaySettings set = SettingsLoader.load(p::get);
        assertThat(set.httpHost()).isEqualTo("127.0.0.2");
        assertThat(set.managementHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void withAuthOffBothPortsListenOnLoopbackAndAnotherAddressNeedsTheOptIn() {
        Map<String, String> p = defaults();
        p.put("llm.provider", "demo");
        p.put("chat.auth.disabled", "true");
        GatewaySettings s = SettingsLoader.load(p::get);
        assertThat(s.httpHost()).isEqualTo("127.0.0.1");
        assertThat(s.managementHost()).isEqualTo("127.0.0.1");

        p.put("http.host", "0.0.0.0");
        p.put("management.host", "::");
        assertThat(refused(p).problems()).containsExactly(
                "HTTP_HOST=0.0.0.0 with CHAT_AUTH_DISABLED=true would let anyone who can reach it act as the one user"
                        + " 'local'; listen on 127.0.0.1, or set CHAT_AUTH_DISABLED_ALLOW_REMOTE=true if that is really"
                        + " meant",
                "MANAGEMENT_HOST=:: with CHAT_AUTH_DISABLED=true would let anyone who can reach it act as the one user"
                        + " 'local'; listen on 127.0.0.1, or set CHAT_AUTH_DISABLED_ALLOW_REMOTE=true if that is really"
                        + " meant");

        p.put("chat.auth.disabled-allow-remote", "true");
        assertThat(SettingsLoader.load(p::get).httpHost()).isEqualTo("0.0.0.0");
    }

    // --- item 7: every number, boolean, duration, size and list is checked in the one refusal ---

    static Map<String, String> sambanovaWithAzureFallback() {
        Map<String, String> p = validSambanova();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", "https://my-resource.openai.azure.com");
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("azure.ai.deployment", "gpt-4o-mini");
        return p;
    }

    @Test
    void everyNumberBooleanAndSizeSettingIsCheckedAndNamedByVariableAndProperty() {
        Map<String, String> p = validSambanova();
        p.put("llm.max-cooldown-seconds", "0");
        p.put("http.port", "http");
        p.put("management.port", "70000");
        p.put("http.max-body-bytes", "64k");
        p.put("http.h2c-enabled", "on");
        p.put("http.worker-pool-size", "-1");
        p.put("http.worker-keep-alive-seconds", "0");
        p.put("chat.db.pool-size", "0");
        p.put("chat.record-threads", "eight");
        p.put("chat.stream-lease-seconds", "0");
        p.put("chat.shutdown-grace-seconds", "-5");
        p.put("llm.health-probe-seconds", "1m");
        p.put("llm.catalog-check.enabled", "yes");
        p.put("llm.catalog-check.azure", "1");
        p.put("llm.catalog-check-seconds", "-1");
        p.put("demo.token-delay-ms", "fast");
        p.put("chat.routes.reload", "sometimes");
        p.put("llm.connect-timeout-ms", "99999999999");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_CONNECT_TIMEOUT_MS (llm.connect-timeout-ms) must be a positive integer, got: 99999999999",
                "CHAT_STREAM_LEASE_SECONDS (chat.stream-lease-seconds) must be a positive integer, got: 0",
                "LLM_MAX_COOLDOWN_SECONDS (llm.max-cooldown-seconds) must be a positive integer, got: 0",
                "HTTP_PORT must be a port number from 1 to 65535, got: http",
                "MANAGEMENT_PORT must be a port number from 1 to 65535, got: 70000",
                "HTTP_MAX_BODY_BYTES (http.max-body-bytes) must be a positive integer, got: 64k",
                "HTTP_H2C_ENABLED (http.h2c-enabled) must be true or false, got: on",
                "HTTP_WORKER_POOL_SIZE (http.worker-pool-size) must be a positive integer, got: -1",
                "HTTP_WORKER_KEEP_ALIVE_SECONDS (http.worker-keep-alive-seconds) must be a positive integer, got: 0",
                "CHAT_DB_POOL_SIZE (chat.db.pool-size) must be a positive integer, got: 0",
                "CHAT_RECORD_THREADS (chat.record-threads) must be a positive integer, got: eight",
                "CHAT_SHUTDOWN_GRACE_SECONDS (chat.shutdown-grace-seconds) must be zero or a positive integer, got: -5",
                "LLM_HEALTH_PROBE_SECONDS (llm.health-probe-seconds) must be zero or a positive integer, got: 1m",
                "LLM_CATALOG_CHECK_ENABLED (llm.catalog-check.enabled) must be true or false, got: yes",
                "LLM_CATALOG_CHECK_AZURE (llm.catalog-check.azure) must be true or false, got: 1",
                "LLM_CATALOG_CHECK_SECONDS (llm.catalog-check-seconds) must be zero or a positive integer, got: -1",
                "DEMO_TOKEN_DELAY_MS (demo.token-delay-ms) must be zero or a positive integer, got: fast",
                "CHAT_ROUTES_RELOAD must be true or false, got: sometimes");
    }

    @Test
    void theRemoteOptInIsABooleanEvenWhenAuthIsOn() {
        Map<String, String> p = validSambanova();
        p.put("chat.auth.disabled-allow-remote", "maybe");

        assertThat(refused(p).problems()).containsExactly(
                "CHAT_AUTH_DISABLED_ALLOW_REMOTE (chat.auth.disabled-allow-remote) must be true or false, got: maybe");
    }

    @Test
    void breakerSettingsAreCheckedOnceWhenSharedAndByTheirOwnVariablePerProvider() {
        Map<String, String> p = sambanovaWithAzureFallback();
        p.put("llm.breaker.failure-rate-threshold", "abc");
        p.put("llm.breaker.sliding-window-size", "0");
        p.put("llm.breaker.minimum-number-of-calls", "-3");
        p.put("llm.breaker.wait-in-open-ms", "0");
        p.put("llm.breaker.permitted-calls-in-half-open-state", "two");
        p.put("llm.breaker.azure.failure-rate-threshold", "100.5");
        p.put("llm.breaker.sambanova.failure-rate-threshold", "0");
        p.put("llm.breaker.azure.wait-in-open-ms", "30s");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_BREAKER_FAILURE_RATE_THRESHOLD (llm.breaker.failure-rate-threshold) must be a percentage above 0"
                        + " and at most 100, got: abc",
                "LLM_BREAKER_SLIDING_WINDOW_SIZE (llm.breaker.sliding-window-size) must be a positive integer, got: 0",
                "LLM_BREAKER_MINIMUM_NUMBER_OF_CALLS (llm.breaker.minimum-number-of-calls) must be a positive integer,"
                        + " got: -3",
                "LLM_BREAKER_WAIT_IN_OPEN_MS (llm.breaker.wait-in-open-ms) must be a positive integer, got: 0",
                "LLM_BREAKER_PERMITTED_CALLS_IN_HALF_OPEN_STATE (llm.breaker.permitted-calls-in-half-open-state) must"
                        + " be a positive integer, got: two",
                "LLM_BREAKER_SAMBANOVA_FAILURE_RATE_THRESHOLD (llm.breaker.sambanova.failure-rate-threshold) must be a"
                        + " percentage above 0 and at most 100, got: 0",
                "LLM_BREAKER_AZURE_FAILURE_RATE_THRESHOLD (llm.breaker.azure.failure-rate-threshold) must be a"
                        + " percentage above 0 and at most 100, got: 100.5",
                "LLM_BREAKER_AZURE_WAIT_IN_OPEN_MS (llm.breaker.azure.wait-in-open-ms) must be a positive integer,"
                        + " got: 30s");
    }

    @Test
    void aProvidersOwnBreakerSettingWinsOverTheSharedOneAndTheRestKeepTheDefaults() {
        Map<String, String> p = sambanovaWithAzureFallback();
        p.put("llm.breaker.failure-rate-threshold", "100");
        p.put("llm.breaker.sliding-window-size", "11");
        p.put("llm.breaker.azure.sliding-window-size", "7");
        p.put("llm.breaker.azure.failure-rate-threshold", "12.5");
        p.put("llm.breaker.sambanova.wait-in-open-ms", "1");

        GatewaySettings s = SettingsLoader.load(p::get);

        assertThat(s.breakers().keySet()).containsExactly("sambanova", "azure");
        assertThat(s.breaker("sambanova")).isEqualTo(new BreakerSettings(100f, 11, 5, 1, 2));
        assertThat(s.breaker("azure")).isEqualTo(new BreakerSettings(12.5f, 7, 5, 30_000, 2));
        assertThat(SettingsLoader.load(validSambanova()::get).breaker("sambanova")).isEqualTo(BreakerSettings.DEFAULTS);
    }

    @Test
    void declaredProvidersHaveBreakerSettingsUnderTheirOwnId() {
        Map<String, String> p = validSambanova();
        p.put("llm.fallback-provider", "azure-west");
        p.put("llm.provider.azure-west.kind", "azure");
        p.put("llm.provider.azure-west.endpoint", "https://west.openai.azure.com");
        p.put("llm.provider.azure-west.api-key", AZURE_KEY);
        p.put("llm.provider.azure-west.deployment", "gpt-4o");
        p.put("llm.breaker.azure-west.minimum-number-of-calls", "none");

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(p::get, java.util.Set.of(), java.util.Set.of("azure-west")));

        assertThat(e.problems()).containsExactly("LLM_BREAKER_AZURE_WEST_MINIMUM_NUMBER_OF_CALLS"
                + " (llm.breaker.azure-west.minimum-number-of-calls) must be a positive integer, got: none");
    }

    @Test
    void theValidatedRuntimeSettingsAreCarriedWithTheirDefaults() {
        GatewaySettings defaults = SettingsLoader.load(validSambanova()::get);
        assertThat(defaults.runtime()).isEqualTo(new RuntimeSettings(8080, 9876, 65536, false,
                Runtime.getRuntime().availableProcessors(), 32, 5, 10000, 16, 1000, 10, 5000, 64, 8, 60, 20, 0,
                true, false, 0, 40, 10_485_760, 30, 120));
        assertThat(defaults.maxCooldownSeconds()).isEqualTo(300);

        Map<String, String> p = validSambanova();
        p.put("http.h2c-enabled", "TRUE");
        p.put("http.worker-pool-size", "3");
        p.put("chat.shutdown-grace-seconds", "0");
        p.put("llm.catalog-check.enabled", "false");
        p.put("llm.max-cooldown-seconds", "60");
        p.put("chat.history-cache-mb", "0");
        GatewaySettings s = SettingsLoader.load(p::get);
        assertThat(s.runtime().historyCacheMb()).isZero();
        assertThat(s.runtime().h2cEnabled()).isTrue();
        assertThat(s.runtime().workerPoolSize()).isEqualTo(3);
        assertThat(s.runtime().shutdownGraceSeconds()).isZero();
        assertThat(s.runtime().catalogCheckEnabled()).isFalse();
        assertThat(s.maxCooldownSeconds()).isEqualTo(60);
    }

    /** An empty admin role would be matched by a token with {@code "roles": [""]} (operators' audit, 2026-12-04). */
    @Test
    void theAdminRoleMustNotBeEmpty() {
        Map<String, String> p = validSambanova();
        p.put("chat.admin-role", " ");
        InvalidConfigurationException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                InvalidConfigurationException.class, () -> SettingsLoader.load(p::get));
        assertThat(e.problems()).containsExactly("CHAT_ADMIN_ROLE (chat.admin-role) must name a role (it is empty)");
    }

    @Test
    void theManagementPortMustBeItsOwnAndTheDatabaseWaitAtLeast250Ms() {
        Map<String, String> p = validSambanova();
        p.put("http.port", "9000");
        p.put("management.port", "9000");
        p.put("chat.db.connection-timeout-ms", "100");
        InvalidConfigurationException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                InvalidConfigurationException.class, () -> SettingsLoader.load(p::get));
        assertThat(e.problems()).containsExactly(
                "HTTP_PORT and MANAGEMENT_PORT are both 9000; the management port (health and metrics, no"
                        + " authentication) needs a port of its own",
                "CHAT_DB_CONNECTION_TIMEOUT_MS (chat.db.connection-timeout-ms) must be a whole number of milliseconds,"
                        + " 250 or more, got: 100");
    }

    @Test
    void pricesMustBeTwoOrThreeNumbersOfZeroOrMore() {
        Map<String, String> p = azure("https://my-resource.openai.azure.com", null);
        p.put("llm.price.azure.gpt-4o", "2.50");
        p.put("llm.price.azure.gpt-4o-mini", "0.15,-0.60");
        p.put("llm.price.azure.o3", "2.00,8.00,0.50,1");
        p.put("llm.price.azure.gpt-4.1", "2.00,8.00,0.50");
        p.put("llm.price.demo.cobalt-demo", "0,0");

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(p::get, java.util.Set.of(), java.util.Set.of(),
                        java.util.Set.of("llm.price.azure.gpt-4o", "llm.price.demo.cobalt-demo", "llm.price.azure.o3",
                                "llm.price.azure.gpt-4.1")));

        // gpt-4o-mini is the catalog's model: its price is checked although only the environment sets it; a third
        // number (the cached-input price) is fine, a fourth is not
        assertThat(e.problems()).containsExactly(
                "LLM_PRICE_AZURE_GPT_4O (llm.price.azure.gpt-4o) must be <input>,<output>[,<cached input>]: two or"
                        + " three numbers of zero or more, USD per million tokens, got: 2.50",
                "LLM_PRICE_AZURE_GPT_4O_MINI (llm.price.azure.gpt-4o-mini) must be <input>,<output>[,<cached input>]:"
                        + " two or three numbers of zero or more, USD per million tokens, got: 0.15,-0.60",
                "LLM_PRICE_AZURE_O3 (llm.price.azure.o3) must be <input>,<output>[,<cached input>]: two or three"
                        + " numbers of zero or more, USD per million tokens, got: 2.00,8.00,0.50,1");
    }
}
