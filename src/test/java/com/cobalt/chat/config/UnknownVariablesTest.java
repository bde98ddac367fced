package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * A CHAT_/LLM_ variable no setting reads is named (a typo would otherwise start the gateway on the default,
 * silently: ops audit, 2026-12-04); the known ones, the id families and other programs' variables are not.
 */
class UnknownVariablesTest {

    static Set<String> shippedProperties() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("application.properties"))) {
            p.load(r);
        }
        return p.stringPropertyNames();
    }

    @Test
    void aTypoIsNamedAndKnownVariablesFamiliesAndOthersAreNot() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CHAT_RATE_LIMT_PER_MINUTE", "5");
        env.put("LLM_FALLBACK_PROVDER", "azure");
        env.put("CHAT_RATE_LIMIT_PER_MINUTE", "5");
        env.put("LLM_FALLBACK_PROVIDER", "azure");
        env.put("LLM_MODELS_AZURE", "gpt-4o");
        env.put("LLM_MODEL_GPT_4O_CONTEXT_WINDOW", "128000");
        env.put("LLM_PROVIDER_LOCAL_KIND", "openai");
        env.put("LLM_PRICE_AZURE_GPT_4O", "2.5,10");
        env.put("LLM_BREAKER_AZURE_WAIT_IN_OPEN_MS", "1000");
        env.put("AZURE_CLIENT_ID", "for azure-identity");
        env.put("PATH", "/usr/bin");

        assertThat(UnknownVariables.among(env, shippedProperties()))
                .containsExactly("CHAT_RATE_LIMT_PER_MINUTE", "LLM_FALLBACK_PROVDER");
    }

    /**
     * A variable of a provider whose settings are read (declared: its KIND, API_BASE, ... were read) that is none of
     * them is named: LLM_PROVIDER_VLLM_API_KYE left the provider without its key, silently (ops probe, 2026-12-05).
     * A provider's setting that was read, and the variables of providers none of whose settings were, are not.
     */
    @Test
    void aTypoInADeclaredProvidersVariableIsNamed() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("LLM_PROVIDER_VLLM_KIND", "openai");
        env.put("LLM_PROVIDER_VLLM_API_BASE", "http://127.0.0.1:8000/v1");
        env.put("LLM_PROVIDER_VLLM_API_KYE", "sk-local");
        env.put("LLM_PROVIDER_AZURE_WEST_KIND", "azure");
        env.put("LLM_PROVIDER_AZURE_WEST_DEPLOYMNET", "gpt-4o");
        env.put("LLM_PROVIDER_AZURE_WEIGHT", "2");
        env.put("LLM_PROVIDER_AZURE_WIEGHT", "2");
        env.put("LLM_PROVIDER_UNDECLARED_API_BASE", "http://elsewhere/v1");
        Set<String> known = new java.util.HashSet<>(shippedProperties());
        known.addAll(Set.of("llm.provider.vllm.kind", "llm.provider.vllm.api-base", "llm.provider.vllm.api-key",
                "llm.provider.azure-west.kind", "llm.provider.azure-west.deployment", "llm.provider.azure.weight"));

        assertThat(UnknownVariables.among(env, known)).containsExactly("LLM_PROVIDER_AZURE_WEST_DEPLOYMNET",
                "LLM_PROVIDER_AZURE_WIEGHT", "LLM_PROVIDER_VLLM_API_KYE");
    }

    /**
     * The same typos in application.properties were ignored without a word (ops probe, 2026-12-05): a key of the
     * gateway's own that no setting read, nor another entry's placeholder, is named; Camel's, OpenTelemetry's and
     * the id families' keys of providers not configured are not.
     */
    @Test
    void aTypoInTheConfigurationFileIsNamed() {
        Map<String, String> file = new LinkedHashMap<>();
        file.put("chat.rate-limt-per-minute", "5");
        file.put("chat.rate-limit-per-minute", "5");
        file.put("chat.routes.directory", "routes");
        file.put("camel.main.routes-include-pattern", "file:{{chat.routes.directory}}/*.camel.yaml");
        file.put("chat.routes.reload", "false");
        file.put("camel.main.routes-reload-enabled", "{{chat.routes.reload:false}}");
        file.put("camel.main.name", "cobalt-chat");
        file.put("otel.exporter.otlp.endpoint", "");
        file.put("llm.provider.vllm.kind", "openai");
        file.put("llm.provider.vllm.api-kye", "sk-local");
        file.put("llm.provider.other.model", "m");
        file.put("llm.models.vllm", "qwen2.5-7b");
        file.put("llm.price.vllm.qwen2.5-7b", "0,0");

        assertThat(UnknownVariables.unreadProperties(file,
                Set.of("chat.rate-limit-per-minute", "llm.provider.vllm.kind", "llm.models.vllm")))
                .containsExactly("chat.rate-limt-per-minute", "llm.provider.vllm.api-kye");
    }

    /** Every CHAT_/LLM_ variable the README names is one a setting reads (or of an id family). */
    @Test
    void noVariableTheReadmeDocumentsIsTakenForATypo() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\\b(?:CHAT|LLM)_[A-Z0-9_]+\\b").matcher(Files.readString(Path.of("README.md")));
        while (m.find()) {
            if (!m.group().endsWith("_")) {
                env.put(m.group(), "x");
            }
        }
        env.remove("CHAT_RATE_LIMT_PER_MINUTE"); // the README's example of a typo
        Set<String> known = new java.util.HashSet<>(shippedProperties());
        known.add("chat.db.connection-timeout-ms"); // read by SettingsLoader with its default, not shipped

        assertThat(env).hasSizeGreaterThan(60);
        assertThat(UnknownVariables.among(env, known)).isEmpty();
    }
}
