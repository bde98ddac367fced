package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The A/B split of new sessions that pick no model: 90% Llama on SambaNova, 10% GPT-4o on Azure, drawn from a
 * seeded random source bound as the bean {@code random}. The proportions hold within four standard deviations of
 * the binomial; a session keeps its arm for every message; the variant is stored on the session and its answers,
 * grouped in the usage report and a label on the llm metrics.
 */
class ModelSplitTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final int SESSIONS = 2000;
    static final double P_GPT = 0.10;
    static FakeUpstream sambanova;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        sambanova = FakeUpstream.start();
        azure = FakeUpstream.start();
        gateway = RunningGateway.start(Map.ofEntries(
                Map.entry("llm.provider", "sambanova"),
                Map.entry("llm.fallback-provider", "azure"),
                Map.entry("sambanova.api-base", sambanova.baseUrl() + "/v1"),
                Map.entry("sambanova.api-key", "sn-test-key-0001"),
                Map.entry("sambanova.model", LLAMA),
                Map.entry("azure.ai.endpoint", azure.baseUrl()),
                Map.entry("azure.ai.api-key", "az-test-key-0002"),
                Map.entry("llm.models.azure", "gpt-4o=gpt-4o-prod"),
                Map.entry("llm.price.azure.gpt-4o", "2.50,10.00"),
                Map.entry("llm.split", LLAMA + ":90, gpt-4o:10")), Map.of("random", new Random(20261126L)));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        sambanova.close();
        azure.close();
    }

    static Script answer(String text, int prompt, int completion) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(prompt, completion), Chunks.done());
    }

    @Test
    void theSplitsProportionsHoldWithinFourStandardDeviationsOfTheBinomial() {
        String token = Jwt.token("split-many");
        int gpt = 0;
        for (int i = 0; i < SESSIONS; i++) {
            HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}");
            assertThat(r.statusCode()).isEqualTo(201);
            JsonNode s = GatewayClient.json(r.body());
            String model = s.get("model").asText();
            assertThat(s.get("variant").asText()).isEqualTo(model);
            assertThat(model).isIn(LLAMA, "gpt-4o");
            if (model.equals("gpt-4o")) {
                gpt++;
            }
        }
        double mean = SESSIONS * P_GPT;
        double tolerance = 4 * Math.sqrt(SESSIONS * P_GPT * (1 - P_GPT));
        assertThat((double) gpt).as("gpt-4o sessions of %d (expected %.0f +- %.1f)", SESSIONS, mean, tolerance)
                .isBetween(mean - tolerance, mean + tolerance);
    }

    @Test
    void aSessionKeepsItsArmForEveryMessageAndTheVariantIsRecordedCountedAndLabelled() {
        String token = Jwt.token("split-sticky");
        String gptSession = null;
        String llamaSession = null;
        for (int i = 0; i < 500 && (gptSession == null || llamaSession == null); i++) {
            JsonNode s = GatewayClient.json(client.send("POST", "/api/v1/chat/sessions", token, "application/json",
                    "{}").body());
            if (s.get("variant").asText().equals("gpt-4o")) {
                gptSession = gptSession == null ? s.get("id").asText() : gptSession;
            } else {
                llamaSession = llamaSession == null ? s.get("id").asText() : llamaSession;
            }
        }
        assertThat(gptSession).isNotNull();
        assertThat(llamaSession).isNotNull();
        String chosen = client.createSession(token, "{\"model\":\"gpt-4o\"}");
        assertThat(client.session(chosen, token).has("variant")).as("a chosen model is no arm of the split").isFalse();

        for (int i = 0; i < 3; i++) {
            azure.enqueue(answer("G" + i, 100, 10));
            assertThat(client.chat(gptSession, token, "q" + i).text()).isEqualTo("G" + i);
            sambanova.enqueue(answer("L" + i, 50, 5));
            assertThat(client.chat(llamaSession, token, "q" + i).text()).isEqualTo("L" + i);
        }
        azure.enqueue(answer("Chosen", 7, 3));
        assertThat(client.chat(chosen, token, "q").text()).isEqualTo("Chosen");

        assertThat(azure.requestCount()).isEqualTo(4);
        assertThat(sambanova.requestCount()).isEqualTo(3);
        for (JsonNode m : client.session(gptSession, token).get("messages")) {
            if (m.get("role").asText().equals("assistant")) {
                assertThat(m.get("model").asText()).isEqualTo("gpt-4o");
                assertThat(m.get("variant").asText()).isEqualTo("gpt-4o");
            }
        }

        JsonNode report = GatewayClient.json(client.get("/api/v1/usage?group_by=variant", token).body());
        assertThat(report.get("group_by").asText()).isEqualTo("variant");
        assertThat(report.get("groups").size()).isEqualTo(3);
        JsonNode g0 = report.get("groups").get(0);
        JsonNode g1 = report.get("groups").get(1);
        JsonNode g2 = report.get("groups").get(2);
        assertThat(g0.get("key").asText()).isEqualTo(LLAMA);
        assertThat(g0.get("answers").asLong()).isEqualTo(3);
        assertThat(g0.get("prompt_tokens").asLong()).isEqualTo(150);
        // SambaNova's published price for Llama 3.3 70B (application.properties): 0.60 in, 1.20 out per million
        assertThat(g0.get("cost_usd").decimalValue()).isEqualByComparingTo(new java.math.BigDecimal("0.60")
                .multiply(java.math.BigDecimal.valueOf(150)).add(new java.math.BigDecimal("1.20")
                        .multiply(java.math.BigDecimal.valueOf(g0.get("completion_tokens").asLong())))
                .divide(java.math.BigDecimal.valueOf(1_000_000)));
        assertThat(g1.get("key").asText()).isEqualTo("gpt-4o");
        assertThat(g1.get("answers").asLong()).isEqualTo(3);
        assertThat(g1.get("completion_tokens").asLong()).isEqualTo(30);
        assertThat(g1.get("cost_usd").decimalValue()).isEqualByComparingTo("0.00105");
        assertThat(g2.get("key").asText()).isEqualTo("none");
        assertThat(g2.get("answers").asLong()).isEqualTo(1);

        PrometheusText metrics = PrometheusText.await(gateway, m -> Double.valueOf(3.0).equals(m.value(
                "llm_request_duration_seconds_count", Map.of("provider", "azure", "variant", "gpt-4o"))));
        assertThat(metrics.value("llm_request_duration_seconds_count", Map.of("provider", "sambanova",
                "variant", LLAMA))).isEqualTo(3.0);
        assertThat(metrics.value("llm_request_duration_seconds_count", Map.of("provider", "azure",
                "variant", "none"))).isEqualTo(1.0);
        assertThat(metrics.value("llm_tokens_used_total", Map.of("provider", "azure", "variant", "gpt-4o",
                "type", "prompt"))).isEqualTo(300.0);
        assertThat(metrics.value("llm_requests_total", Map.of("provider", "azure", "variant", "gpt-4o",
                "status", "success"))).isEqualTo(3.0);
        assertThat(metrics.labelNames("llm_time_to_first_token_seconds_count")).contains("variant");
        assertThat(azure.takeRequest(Duration.ofSeconds(1)).path())
                .isEqualTo("/openai/deployments/gpt-4o-prod/chat/completions");
    }
}
