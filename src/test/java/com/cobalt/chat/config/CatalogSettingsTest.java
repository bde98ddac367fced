package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import com.cobalt.chat.model.Catalog;
import com.cobalt.chat.provider.ProviderSelection;
import org.junit.jupiter.api.Test;

/**
 * The model catalog in configuration: lists per provider (ids, or id=deployment for Azure), capabilities,
 * equivalents and the split; the single-model variables as a one-entry catalog and the default model; and every
 * catalog mistake named by its environment variable in the one startup refusal.
 */
class CatalogSettingsTest {

    static Map<String, String> sambanovaAndAzure() {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        p.remove("sambanova.model");
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", "https://cobalt.openai.azure.com");
        p.put("azure.ai.api-key", SettingsLoaderTest.AZURE_KEY);
        p.put("llm.models.sambanova", "Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324");
        p.put("llm.models.azure", "gpt-4o=gpt-4o-prod, gpt-4o-mini=gpt-4o-mini-prod");
        return p;
    }

    static InvalidConfigurationException refused(Map<String, String> p, Set<String> catalogProviders) {
        InvalidConfigurationException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                InvalidConfigurationException.class, () -> SettingsLoader.load(p::get, catalogProviders, Set.of()));
        assertThat(e).as("expected the configuration to be refused").isNotNull();
        assertThat(e.getMessage()).doesNotContain(SettingsLoaderTest.SAMBANOVA_KEY, SettingsLoaderTest.AZURE_KEY);
        return e;
    }

    @Test
    void listsPerProviderBecomeTheCatalogWithDeploymentsAndCapabilities() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.model.gpt-4o.context-window", "128000");
        p.put("llm.model.gpt-4o.max-output-tokens", "16384");
        p.put("llm.model-equivalents", "gpt-4o=Meta-Llama-3.3-70B-Instruct");
        p.put("llm.split", "Meta-Llama-3.3-70B-Instruct:90, gpt-4o:10");

        CatalogSettings c = SettingsLoader.load(p::get, Set.of("sambanova", "azure"), Set.of()).catalog();

        assertThat(c.models()).containsExactly(
                new CatalogModel("Meta-Llama-3.3-70B-Instruct", "sambanova", "Meta-Llama-3.3-70B-Instruct",
                        null, null),
                new CatalogModel("DeepSeek-V3-0324", "sambanova", "DeepSeek-V3-0324", null, null),
                new CatalogModel("gpt-4o", "azure", "gpt-4o-prod", 128000, 16384),
                new CatalogModel("gpt-4o-mini", "azure", "gpt-4o-mini-prod", null, null));
        assertThat(c.defaults()).isEqualTo(Map.of("sambanova", "Meta-Llama-3.3-70B-Instruct",
                "azure", "gpt-4o"));
        assertThat(c.equivalents()).isEqualTo(Map.of("gpt-4o", "Meta-Llama-3.3-70B-Instruct"));
        assertThat(c.split()).containsExactly(new SplitArm("Meta-Llama-3.3-70B-Instruct", 90),
                new SplitArm("gpt-4o", 10));
        assertThat(c.implicitEquivalents()).isFalse();
    }

    @Test
    void theSingleModelVariablesAreAOneEntryCatalogWhoseModelsStandInForEachOther() {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", "https://cobalt.openai.azure.com");
        p.put("azure.ai.api-key", SettingsLoaderTest.AZURE_KEY);
        p.put("azure.ai.deployment", "gpt-4o-mini");

        CatalogSettings c = SettingsLoader.load(p::get).catalog();

        assertThat(c.models()).containsExactly(
                new CatalogModel("Meta-Llama-3.3-70B-Instruct", "sambanova", "Meta-Llama-3.3-70B-Instruct",
                        null, null),
                new CatalogModel("gpt-4o-mini", "azure", "gpt-4o-mini", null, null));
        assertThat(c.defaults()).isEqualTo(Map.of("sambanova", "Meta-Llama-3.3-70B-Instruct",
                "azure", "gpt-4o-mini"));
        assertThat(c.implicitEquivalents()).isTrue();
    }

    @Test
    void aModelsTokenLimitFieldIsMaxTokensUnlessConfiguredMaxCompletionTokens() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.model.gpt-4o.token-limit", "max_completion_tokens");

        CatalogSettings c = SettingsLoader.load(p::get, Set.of("sambanova", "azure"), Set.of()).catalog();

        assertThat(c.models()).extracting(CatalogModel::id, CatalogModel::tokenLimit).containsExactly(
                org.assertj.core.groups.Tuple.tuple("Meta-Llama-3.3-70B-Instruct", "max_tokens"),
                org.assertj.core.groups.Tuple.tuple("DeepSeek-V3-0324", "max_tokens"),
                org.assertj.core.groups.Tuple.tuple("gpt-4o", "max_completion_tokens"),
                org.assertj.core.groups.Tuple.tuple("gpt-4o-mini", "max_tokens"));

        p.put("llm.model.gpt-4o-mini.token-limit", "max_output_tokens");
        assertThat(refused(p, Set.of("sambanova", "azure")).problems()).containsExactly(
                "LLM_MODEL_GPT_4O_MINI_TOKEN_LIMIT must be max_tokens or max_completion_tokens, got: max_output_tokens");
    }

    static List<String> withoutFallback(Map<String, String> p) {
        GatewaySettings settings = SettingsLoader.load(p::get, Set.of("sambanova", "azure"), Set.of());
        return new Catalog(settings.catalog(), new ProviderSelection(settings.primary(), settings.fallback(),
                List.copyOf(settings.providers().keySet()), Map.of())).withoutFallback();
    }

    @Test
    void thePrimarysModelsThatTheFallbackCannotServeAreTheOnesStartUpWarnsOf() {
        Map<String, String> lists = sambanovaAndAzure();
        assertThat(withoutFallback(lists)).containsExactly("Meta-Llama-3.3-70B-Instruct", "DeepSeek-V3-0324");

        lists.put("llm.model-equivalents", "Meta-Llama-3.3-70B-Instruct=gpt-4o");
        assertThat(withoutFallback(lists)).containsExactly("DeepSeek-V3-0324");

        lists.remove("llm.fallback-provider");
        assertThat(withoutFallback(lists)).as("no fallback configured: none was asked for").isEmpty();

        Map<String, String> single = SettingsLoaderTest.validSambanova();
        single.put("llm.fallback-provider", "azure");
        single.put("azure.ai.endpoint", "https://cobalt.openai.azure.com");
        single.put("azure.ai.api-key", SettingsLoaderTest.AZURE_KEY);
        single.put("azure.ai.deployment", "gpt-4o-mini");
        assertThat(withoutFallback(single)).as("single-model variables: the defaults stand in").isEmpty();
    }

    @Test
    void aSingleModelVariableBesideAListStaysTheDefaultModel() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("sambanova.model", "DeepSeek-V3-0324");
        p.put("azure.ai.deployment", "gpt-4o-mini-prod");

        CatalogSettings c = SettingsLoader.load(p::get).catalog();

        assertThat(c.defaults()).isEqualTo(Map.of("sambanova", "DeepSeek-V3-0324",
                "azure", "gpt-4o-mini"));
        assertThat(c.models()).hasSize(4);
    }

    @Test
    void aProviderWithAListIsConfiguredAndValidatedEvenWhenNotPrimaryOrFallback() {
        Map<String, String> p = SettingsLoaderTest.validSambanova();
        p.put("llm.models.azure", "gpt-4o=gpt-4o-prod");

        assertThat(refused(p, Set.of("azure")).problems()).containsExactly(
                "LLM_MODELS_AZURE needs AZURE_AI_ENDPOINT, AZURE_AI_API_KEY");
    }

    @Test
    void capabilitiesAndThinkTagsAreReadPerModelInTheirOwnOrder() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.model.gpt-4o.capabilities", "vision tools,json_schema");
        p.put("llm.model.DeepSeek-V3-0324.reasoning", "think-tags");

        CatalogSettings c = SettingsLoader.load(p::get, Set.of("sambanova", "azure"), Set.of()).catalog();

        assertThat(c.models()).containsExactly(
                new CatalogModel("Meta-Llama-3.3-70B-Instruct", "sambanova", "Meta-Llama-3.3-70B-Instruct",
                        null, null),
                // think tags make a reasoning model, whether or not its list says so
                new CatalogModel("DeepSeek-V3-0324", "sambanova", "DeepSeek-V3-0324", null, null,
                        java.util.List.of("reasoning"), true),
                new CatalogModel("gpt-4o", "azure", "gpt-4o-prod", null, null,
                        java.util.List.of("tools", "json_schema", "vision"), false),
                new CatalogModel("gpt-4o-mini", "azure", "gpt-4o-mini-prod", null, null));
    }

    @Test
    void anUnknownCapabilityOrReasoningStyleIsRefusedNamingItsVariable() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.model.gpt-4o.capabilities", "tools, functions");
        p.put("llm.model.DeepSeek-V3-0324.reasoning", "inline");

        assertThat(refused(p, Set.of("sambanova", "azure")).problems()).containsExactly(
                "LLM_MODEL_DEEPSEEK_V3_0324_REASONING must be fields or think-tags, got: inline",
                "LLM_MODEL_GPT_4O_CAPABILITIES: 'functions' is not a capability; valid: tools, json_schema, vision,"
                        + " reasoning");
    }

    @Test
    void everyCatalogMistakeIsNamedInOneRefusal() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.models.sambanova", "Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324, Meta-Llama-3.3-70B-Instruct");
        p.put("llm.models.azure", "gpt-4o=, gpt-4o-mini=gpt-4o-mini-prod");
        p.put("llm.models.openai", "gpt-5");
        p.put("llm.model.gpt-4o-mini.context-window", "lots");
        p.put("llm.model-equivalents", "gpt-4o-mini=claude-3");
        p.put("llm.split", "Meta-Llama-3.3-70B-Instruct:90, gpt-4o-mini:ten");

        InvalidConfigurationException e = refused(p, Set.of("sambanova", "azure", "openai"));

        assertThat(e.problems()).containsExactly(
                "LLM_MODELS_OPENAI names an unknown provider 'openai'; valid: sambanova, azure, demo (declare another with LLM_PROVIDER_<ID>_KIND)",
                "LLM_MODELS_SAMBANOVA lists the model Meta-Llama-3.3-70B-Instruct twice",
                "LLM_MODELS_AZURE: 'gpt-4o=' names no deployment for gpt-4o",
                "LLM_MODEL_GPT_4O_MINI_CONTEXT_WINDOW must be a positive integer, got: lots",
                "LLM_MODEL_EQUIVALENTS: 'gpt-4o-mini=claude-3' names a model not in the catalog; valid: "
                        + "Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324, gpt-4o-mini",
                "LLM_SPLIT: 'gpt-4o-mini:ten' must be <model>:<positive weight>");
        assertThat(e.getMessage()).startsWith("Invalid configuration:\n  - LLM_MODELS_OPENAI names an unknown provider");
    }

    @Test
    void aSplitOrEquivalentNamingAnUnknownModelListsTheCatalog() {
        Map<String, String> p = sambanovaAndAzure();
        p.put("llm.split", "gpt-5:50, gpt-4o:50");
        p.put("llm.model.gpt-4o.context-window", "8000");
        p.put("llm.model.gpt-4o.max-output-tokens", "8000");

        assertThat(refused(p, Set.of()).problems()).containsExactly(
                "LLM_MODEL_GPT_4O_MAX_OUTPUT_TOKENS (8000) must be less than the context window (8000)",
                "LLM_SPLIT: gpt-5 is not in the catalog; valid: Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324, "
                        + "gpt-4o, gpt-4o-mini");
    }

    @Test
    void azureDeploymentsGoInThePathOrTheBodyByEndpointShape() {
        Map<String, String> p = sambanovaAndAzure();
        ProviderSettings openai = SettingsLoader.load(p::get).provider("azure");
        assertThat(openai.target("gpt-4o-mini-prod")).isEqualTo(new ProviderSettings.Target(
                "https://cobalt.openai.azure.com/openai/deployments/gpt-4o-mini-prod/chat/completions"
                        + "?api-version=2024-10-21", null, "gpt-4o-mini-prod"));
        assertThat(openai.target(null).url()).isEqualTo(
                "https://cobalt.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");

        p.put("azure.ai.endpoint", "https://cobalt.services.ai.azure.com/models");
        ProviderSettings foundry = SettingsLoader.load(p::get).provider("azure");
        assertThat(foundry.target("gpt-4o-mini-prod")).isEqualTo(new ProviderSettings.Target(
                "https://cobalt.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview",
                "gpt-4o-mini-prod", "gpt-4o-mini-prod"));

        ProviderSettings sambanova = SettingsLoader.load(p::get).provider("sambanova");
        assertThat(sambanova.modelsUrl()).isEqualTo("https://api.sambanova.ai/v1/models");
        assertThat(List.of(sambanova.target("DeepSeek-V3-0324").url(), sambanova.target("DeepSeek-V3-0324").bodyModel()))
                .containsExactly("https://api.sambanova.ai/v1/chat/completions", "DeepSeek-V3-0324");
    }
}
