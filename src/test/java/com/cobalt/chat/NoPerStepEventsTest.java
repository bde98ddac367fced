package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * No event notifier listens to exchange events, so Camel skips its per-step event checks on every chat (they were
 * 1.4% of a /v1 chat's CPU with Micrometer's route event notifier on); the route metrics the dashboard reads stay.
 */
class NoPerStepEventsTest {

    @Test
    void noStepOfAChatAsksForEventListenersAndTheRouteMetricsRemain() {
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo"))) {
            assertThat(g.camel().getCamelContextExtension().isEventNotificationApplicable())
                    .as("Camel found a notifier that listens to exchange events").isFalse();
            String metrics = new GatewayClient(g.managementUrl()).get("/observe/metrics", null).body();
            assertThat(metrics).contains("camel_exchanges_total{").doesNotContain("camel_routes_running_routes");
        }
    }
}
