package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * A running gateway names a key of its configuration that no setting reads, at WARN and without its value (a typo in
 * application.properties was ignored without a word: ops probe, 2026-12-05), and none of the shipped file's: the
 * settings of providers not configured here (SambaNova's, Azure's, Entra ID's) are settings all the same.
 */
class UnreadSettingsAtStartTest {

    @Test
    void aMistypedKeyIsNamedOnceAndTheShippedOnesAreNot() {
        LogCapture log = LogCapture.start();
        try (RunningGateway gateway = RunningGateway.start(Map.of("llm.provider", "demo",
                "chat.rate-limt-per-minute", "5", "llm.provider.local.kind", "openai",
                "llm.provider.local.api-base", "http://127.0.0.1:9/v1", "llm.provider.local.model", "m",
                "llm.catalog-check.enabled", "false", "llm.provider.local.api-kye", "sk-secret-0042"))) {
            assertThat(gateway.port()).isPositive();
        } finally {
            log.close();
        }
        assertThat(log.lines()).filteredOn(l -> l.message().contains("application.properties, but no setting"))
                .extracting(l -> l.level() + " " + l.message())
                .containsExactly(
                        "WARN chat.rate-limt-per-minute is in application.properties, but no setting of the gateway"
                                + " reads it (a typo? README, Configuration, lists them)",
                        "WARN llm.provider.local.api-kye is in application.properties, but no setting of the gateway"
                                + " reads it (a typo? README, Configuration, lists them)");
        assertThat(log.lines()).noneMatch(l -> l.all().contains("sk-secret-0042"));
    }
}
