package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up check of where provider credentials come from: key files (AZURE_AI_API_KEY_FILE,
 * SAMBANOVA_API_KEY_FILE, LLM_PROVIDER_<ID>_API_KEY_FILE), AZURE_AI_AUTH / LLM_PROVIDER_<ID>_AUTH with Entra ID and its
 * credential sources, LLM_BALANCE and LLM_PROVIDER_<ID>_WEIGHT. A refusal names the variable and never the key.
 */
class CredentialSettingsTest {

    static final String FILE_KEY = "az-DISTINCTIVE-file-key-0042";
    static final String SECRET = "DISTINCTIVE-client-secret-9911";

    @TempDir
    Path dir;

    static Map<String, String> azureWithoutKey() {
        Map<String, String> p = SettingsLoaderTest.azure("https://res.openai.azure.com", null);
        p.remove("azure.ai.api-key");
        return p;
    }

    static InvalidConfigurationException refused(Map<String, String> p) {
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(p::get));
        assertThat(e).as("expected a refusal").isNotNull();
        assertThat(e.getMessage()).doesNotContain(FILE_KEY, SECRET, SettingsLoaderTest.AZURE_KEY);
        return e;
    }

    Path keyFile(String content) throws IOException {
        Path f = dir.resolve("api-key");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void aKeyFileStandsForTheKeyAndIsKeptAsAPathNotAsAKey() throws IOException {
        Map<String, String> p = azureWithoutKey();
        Path f = keyFile("  " + FILE_KEY + "\n");
        p.put("azure.ai.api-key-file", f.toString());

        ProviderSettings azure = SettingsLoader.load(p::get).provider("azure");

        assertThat(azure.apiKey()).isNull();
        assertThat(azure.apiKeyFile()).isEqualTo(f);
        assertThat(azure.authHeader()).isEqualTo("api-key");
        assertThat(azure.authenticated()).isTrue();
        assertThat(azure.entra()).isFalse();
        assertThat(azure.toString()).doesNotContain(FILE_KEY);
    }

    @Test
    void sambanovaAndDeclaredProvidersTakeKeyFilesToo() throws IOException {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        p.remove("sambanova.api-key");
        Path f = keyFile(FILE_KEY);
        p.put("sambanova.api-key-file", f.toString());
        p.put("llm.provider.azure-west.kind", "azure");
        p.put("llm.provider.azure-west.endpoint", "https://west.openai.azure.com");
        p.put("llm.provider.azure-west.api-key-file", f.toString());
        p.put("llm.provider.azure-west.deployment", "gpt-4o");

        GatewaySettings s = SettingsLoader.load(p::get, java.util.Set.of(), java.util.Set.of("azure-west"));

        assertThat(s.provider("sambanova").apiKeyFile()).isEqualTo(f);
        assertThat(s.provider("sambanova").authHeader()).isEqualTo("Authorization");
        assertThat(s.provider("azure-west").apiKeyFile()).isEqualTo(f);
    }

    @Test
    void anUnreadableKeyFileIsARefusalNamingTheVariableAndThePath() {
        Map<String, String> p = azureWithoutKey();
        Path missing = dir.resolve("no-such-key");
        p.put("azure.ai.api-key-file", missing.toString());

        assertThat(refused(p).problems()).containsExactly(
                "AZURE_AI_API_KEY_FILE: cannot read the file " + missing + " (NoSuchFileException)");
    }

    /** A key that cannot go into a header is refused at start, never quoted (black-box probe: chats hung instead). */
    @Test
    void aKeyWithALineBreakOrOutsideAsciiIsARefusal() throws IOException {
        Map<String, String> p = azureWithoutKey();
        Path f = keyFile(FILE_KEY + "\n" + FILE_KEY + "-next\n");
        p.put("azure.ai.api-key-file", f.toString());
        assertThat(refused(p).problems()).containsExactly("AZURE_AI_API_KEY_FILE: the key in " + f
                + " is not usable: it holds a line break (one key per file or variable)");

        Map<String, String> v = SettingsLoaderTest.validSambanova();
        v.put("sambanova.api-key", "sk-ключ-" + FILE_KEY);
        assertThat(refused(v).problems()).containsExactly("SAMBANOVA_API_KEY: it holds a character outside printable"
                + " ASCII");
    }

    @Test
    void anEmptyKeyFileIsARefusal() throws IOException {
        Map<String, String> p = azureWithoutKey();
        Path f = keyFile(" \n\n");
        p.put("azure.ai.api-key-file", f.toString());

        assertThat(refused(p).problems()).containsExactly("AZURE_AI_API_KEY_FILE: the file " + f + " is empty");
    }

    @Test
    void aKeyAndAKeyFileTogetherAreARefusal() throws IOException {
        Map<String, String> p = SettingsLoaderTest.azure("https://res.openai.azure.com", null);
        p.put("azure.ai.api-key-file", keyFile(FILE_KEY).toString());

        assertThat(refused(p).problems()).containsExactly("Set AZURE_AI_API_KEY or AZURE_AI_API_KEY_FILE, not both");
    }

    @Test
    void entraWithAClientSecretSendsABearerTokenAndNoKey() {
        Map<String, String> p = azureWithoutKey();
        p.put("azure.ai.auth", "entra");
        p.put("azure.tenant-id", "tenant-1");
        p.put("azure.client-id", "client-1");
        p.put("azure.client-secret", SECRET);

        GatewaySettings s = SettingsLoader.load(p::get);

        ProviderSettings azure = s.provider("azure");
        assertThat(azure.entra()).isTrue();
        assertThat(azure.apiKey()).isNull();
        assertThat(azure.authHeader()).isEqualTo("Authorization");
        assertThat(azure.authPrefix()).isEqualTo("Bearer ");
        assertThat(s.entra().chain()).containsExactly(EntraSettings.Source.CLIENT_SECRET);
        assertThat(s.entra().toString()).doesNotContain(SECRET);
    }

    @Test
    void entraChainsEverySourceTheEnvironmentHasInDefaultAzureCredentialOrder() throws IOException {
        Map<String, String> p = azureWithoutKey();
        p.put("azure.ai.auth", "ENTRA");
        p.put("azure.tenant-id", "tenant-1");
        p.put("azure.client-id", "client-1");
        p.put("azure.client-secret", SECRET);
        p.put("azure.federated-token-file", keyFile("federated").toString());
        p.put("identity.endpoint", "http://127.0.0.1:41000/msi/token");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path az = Files.writeString(bin.resolve("az"), "#!/bin/sh\n");
        az.toFile().setExecutable(true);
        p.put("path", "/nonexistent:" + bin);

        assertThat(SettingsLoader.load(p::get).entra().chain()).containsExactly(
                EntraSettings.Source.CLIENT_SECRET, EntraSettings.Source.WORKLOAD_IDENTITY,
                EntraSettings.Source.MANAGED_IDENTITY, EntraSettings.Source.AZURE_CLI);
    }

    @Test
    void entraWithoutAnyCredentialSourceIsARefusalThatSaysWhatToSet() {
        Map<String, String> p = azureWithoutKey();
        p.put("azure.ai.auth", "entra");
        p.put("azure.tenant-id", "tenant-1"); // alone it is no credential
        p.put("path", dir.toString());

        assertThat(refused(p).problems()).containsExactly("AZURE_AI_AUTH=entra needs a Microsoft Entra ID credential,"
                + " and none was found: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service"
                + " principal); or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (AKS workload"
                + " identity); or run where IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Container Apps"
                + " managed identity); or set LLM_ENTRA_CREDENTIAL=managed-identity on an Azure VM or AKS node (IMDS,"
                + " AZURE_CLIENT_ID for a user-assigned identity); or install the Azure CLI and az login");
    }

    @Test
    void aVmManagedIdentityIsChosenByName() {
        Map<String, String> p = azureWithoutKey();
        p.put("llm.provider.azure.auth", "entra"); // not this one: the built-in's variable is AZURE_AI_AUTH
        p.put("azure.ai.auth", "entra");
        p.put("llm.entra.credential", "managed-identity");

        assertThat(SettingsLoader.load(p::get).entra().chain())
                .containsExactly(EntraSettings.Source.MANAGED_IDENTITY);
    }

    @Test
    void aNamedSourceWithoutItsVariablesIsARefusal() {
        Map<String, String> p = azureWithoutKey();
        p.put("azure.ai.auth", "entra");
        p.put("llm.entra.credential", "client-secret");
        p.put("azure.client-id", "client-1");

        assertThat(refused(p).problems()).containsExactly(
                "LLM_ENTRA_CREDENTIAL=client-secret needs AZURE_TENANT_ID, AZURE_CLIENT_SECRET");
    }

    @Test
    void entraWithAKeyStillSetIsARefusal() {
        Map<String, String> p = SettingsLoaderTest.azure("https://res.openai.azure.com", null);
        p.put("azure.ai.auth", "entra");
        p.put("llm.entra.credential", "managed-identity");

        assertThat(refused(p).problems()).containsExactly(
                "AZURE_AI_AUTH=entra sends no key: unset AZURE_AI_API_KEY and AZURE_AI_API_KEY_FILE");
    }

    @Test
    void anUnknownAuthAndEntraForAnOpenAiProviderAreRefusals() {
        Map<String, String> p = SettingsLoaderTest.azure("https://res.openai.azure.com", null);
        p.put("azure.ai.auth", "token");
        assertThat(refused(p).problems()).containsExactly("AZURE_AI_AUTH must be key or entra, got: token");

        Map<String, String> s = SettingsLoaderTest.validSambanova();
        s.put("llm.provider.sambanova.auth", "entra");
        assertThat(refused(s).problems()).containsExactly("LLM_PROVIDER_SAMBANOVA_AUTH=entra: only key is possible"
                + " for a provider of kind openai (entra is for kind azure)");
    }

    @Test
    void aDeclaredAzureInstanceUsesEntraByItsOwnVariable() {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        p.put("llm.provider.azure-east.kind", "azure");
        p.put("llm.provider.azure-east.endpoint", "https://east.openai.azure.com");
        p.put("llm.provider.azure-east.deployment", "gpt-4o");
        p.put("llm.provider.azure-east.auth", "entra");
        p.put("path", dir.toString());

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> SettingsLoader.load(p::get, java.util.Set.of(), java.util.Set.of("azure-east")));

        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0)).startsWith("LLM_PROVIDER_AZURE_EAST_AUTH=entra needs a Microsoft Entra ID"
                + " credential, and none was found: set AZURE_TENANT_ID");
    }

    @Test
    void balanceAndWeights() {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        assertThat(SettingsLoader.load(p::get).weightedBalance()).isFalse();
        assertThat(SettingsLoader.load(p::get).provider("sambanova").weight()).isEqualTo(1);

        p.put("llm.balance", "weighted");
        p.put("llm.provider.sambanova.weight", "3");
        GatewaySettings s = SettingsLoader.load(p::get);
        assertThat(s.weightedBalance()).isTrue();
        assertThat(s.provider("sambanova").weight()).isEqualTo(3);

        p.put("llm.balance", "round-robin");
        p.put("llm.provider.sambanova.weight", "-1");
        assertThat(refused(p).problems()).containsExactly(
                "LLM_PROVIDER_SAMBANOVA_WEIGHT must be zero or a positive integer, got: -1",
                "LLM_BALANCE must be primary or weighted, got: round-robin");
    }
}
