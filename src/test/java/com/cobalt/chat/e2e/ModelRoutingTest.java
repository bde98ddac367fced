package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions choose a model of the catalog; chat-router sends each message to the provider serving the session's
 * model under its upstream name; the fallback goes to a provider serving the same model, else the configured
 * equivalent, else nowhere - and the error says so. SambaNova (fake S) serves Llama and DeepSeek; Azure OpenAI
 * (fake A) serves gpt-4o and gpt-4o-mini as deployments, and Llama too as the deployment llama-33-70b.
 */
class ModelRoutingTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final String VALID = "Unknown model 'claude-3'; valid models: Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324,"
            + " gpt-4o, gpt-4o-mini";
    static FakeUpstream sambanova;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;
    static final String TOKEN = Jwt.token("model-user");

    @BeforeAll
    static void start() {
        sambanova = FakeUpstream.start();
        azure = FakeUpstream.start();
        gateway = RunningGateway.start(Map.ofEntries(
                Map.entry("llm.provider", "sambanova"),
                Map.entry("llm.fallback-provider", "azure"),
                Map.entry("sambanova.api-base", sambanova.baseUrl() + "/v1"),
                Map.entry("sambanova.api-key", "sn-test-key-0001"),
                Map.entry("sambanova.model", ""),
                Map.entry("llm.models.sambanova", LLAMA + ", DeepSeek-V3-0324"),
                Map.entry("azure.ai.endpoint", azure.baseUrl()),
                Map.entry("azure.ai.api-key", "az-test-key-0002"),
                Map.entry("azure.ai.deployment", ""),
                Map.entry("llm.models.azure", "gpt-4o=gpt-4o-prod, gpt-4o-mini=gpt-4o-mini-prod, " + LLAMA
                        + "=llama-33-70b"),
                Map.entry("llm.model.gpt-4o.context-window", "128000"),
                Map.entry("llm.model.gpt-4o.max-output-tokens", "1000"),
                Map.entry("llm.model-equivalents", "gpt-4o=" + LLAMA)));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        sambanova.close();
        azure.close();
    }

    @BeforeEach
    void clean() {
        sambanova.reset();
        azure.reset();
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(5, 1), Chunks.done());
    }

    static String sessionWith(String model) {
        return client.createSession(TOKEN, "{\"title\":\"m\",\"model\":\"" + model + "\"}");
    }

    static JsonNode lastAnswer(String session) {
        JsonNode messages = client.session(session, TOKEN).get("messages");
        return messages.get(messages.size() - 1);
    }

    @Test
    void anUnknownModelIsA400ListingTheValidIds() {
        HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions", TOKEN, "application/json",
                "{\"model\":\"claude-3\"}");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"unknown_model\",\"message\":\"" + VALID + "\"}}");
        assertThat(GatewayClient.json(client.get("/api/v1/chat/sessions", TOKEN).body()).get("sessions").toString())
                .doesNotContain("claude-3");
    }

    @Test
    void theSessionKeepsItsModelAndAzureIsCalledWithTheDeploymentInThePath() {
        String session = sessionWith("gpt-4o");
        assertThat(client.session(session, TOKEN).get("model").asText()).isEqualTo("gpt-4o");
        azure.enqueue(answer("From GPT."));
        azure.enqueue(answer("Again GPT."));

        assertThat(client.chat(session, TOKEN, "Hi").text()).isEqualTo("From GPT.");
        assertThat(client.chat(session, TOKEN, "Again").text()).isEqualTo("Again GPT.");

        List<RecordedRequest> sent = azure.requests();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0).path()).isEqualTo("/openai/deployments/gpt-4o-prod/chat/completions");
        assertThat(sent.get(0).query()).isEqualTo("api-version=2024-10-21");
        JsonNode body = GatewayClient.json(sent.get(0).body());
        assertThat(body.has("model")).isFalse();
        assertThat(body.get("max_tokens").asInt()).as("the model's output limit is below CHAT_MAX_TOKENS").isEqualTo(1000);
        assertThat(sambanova.requestCount()).isZero();
        JsonNode stored = lastAnswer(session);
        assertThat(stored.get("model").asText()).isEqualTo("gpt-4o");
    }

    @Test
    void aSambanovaModelIsSentByItsIdInTheBody() {
        String session = sessionWith("DeepSeek-V3-0324");
        sambanova.enqueue(answer("Deep."));

        assertThat(client.chat(session, TOKEN, "Hi").text()).isEqualTo("Deep.");

        RecordedRequest sent = sambanova.takeRequest(Duration.ofSeconds(5));
        assertThat(sent.path()).isEqualTo("/v1/chat/completions");
        JsonNode body = GatewayClient.json(sent.body());
        assertThat(body.get("model").asText()).isEqualTo("DeepSeek-V3-0324");
        assertThat(body.get("max_tokens").asInt()).isEqualTo(2048);
        assertThat(lastAnswer(session).get("model").asText()).isEqualTo("DeepSeek-V3-0324");
    }

    @Test
    void aSessionWithoutAModelTalksToTheDefaultModelOfThePrimary() {
        String session = client.createSession(TOKEN);
        assertThat(client.session(session, TOKEN).has("model")).isFalse();
        sambanova.enqueue(answer("Default."));

        assertThat(client.chat(session, TOKEN, "Hi").text()).isEqualTo("Default.");

        assertThat(GatewayClient.json(sambanova.takeRequest(Duration.ofSeconds(5)).body()).get("model").asText())
                .isEqualTo(LLAMA);
        assertThat(lastAnswer(session).get("model").asText()).isEqualTo(LLAMA);
    }

    @Test
    void aFailedProviderFallsBackToAnotherProviderServingTheSameModel() {
        String session = sessionWith(LLAMA);
        sambanova.enqueue(Script.json(500, "{\"error\":{\"message\":\"down\"}}"));
        azure.enqueue(answer("Llama on Azure."));

        assertThat(client.chat(session, TOKEN, "Hi").text()).isEqualTo("Llama on Azure.");

        assertThat(azure.takeRequest(Duration.ofSeconds(5)).path())
                .isEqualTo("/openai/deployments/llama-33-70b/chat/completions");
        JsonNode stored = lastAnswer(session);
        assertThat(stored.get("model").asText()).isEqualTo(LLAMA);
    }

    @Test
    void withoutAnotherProviderForTheModelTheFallbackUsesTheConfiguredEquivalent() {
        String session = sessionWith("gpt-4o");
        azure.enqueue(Script.json(503, "{\"error\":{\"message\":\"overloaded\"}}"));
        sambanova.enqueue(answer("Llama instead."));

        assertThat(client.chat(session, TOKEN, "Hi").text()).isEqualTo("Llama instead.");

        JsonNode body = GatewayClient.json(sambanova.takeRequest(Duration.ofSeconds(5)).body());
        assertThat(body.get("model").asText()).isEqualTo(LLAMA);
        assertThat(body.get("max_tokens").asInt()).as("Llama has no output limit of its own").isEqualTo(2048);
        JsonNode stored = lastAnswer(session);
        assertThat(stored.get("model").asText()).as("the model that actually answered").isEqualTo(LLAMA);
        assertThat(client.session(session, TOKEN).get("model").asText()).as("the session keeps its model")
                .isEqualTo("gpt-4o");
    }

    @Test
    void withoutAnEquivalentThereIsNoFallbackAndTheErrorSaysSo() {
        String session = sessionWith("gpt-4o-mini");
        azure.enqueue(Script.json(500, "{\"error\":{\"message\":\"down\"}}"));

        GatewayClient.Answer a = client.chat(session, TOKEN, "Hi");

        assertThat(a.status()).isEqualTo(503);
        assertThat(a.body()).isEqualTo("{\"error\":{\"code\":\"provider_unavailable\",\"message\":\"No provider serving"
                + " gpt-4o-mini could answer, and no equivalent model is configured\"}}");
        assertThat(sambanova.requestCount()).isZero();
        assertThat(lastAnswer(session).get("status").asText()).isEqualTo("failed");
    }

    @Test
    void theRuntimeSwitchMovesSessionsWithoutAModelToTheNewPrimarysDefaultModelButNotChosenOnes() {
        String admin = ResilienceTest.adminToken();
        String follower = client.createSession(TOKEN);
        String llama = sessionWith(LLAMA);
        HttpResponse<String> switched = client.send("PUT", "/api/v1/admin/providers/selection", admin,
                "application/json", "{\"primary\":\"azure\",\"fallback\":\"sambanova\"}");
        assertThat(switched.statusCode()).isEqualTo(200);
        try {
            assertThat(GatewayClient.json(client.get("/api/v1/models", TOKEN).body()).get("default_model").asText())
                    .isEqualTo("gpt-4o");
            azure.enqueue(answer("Default on Azure."));
            azure.enqueue(answer("Llama on Azure."));

            assertThat(client.chat(follower, TOKEN, "Hi").text()).isEqualTo("Default on Azure.");
            assertThat(client.chat(llama, TOKEN, "Hi").text()).as("Azure, the primary now, serves Llama too")
                    .isEqualTo("Llama on Azure.");

            assertThat(azure.takeRequest(Duration.ofSeconds(5)).path())
                    .isEqualTo("/openai/deployments/gpt-4o-prod/chat/completions");
            assertThat(azure.takeRequest(Duration.ofSeconds(5)).path())
                    .isEqualTo("/openai/deployments/llama-33-70b/chat/completions");
            assertThat(sambanova.requestCount()).isZero();
            assertThat(lastAnswer(follower).get("model").asText()).isEqualTo("gpt-4o");
        } finally {
            assertThat(client.send("PUT", "/api/v1/admin/providers/selection", admin, "application/json",
                    "{\"primary\":\"sambanova\",\"fallback\":\"azure\"}").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theOpenAiEndpointRoutesByTheSameCatalog() {
        azure.enqueue(answer("OpenAI shape."));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", TOKEN, "application/json",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode completion = GatewayClient.json(r.body());
        assertThat(completion.get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(completion.at("/choices/0/message/content").asText()).isEqualTo("OpenAI shape.");
        assertThat(azure.takeRequest(Duration.ofSeconds(5)).path())
                .isEqualTo("/openai/deployments/gpt-4o-mini-prod/chat/completions");
        List<String> ids = GatewayClient.json(client.get("/v1/models", TOKEN).body()).findValuesAsText("id");
        assertThat(ids).containsExactly(LLAMA, "DeepSeek-V3-0324", "gpt-4o", "gpt-4o-mini");
    }

    @Test
    void theModelsApiListsTheCatalogWithCapabilitiesAndAvailability() {
        HttpResponse<String> r = client.get("/api/v1/models", TOKEN);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(GatewayClient.json(r.body())).isEqualTo(GatewayClient.json("{\"default_model\":\"" + LLAMA + "\","
                + "\"models\":["
                + "{\"id\":\"" + LLAMA + "\",\"context_window\":null,\"max_output_tokens\":null,\"available\":true,"
                + "\"default\":true,\"providers\":[\"sambanova\",\"azure\"],\"capabilities\":[\"tools\",\"json_schema\"]},"
                + "{\"id\":\"DeepSeek-V3-0324\",\"context_window\":null,\"max_output_tokens\":null,\"available\":true,"
                + "\"default\":false,\"providers\":[\"sambanova\"],\"capabilities\":[\"tools\",\"json_schema\"]},"
                + "{\"id\":\"gpt-4o\",\"context_window\":128000,\"max_output_tokens\":1000,\"available\":true,"
                + "\"default\":false,\"providers\":[\"azure\"],"
                + "\"capabilities\":[\"tools\",\"json_schema\",\"vision\"]},"
                + "{\"id\":\"gpt-4o-mini\",\"context_window\":null,\"max_output_tokens\":null,\"available\":true,"
                + "\"default\":false,\"providers\":[\"azure\"],"
                + "\"capabilities\":[\"tools\",\"json_schema\",\"vision\"]}]}"));
        assertThat(client.get("/api/v1/models", null).statusCode()).isEqualTo(401);
    }
}
