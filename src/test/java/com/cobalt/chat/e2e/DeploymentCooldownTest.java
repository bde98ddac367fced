package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Azure OpenAI counts its quotas per deployment: a 429 with a retry hint from one deployment cools that deployment
 * down, not the provider's others. Before, the cooldown was the provider's: one busy deployment's 429 had every
 * other model of Azure skipped without a call for the whole hint.
 */
class DeploymentCooldownTest {

    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        azure = FakeUpstream.start();
        gateway = RunningGateway.start(Map.of(
                "llm.provider", "azure",
                "azure.ai.endpoint", azure.baseUrl(),
                "azure.ai.api-key", "az-test-key-0002",
                "azure.ai.deployment", "",
                "llm.models.azure", "gpt-4o=gpt-4o-prod, gpt-4o-mini=gpt-4o-mini-prod"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        azure.close();
    }

    static HttpResponse<String> ask(String model) {
        return client.send("POST", "/v1/chat/completions", Jwt.token("cooldown-carol"), "application/json",
                "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
    }

    @Test
    void aDeploymentThatAskedForAPauseIsSkippedAndTheOtherDeploymentsAreStillCalled() {
        azure.enqueue(Script.json(429, "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions_Create"
                + " Operation have exceeded call rate limit.\"}}").header("Retry-After", "30"));

        HttpResponse<String> limited = ask("gpt-4o");
        assertThat(limited.statusCode()).as(limited.body()).isEqualTo(429);
        assertThat(azure.takeRequest(Duration.ofSeconds(1)).path())
                .isEqualTo("/openai/deployments/gpt-4o-prod/chat/completions");

        HttpResponse<String> skipped = ask("gpt-4o");
        assertThat(skipped.statusCode()).as(skipped.body()).isEqualTo(429);
        assertThat(skipped.headers().firstValue("Retry-After")).isPresent();
        assertThat(azure.requestCount()).as("the cooling deployment is not called").isEqualTo(1);

        azure.enqueue(Script.sse(Chunks.delta("Mini "), Chunks.delta("answers."), Chunks.finish("stop"),
                Chunks.usage(9, 2), Chunks.done()));
        HttpResponse<String> other = ask("gpt-4o-mini");
        assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
        assertThat(GatewayClient.json(other.body()).at("/choices/0/message/content").asText())
                .isEqualTo("Mini answers.");
        assertThat(azure.takeRequest(Duration.ofSeconds(1)).path())
                .isEqualTo("/openai/deployments/gpt-4o-mini-prod/chat/completions");
    }
}
