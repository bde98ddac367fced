package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/** The demo simulator's endpoint is served only when a provider of kind demo is configured. */
class DemoMountTest {

    static final String DEMO = "/demo/v1/chat/completions";
    static final String BODY = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void notMountedWithoutADemoProvider() {
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway g = RunningGateway.sambanovaAt(upstream, Map.of())) {
            HttpResponse<String> r = new GatewayClient(g).send("POST", DEMO, null, "application/json", BODY);
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(g.camel().getRouteController().getRouteStatus("demo-upstream").isStarted()).isFalse();
        }
    }

    @Test
    void mountedWithTheDemoProvider() {
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo"))) {
            HttpResponse<String> r = new GatewayClient(g).send("POST", DEMO, null, "application/json", BODY);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"chat.completion.chunk\"").endsWith("data: [DONE]\n\n");
        }
    }
}
