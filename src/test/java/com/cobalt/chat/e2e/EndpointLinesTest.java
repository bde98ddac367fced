package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * The start-up's "Chat API endpoint:" lines list what the gateway serves. Without a demo provider the demo
 * provider's route is not started and its path answers 404, but it was listed as an endpoint all the same (ops
 * probe, 2026-12-05).
 */
class EndpointLinesTest {

    @Test
    void withoutADemoProviderItsPathIsNotListed() {
        LogCapture log = LogCapture.start();
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of("llm.catalog-check.enabled", "false"))) {
            List<String> endpoints = log.lines().stream().map(LogCapture.Line::message)
                    .filter(l -> l.startsWith("Chat API endpoint: ")).toList();

            assertThat(endpoints).contains("Chat API endpoint: POST   /v1/chat/completions  (route openai-http)")
                    .noneMatch(l -> l.contains("/demo/"));
            var demo = new GatewayClient(gateway).send("POST", "/demo/v1/chat/completions", null, "application/json",
                    "{}");
            assertThat(demo.statusCode()).as(demo.body()).isEqualTo(404);
        } finally {
            log.close();
        }
    }
}
