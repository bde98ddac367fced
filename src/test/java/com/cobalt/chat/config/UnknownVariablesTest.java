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
