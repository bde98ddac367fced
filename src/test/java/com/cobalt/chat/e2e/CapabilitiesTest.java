package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TwoProviders;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Model capabilities in the catalog (issue 16, item 1): shown by both model lists, configuration winning over the
 * documented defaults; a request needing a capability its model lacks is a 400 naming it, and it never goes to a
 * fallback model that lacks it - when that was the only way left, the 503 names the capability.
 *
 * <p>sambanova (Meta-Llama-3.3-70B-Instruct: tools, json_schema by default) at {@link #samba} is the primary; azure
 * (deployment gpt-4o-mini, configured with json_schema only) at {@link #azure} is its fallback.
 */
@Timeout(60)
class CapabilitiesTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final String MINI = "gpt-4o-mini";
    static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
    static TwoProviders providers;
    static FakeUpstream samba;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        // LLM_MODEL_GPT_4O_MINI_CAPABILITIES: configuration wins over the default (tools, json_schema, vision)
        p.put("llm.model.gpt-4o-mini.capabilities", "json_schema");
        providers = TwoProviders.start(MINI, "az-test-key-0161", p);
        samba = providers.samba;
        azure = providers.azure;
        gateway = providers.gateway;
        client = providers.client;
    }

    @AfterAll
    static void stop() {
        providers.close();
    }

    @BeforeEach
    void reset() {
        providers.reset();
        token = Jwt.token("capabilities-" + System.nanoTime());
    }

    HttpResponse<String> post(String body) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", body);
    }

    @Test
    void bothModelListsShowEachModelsCapabilities() {
        JsonNode openai = GatewayClient.json(client.get("/v1/models", token).body());
        assertThat(openai.get("data").get(0).get("id").asText()).isEqualTo(LLAMA);
        assertThat(openai.get("data").get(0).get("capabilities").toString()).isEqualTo("[\"tools\",\"json_schema\"]");
        assertThat(openai.get("data").get(1).get("id").asText()).isEqualTo(MINI);
        assertThat(openai.get("data").get(1).get("capabilities").toString()).isEqualTo("[\"json_schema\"]");
        assertThat(GatewayClient.json(client.get("/v1/models/" + MINI, token).body()).get("capabilities").toString())
                .isEqualTo("[\"json_schema\"]");

        JsonNode api = GatewayClient.json(client.get("/api/v1/models", token).body());
        assertThat(api.get("models").get(0).get("capabilities").toString()).isEqualTo("[\"tools\",\"json_schema\"]");
        assertThat(api.get("models").get(1).get("capabilities").toString()).isEqualTo("[\"json_schema\"]");
    }

    @Test
    void aRequestedModelWithoutTheCapabilityIsA400NamingIt() {
        HttpResponse<String> r = post("{\"model\":\"" + MINI + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Weather?\"}]," + TOOLS + "}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"The model 'gpt-4o-mini' does not support tools"
                + " (tools, tool_choice or tool messages); GET /v1/models lists each model's capabilities.\","
                + "\"type\":\"invalid_request_error\",\"param\":\"tools\",\"code\":\"model_lacks_capability\"}}");
        assertThat(samba.requestCount() + azure.requestCount()).as("nothing went upstream").isZero();
    }

    @Test
    void aFallbackModelWithoutTheCapabilityIsNotTriedAndThe503NamesIt() {
        samba.enqueue(Script.status(500).header("Content-Type", "application/json")
                .body("{\"error\":{\"message\":\"boom\"}}"));

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Weather?\"}]," + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        JsonNode error = GatewayClient.json(r.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("provider_unavailable");
        assertThat(error.get("message").asText()).isEqualTo("No provider serving " + LLAMA + " could answer, and"
                + " the fallback model does not support tools, which this request needs; retry later");
        assertThat(samba.requestCount()).isEqualTo(1);
        assertThat(azure.requestCount()).as("the fallback lacks tools: never asked").isZero();
    }

    // ------------------------------------------------------------------ structured output (issue 16, item 3)

    @Test
    void aJsonSchemaResponseFormatReachesTheProviderVerbatim() {
        String format = "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"weather\",\"strict\":true,"
                + "\"schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                + "\"celsius\":{\"type\":\"number\"}},\"required\":[\"city\",\"celsius\"],"
                + "\"additionalProperties\":false}}}";
        samba.enqueue(Script.sse(Chunks.delta("{\"city\":\"Paris\","), Chunks.delta("\"celsius\":24}"),
                Chunks.finish("stop"), Chunks.usage(40, 9), Chunks.done()));

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Paris?\"}],\"response_format\":" + format + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).at("/choices/0/message/content").asText())
                .isEqualTo("{\"city\":\"Paris\",\"celsius\":24}");
        assertThat(samba.takeRequest(Duration.ofSeconds(5)).body()).contains("\"response_format\":" + format + ",");
    }

    @Test
    void aRequestTheFallbackCanServeStillFallsBack() {
        samba.enqueue(Script.status(500).header("Content-Type", "application/json")
                .body("{\"error\":{\"message\":\"boom\"}}"));
        azure.enqueue(Script.sse(Chunks.delta("{\"ok\":true}"), Chunks.finish("stop"), Chunks.done()));

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"JSON please\"}],\"response_format\":{\"type\":\"json_object\"}}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Cobalt-Provider")).hasValue("azure");
        assertThat(GatewayClient.json(r.body()).at("/choices/0/message/content").asText()).isEqualTo("{\"ok\":true}");
        assertThat(GatewayClient.json(azure.takeRequest(Duration.ofSeconds(5)).body()).get("response_format")
                .toString()).isEqualTo("{\"type\":\"json_object\"}");
    }
}
