package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A third provider from configuration alone: "openai-local" (kind openai, e.g. OpenAI itself or a local vLLM) at its
 * own base URL, declared with llm.provider.openai-local.* (LLM_PROVIDER_OPENAI_LOCAL_* in the environment), with no
 * route file and no Java. It serves a catalog model of its own, is the fallback of sambanova and has sambanova as its
 * own fallback once it is made primary; metrics, usage, the admin API and /api/v1/models name it.
 */
class ThirdProviderTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final String LOCAL_KEY = "local-test-key-0003";
    static FakeUpstream sambanova;
    static FakeUpstream local;
    static RunningGateway gateway;
    static GatewayClient client;
    static final String ADMIN = ResilienceTest.tokenWith("ops-admin", "roles", List.of("admin"));

    @BeforeAll
    static void start() {
        sambanova = FakeUpstream.start();
        local = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "sambanova");
        p.put("llm.fallback-provider", "openai-local");
        p.put("sambanova.api-base", sambanova.baseUrl() + "/v1");
        p.put("sambanova.api-key", "sn-test-key-0001");
        p.put("sambanova.model", LLAMA);
        p.put("llm.provider.openai-local.kind", "openai");
        p.put("llm.provider.openai-local.api-base", local.baseUrl() + "/v1");
        p.put("llm.provider.openai-local.api-key", LOCAL_KEY);
        p.put("llm.provider.openai-local.model", "qwen2.5-7b");
        p.put("llm.models.openai-local", "qwen2.5-7b, " + LLAMA + "=meta-llama/Llama-3.3-70B-Instruct");
        p.put("llm.price.openai-local.qwen2.5-7b", "1.00,2.00");
        gateway = RunningGateway.start(p);
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        sambanova.close();
        local.close();
    }

    @BeforeEach
    void clear() {
        sambanova.reset();
        local.reset();
        client.send("PUT", "/api/v1/admin/providers/selection", ADMIN, "application/json",
                "{\"primary\":\"sambanova\",\"fallback\":\"openai-local\"}");
    }

    static Script answer(String text, int prompt, int completion) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(prompt, completion), Chunks.done());
    }

    @Test
    void itServesItsOwnModelOnV1WithItsKeyAndItsUpstreamName() {
        local.enqueue(answer("from local", 10, 3));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.token("third-user"),
                "application/json", "{\"model\":\"qwen2.5-7b\",\"stream\":false,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).at("/choices/0/message/content").asText()).isEqualTo("from local");
        RecordedRequest sent = local.takeRequest(WAIT);
        assertThat(sent.path()).isEqualTo("/v1/chat/completions");
        assertThat(sent.header("Authorization")).isEqualTo("Bearer " + LOCAL_KEY);
        assertThat(GatewayClient.json(sent.body()).get("model").asText()).isEqualTo("qwen2.5-7b");
        assertThat(sambanova.requestCount()).isZero();
        JsonNode usage = GatewayClient.json(client.get("/api/v1/usage?group_by=provider", Jwt.token("third-user"))
                .body());
        assertThat(usage.get("groups").findValuesAsText("key")).contains("openai-local");
    }

    @Test
    void sambanovaFailsOverToItAndItFailsOverToSambanovaOnceItIsPrimary() {
        String token = Jwt.token("third-fallback");
        String session = client.createSession(token, "{\"model\":\"" + LLAMA + "\"}");
        sambanova.enqueue(Script.status(503));
        local.enqueue(answer("local took over", 5, 3));

        assertThat(client.chat(session, token, "one").text()).isEqualTo("local took over");
        assertThat(GatewayClient.json(local.takeRequest(WAIT).body()).get("model").asText())
                .isEqualTo("meta-llama/Llama-3.3-70B-Instruct");

        HttpResponse<String> switched = client.send("PUT", "/api/v1/admin/providers/selection", ADMIN,
                "application/json", "{\"primary\":\"openai-local\",\"fallback\":\"sambanova\"}");
        assertThat(switched.statusCode()).as(switched.body()).isEqualTo(200);
        local.enqueue(Script.status(500));
        sambanova.enqueue(answer("sambanova again", 5, 2));

        assertThat(client.chat(session, token, "two").text()).isEqualTo("sambanova again");
        assertThat(GatewayClient.json(sambanova.takeRequest(WAIT).body()).get("model").asText()).isEqualTo(LLAMA);

        PrometheusText m = PrometheusText.scrape(gateway);
        assertThat(m.value("llm_fallback_triggered_total", Map.of("from", "sambanova", "to", "openai-local")))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(m.value("llm_fallback_triggered_total", Map.of("from", "openai-local", "to", "sambanova")))
                .isGreaterThanOrEqualTo(1.0);
    }

    @Test
    void modelsAdminHealthAndMetricsListTheThirdProvider() {
        JsonNode models = GatewayClient.json(client.get("/api/v1/models", Jwt.token("third-user")).body());
        assertThat(models.toString()).contains("\"qwen2.5-7b\"").contains("openai-local");

        JsonNode admin = GatewayClient.json(client.get("/api/v1/admin/providers", ADMIN).body());
        List<String> names = admin.get("providers").findValuesAsText("name");
        assertThat(names).containsExactly("sambanova", "openai-local");

        PrometheusText m = PrometheusText.scrape(gateway);
        assertThat(m.value("llm_circuit_breaker_state", Map.of("provider", "openai-local"))).isEqualTo(0.0);
        assertThat(m.value("llm_provider_selected", Map.of("provider", "openai-local", "role", "fallback")))
                .isEqualTo(1.0);
        assertThat(gateway.camel().getRoute("provider-openai-local")).isNotNull();
        assertThat(gateway.camel().getRoute("provider-azure")).isNull();
    }
}
