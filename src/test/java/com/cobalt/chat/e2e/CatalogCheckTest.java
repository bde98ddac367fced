package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Capability detection at start: SambaNova's {@code GET /v1/models} is asked which catalog models it serves; a model
 * it does not list is named in a WARN and shown as unavailable, and a check that gets no model list proves nothing.
 * Azure deployments are asked one token each only when llm.catalog-check.azure is on; 404 means missing.
 */
class CatalogCheckTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final String TOKEN = Jwt.token("check-user");
    static final String SAMBANOVA_LIST = "{\"object\":\"list\",\"data\":["
            + "{\"id\":\"" + LLAMA + "\",\"object\":\"model\",\"owned_by\":\"meta\"},"
            + "{\"id\":\"Llama-4-Maverick-17B-128E-Instruct\",\"object\":\"model\",\"owned_by\":\"meta\"}]}";

    static Map<String, String> catalog(FakeUpstream sambanova) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.catalog-check.enabled", "true");
        p.put("sambanova.model", "");
        p.put("llm.models.sambanova", LLAMA + ", DeepSeek-V3-0324");
        return p;
    }

    static JsonNode models(GatewayClient client, Predicate<JsonNode> until) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode body;
        do {
            body = GatewayClient.json(client.get("/api/v1/models", TOKEN).body());
            if (until.test(body)) {
                return body;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        } while (System.nanoTime() < deadline);
        throw new AssertionError("models never became as expected: " + body);
    }

    static boolean available(JsonNode models, String id) {
        for (JsonNode m : models.get("models")) {
            if (m.get("id").asText().equals(id)) {
                return m.get("available").asBoolean();
            }
        }
        throw new AssertionError("no model " + id + " in " + models);
    }

    static List<LogCapture.Line> await(LogCapture logs, String containing) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            List<LogCapture.Line> found = logs.lines().stream()
                    .filter(l -> l.message() != null && l.message().contains(containing)).toList();
            if (!found.isEmpty()) {
                return found;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
        throw new AssertionError("no log line containing '" + containing + "'");
    }

    @Test
    void aModelTheProviderDoesNotListIsWarnedAboutByNameAndShownUnavailable() {
        try (FakeUpstream sambanova = FakeUpstream.start(); LogCapture logs = LogCapture.start()) {
            sambanova.enqueue(Script.json(200, SAMBANOVA_LIST));
            try (RunningGateway gateway = RunningGateway.sambanovaAt(sambanova, catalog(sambanova))) {
                GatewayClient client = new GatewayClient(gateway);

                JsonNode models = models(client, m -> !available(m, "DeepSeek-V3-0324"));

                assertThat(available(models, LLAMA)).isTrue();
                RecordedRequest check = sambanova.takeRequest(Duration.ofSeconds(5));
                assertThat(check.method()).isEqualTo("GET");
                assertThat(check.path()).isEqualTo("/v1/models");
                assertThat(check.header("Authorization")).isEqualTo("Bearer sn-test-key-0001");
                // plain HTTP/1.1 as the chats speak it: no h2c upgrade offered to an http:// provider
                assertThat(check.header("Upgrade")).isNull();
                assertThat(check.header("HTTP2-Settings")).isNull();
                List<LogCapture.Line> warned = await(logs, "Catalog check: sambanova does not serve");
                assertThat(warned).hasSize(1);
                assertThat(warned.get(0).level()).isEqualTo("WARN");
                assertThat(warned.get(0).message()).isEqualTo("Catalog check: sambanova does not serve"
                        + " DeepSeek-V3-0324 (catalog model DeepSeek-V3-0324); shown as unavailable");
                assertThat(logs.lines().stream().map(LogCapture.Line::all).toList().toString())
                        .doesNotContain("sn-test-key-0001");
            }
        }
    }

    @Test
    void thePeriodicCheckShowsAModelAvailableAgainOnceTheProviderListsIt() {
        try (FakeUpstream sambanova = FakeUpstream.start()) {
            sambanova.enqueue(Script.json(200, SAMBANOVA_LIST));
            sambanova.enqueue(Script.json(200, SAMBANOVA_LIST.replace("Llama-4-Maverick-17B-128E-Instruct",
                    "DeepSeek-V3-0324")));
            Map<String, String> p = catalog(sambanova);
            p.put("llm.catalog-check-seconds", "3");
            try (RunningGateway gateway = RunningGateway.sambanovaAt(sambanova, p)) {
                GatewayClient client = new GatewayClient(gateway);

                models(client, m -> !available(m, "DeepSeek-V3-0324"));
                JsonNode later = models(client, m -> available(m, "DeepSeek-V3-0324"));

                assertThat(available(later, LLAMA)).isTrue();
                assertThat(sambanova.requests()).extracting(RecordedRequest::path).startsWith("/v1/models",
                        "/v1/models");
            }
        }
    }

    @Test
    void aCheckThatGetsNoModelListProvesNothingAndTheModelsStayAvailable() {
        try (FakeUpstream sambanova = FakeUpstream.start(); LogCapture logs = LogCapture.start()) {
            sambanova.enqueue(Script.json(503, "{\"error\":{\"message\":\"maintenance\"}}"));
            try (RunningGateway gateway = RunningGateway.sambanovaAt(sambanova, catalog(sambanova))) {
                GatewayClient client = new GatewayClient(gateway);

                List<LogCapture.Line> warned = await(logs, "Catalog check: could not ask sambanova");

                assertThat(warned.get(0).message()).isEqualTo("Catalog check: could not ask sambanova which models"
                        + " it serves (HTTP 503); this is not taken as missing");
                JsonNode models = GatewayClient.json(client.get("/api/v1/models", TOKEN).body());
                assertThat(available(models, LLAMA)).isTrue();
                assertThat(available(models, "DeepSeek-V3-0324")).isTrue();
            }
        }
    }

    @Test
    void azureDeploymentsAreAskedOneTokenWhenTheCheckIsOnAndA404IsMissing() {
        try (FakeUpstream sambanova = FakeUpstream.start(); FakeUpstream azure = FakeUpstream.start();
             LogCapture logs = LogCapture.start()) {
            sambanova.enqueue(Script.json(200, SAMBANOVA_LIST));
            azure.enqueue(Script.json(200, "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                    + "\"content\":\"p\"},\"finish_reason\":\"length\"}]}"));
            azure.enqueue(Script.json(404, "{\"error\":{\"code\":\"DeploymentNotFound\",\"message\":\"The API"
                    + " deployment for this resource does not exist.\"}}"));
            Map<String, String> p = catalog(sambanova);
            p.put("llm.models.sambanova", LLAMA);
            p.put("llm.catalog-check.azure", "true");
            p.put("llm.fallback-provider", "azure");
            p.put("azure.ai.endpoint", azure.baseUrl());
            p.put("azure.ai.api-key", "az-test-key-0002");
            p.put("llm.models.azure", "gpt-4o=gpt-4o-prod, gpt-4o-mini=gpt-4o-mini-prod");
            try (RunningGateway gateway = RunningGateway.sambanovaAt(sambanova, p)) {
                GatewayClient client = new GatewayClient(gateway);

                JsonNode models = models(client, m -> !available(m, "gpt-4o-mini"));

                assertThat(available(models, "gpt-4o")).isTrue();
                assertThat(available(models, LLAMA)).isTrue();
                RecordedRequest first = azure.takeRequest(Duration.ofSeconds(5));
                assertThat(first.path()).isEqualTo("/openai/deployments/gpt-4o-prod/chat/completions");
                JsonNode body = GatewayClient.json(first.body());
                assertThat(body.get("max_tokens").asInt()).isEqualTo(1);
                assertThat(first.header("api-key")).isEqualTo("az-test-key-0002");
                assertThat(await(logs, "Catalog check: azure does not serve").get(0).message()).isEqualTo(
                        "Catalog check: azure does not serve gpt-4o-mini-prod (catalog model gpt-4o-mini);"
                                + " shown as unavailable");
            }
        }
    }
}
