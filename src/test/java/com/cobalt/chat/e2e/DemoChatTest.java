package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The README's first command: the demo provider, served by the gateway itself, through the real routes. */
class DemoChatTest {

    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void demoStreamsItsCannedAnswerWordByWordAndStoresIt() {
        String token = Jwt.token("alice");
        String session = client.createSession(token, "{\"title\":\"Demo\"}");

        GatewayClient.Answer answer = client.chat(session, token, "Hello there");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo("text/event-stream; charset=utf-8");
        assertThat(answer.events().get(0)).isEqualTo("data: {\"content\":\"Hello!\",\"done\":false}");
        assertThat(answer.events().get(1)).isEqualTo("data: {\"content\":\" This\",\"done\":false}");
        assertThat(answer.events()).endsWith("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
                "data: [DONE]");
        assertThat(answer.text()).startsWith("Hello! This is the Cobalt demo provider,")
                .endsWith("to talk to a real model.");

        JsonNode stored = client.session(session, token).get("messages");
        assertThat(stored).hasSize(2);
        assertThat(stored.get(0).get("role").asText()).isEqualTo("user");
        assertThat(stored.get(0).get("content").asText()).isEqualTo("Hello there");
        assertThat(stored.get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(stored.get(1).get("content").asText()).isEqualTo(answer.text());
        assertThat(stored.get(1).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void withoutADelayBetweenTokensTheDemoStillAnswers() {
        try (RunningGateway fast = RunningGateway.start(Map.of("llm.provider", "demo", "demo.token-delay-ms", "0"))) {
            GatewayClient.Answer answer = new GatewayClient(fast).chat(
                    new GatewayClient(fast).createSession(Jwt.token("quick-quinn")), Jwt.token("quick-quinn"), "Hi");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.events().get(0)).isEqualTo("data: {\"content\":\"Hello!\",\"done\":false}");
            assertThat(answer.events()).endsWith("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
                    "data: [DONE]");
        }
    }

    @Test
    void camelRoutesAreManagedOverJmx() throws Exception {
        var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        var routes = server.queryNames(new javax.management.ObjectName("org.apache.camel:type=routes,*"), null);
        assertThat(routes).extracting(n -> n.getKeyProperty("name"))
                .contains("\"chat-http\"", "\"provider-demo\"", "\"chat-record\"")
                .as("only configured providers have a route").doesNotContain("\"provider-sambanova\"", "\"provider-azure\"");
        var chatHttp = routes.stream().filter(n -> n.getKeyProperty("name").equals("\"chat-http\"")).findFirst()
                .orElseThrow();
        assertThat(server.getAttribute(chatHttp, "State")).isEqualTo("Started");
        // routes, not each of their steps: a step's MBean had no statistics (they are kept per route) and building
        // the 144 of them was a fifth of the start-up's main thread
        assertThat(server.queryNames(new javax.management.ObjectName("org.apache.camel:type=processors,*"), null))
                .isEmpty();
        assertThat(server.queryNames(new javax.management.ObjectName("org.apache.camel:type=steps,*"), null))
                .isEmpty();
    }
}
