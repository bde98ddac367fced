package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

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
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exact request each provider shape gets upstream, over real HTTP: method, path, query, headers and body bytes.
 * Every chat is sent with extra inbound headers (cookie, forwarding, custom) that must never travel upstream.
 */
@Timeout(60)
class ProviderRequestTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String MAX_TOKENS = "321";
    static final String SAMBANOVA_KEY = "sn-test-key-0001";
    static final String SAMBANOVA_MODEL = "Meta-Llama-3.3-70B-Instruct";
    static final String AZURE_KEY = "az-test-key-0002";
    static final String DEPLOYMENT = "gpt-4o-deploy";

    static final List<String> ANSWER_EVENTS = List.of(
            "data: {\"content\":\"Hello\",\"done\":false}",
            "data: {\"content\":\" there\",\"done\":false}",
            "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
            "data: [DONE]");

    static FakeUpstream upstream;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();

    @BeforeAll
    static void startUpstream() {
        upstream = FakeUpstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    @BeforeEach
    void clearUpstream() {
        upstream.reset();
    }

    static Script shortAnswer() {
        return Script.sse(Chunks.delta("Hello"), Chunks.delta(" there"), Chunks.finish("stop"),
                Chunks.usage(5, 2), Chunks.done());
    }

    /** Sends a chat message the way a browser behind a proxy would, with headers that must stay at the gateway. */
    static HttpResponse<String> chatWithInboundHeaders(RunningGateway gateway, String session, String token,
                                                       String content) {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(gateway.baseUrl() + "/api/v1/chat/sessions/" + session + "/messages"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .header("Cookie", "a=b")
                .header("X-Forwarded-For", "1.2.3.4")
                .header("X-Custom", "secret")
                .POST(HttpRequest.BodyPublishers.ofString("{\"content\":" + Chunks.json(content) + "}"))
                .build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> events(HttpResponse<String> response) {
        return new GatewayClient.Answer(response.statusCode(),
                response.headers().firstValue("Content-Type").orElse(null), response.body()).events();
    }

    static void assertRelayed(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        assertThat(events(response)).isEqualTo(ANSWER_EVENTS);
    }

    /** Nothing the client sent beyond its message reaches the provider. */
    static void assertNoInboundHeaderTravelled(RecordedRequest request, String jwt) {
        assertThat(request.headers().keySet())
                .doesNotContain("cookie", "x-forwarded-for", "x-custom", "x-forwarded-host", "x-forwarded-proto",
                        "forwarded", "via", "origin", "referer")
                .noneMatch(name -> name.startsWith("camel"))
                .noneMatch(name -> name.startsWith("x-"));
        request.headers().forEach((name, values) -> assertThat(values)
                .as("header %s", name)
                .noneMatch(v -> v.contains(jwt))
                .noneMatch(v -> v.contains("a=b"))
                .noneMatch(v -> v.contains("1.2.3.4"))
                .noneMatch(v -> v.contains("secret")));
    }

    /** The stored messages of a session once its assistant answer is recorded (it is stored after the stream). */
    static JsonNode storedMessages(GatewayClient client, String session, String token, int expected) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode messages = client.session(session, token).get("messages");
            if (messages.size() >= expected || System.nanoTime() > deadline) {
                assertThat(messages).as("stored messages of %s", session).hasSize(expected);
                return messages;
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Sambanova {

        RunningGateway gateway;
        GatewayClient client;

        @BeforeAll
        void start() {
            gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-tokens", MAX_TOKENS));
            client = new GatewayClient(gateway);
        }

        @AfterAll
        void stop() {
            gateway.close();
        }

        @Test
        void exactRequestWithBearerKeyModelMaxTokensAndStreamOptions() {
            String token = Jwt.token("alice");
            String session = client.createSession(token);
            upstream.enqueue(shortAnswer());

            HttpResponse<String> response = chatWithInboundHeaders(gateway, session, token, "Hi");

            assertRelayed(response);
            RecordedRequest request = upstream.takeRequest(WAIT);
            assertThat(request.method()).isEqualTo("POST");
            assertThat(request.path()).isEqualTo("/v1/chat/completions");
            assertThat(request.query()).isNull();
            assertThat(request.headerValues("authorization")).containsExactly("Bearer " + SAMBANOVA_KEY);
            assertThat(request.headerValues("content-type")).containsExactly("application/json");
            assertThat(request.headerValues("accept")).containsExactly("text/event-stream");
            assertThat(request.headerValues("user-agent")).containsExactly("cobalt-chat-gateway/0.1");
            assertThat(request.headerValues("host")).containsExactly("127.0.0.1:" + upstream.port());
            assertThat(request.headers().get("api-key")).isNull();
            assertThat(request.body()).isEqualTo("{\"model\":\"" + SAMBANOVA_MODEL + "\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                    + "\"max_tokens\":" + MAX_TOKENS + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
            assertThat(request.headerValues("content-length"))
                    .containsExactly(String.valueOf(request.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
            assertThat(upstream.requestCount()).isEqualTo(1);
        }

        @Test
        void inboundHeadersNeverTravelUpstreamOnlyTheGatewaysOwnHeadersDo() {
            String token = Jwt.token("bob");
            String session = client.createSession(token);
            upstream.enqueue(shortAnswer());

            HttpResponse<String> response = chatWithInboundHeaders(gateway, session, token, "Hi");

            assertRelayed(response);
            RecordedRequest request = upstream.takeRequest(WAIT);
            assertThat(request.headers().keySet()).containsExactlyInAnyOrder(
                    "content-type", "accept", "user-agent", "authorization", "host", "content-length");
            assertNoInboundHeaderTravelled(request, token);
            assertThat(request.header("authorization")).isEqualTo("Bearer " + SAMBANOVA_KEY);
        }

        @Test
        void messagesAreSystemPromptThenUserThenOnTheNextTurnTheHistory() {
            String token = Jwt.token("carol");
            String session = client.createSession(token, "{\"system_prompt\":\"You are terse. Say \\\"ok\\\".\"}");
            upstream.enqueue(shortAnswer());

            HttpResponse<String> first = chatWithInboundHeaders(gateway, session, token, "Hi, café?");

            assertRelayed(first);
            assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + SAMBANOVA_MODEL + "\","
                    + "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse. Say \\\"ok\\\".\"},"
                    + "{\"role\":\"user\",\"content\":\"Hi, café?\"}],"
                    + "\"max_tokens\":" + MAX_TOKENS + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

            JsonNode stored = storedMessages(client, session, token, 2);
            assertThat(stored.get(1).get("content").asText()).isEqualTo("Hello there");
            assertThat(stored.get(1).get("status").asText()).isEqualTo("complete");
            upstream.enqueue(shortAnswer());

            HttpResponse<String> second = chatWithInboundHeaders(gateway, session, token, "And then?");

            assertRelayed(second);
            assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + SAMBANOVA_MODEL + "\","
                    + "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse. Say \\\"ok\\\".\"},"
                    + "{\"role\":\"user\",\"content\":\"Hi, café?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"Hello there\"},"
                    + "{\"role\":\"user\",\"content\":\"And then?\"}],"
                    + "\"max_tokens\":" + MAX_TOKENS + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        }

        @Test
        void withoutASystemPromptTheMessagesAreOnlyTheUserMessage() {
            String token = Jwt.token("dave");
            String session = client.createSession(token, "{\"title\":\"No system\"}");
            upstream.enqueue(shortAnswer());

            assertRelayed(chatWithInboundHeaders(gateway, session, token, "Line one\nline \"two\""));

            assertThat(upstream.takeRequest(WAIT).body()).isEqualTo("{\"model\":\"" + SAMBANOVA_MODEL + "\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Line one\\nline \\\"two\\\"\"}],"
                    + "\"max_tokens\":" + MAX_TOKENS + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        }
    }

    /**
     * One Azure endpoint shape: what is configured, and the exact request it must produce.
     *
     * @param endpointSuffix appended to the fake's base URL for azure.ai.endpoint
     * @param apiVersion     azure.ai.api-version, or null for the default
     */
    record AzureShape(String name, String endpointSuffix, String apiVersion, String path, String query, String body) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";

    static Stream<Arguments> azureShapes() {
        String deploymentPath = "/openai/deployments/" + DEPLOYMENT + "/chat/completions";
        String withUsage = "{" + MESSAGES + ",\"max_tokens\":" + MAX_TOKENS
                + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        return Stream.of(
                new AzureShape("classic endpoint, default api-version 2024-10-21", "", null,
                        deploymentPath, "api-version=2024-10-21", withUsage),
                new AzureShape("classic endpoint with a trailing slash", "/", null,
                        deploymentPath, "api-version=2024-10-21", withUsage),
                new AzureShape("classic endpoint, api-version 2024-06-01 has no stream_options", "", "2024-06-01",
                        deploymentPath, "api-version=2024-06-01",
                        "{" + MESSAGES + ",\"max_tokens\":" + MAX_TOKENS + ",\"stream\":true}"),
                new AzureShape("classic endpoint, api-version 2024-09-01-preview has stream_options", "",
                        "2024-09-01-preview", deploymentPath, "api-version=2024-09-01-preview", withUsage),
                new AzureShape("Foundry /models endpoint", "/models", null,
                        "/models/chat/completions", "api-version=2024-05-01-preview",
                        "{\"model\":\"" + DEPLOYMENT + "\"," + MESSAGES + ",\"max_tokens\":" + MAX_TOKENS
                                + ",\"stream\":true}"),
                new AzureShape("/openai/v1 endpoint", "/openai/v1", null,
                        "/openai/v1/chat/completions", null,
                        "{\"model\":\"" + DEPLOYMENT + "\"," + MESSAGES + ",\"max_tokens\":" + MAX_TOKENS
                                + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("azureShapes")
    void azureRequestShape(AzureShape shape) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("llm.provider", "azure");
        overrides.put("azure.ai.endpoint", upstream.baseUrl() + shape.endpointSuffix());
        overrides.put("azure.ai.api-key", AZURE_KEY);
        overrides.put("azure.ai.deployment", DEPLOYMENT);
        if (shape.apiVersion() != null) {
            overrides.put("azure.ai.api-version", shape.apiVersion());
        }
        overrides.put("chat.max-tokens", MAX_TOKENS);
        try (RunningGateway gateway = RunningGateway.start(overrides)) {
            GatewayClient client = new GatewayClient(gateway);
            String token = Jwt.token("erin");
            String session = client.createSession(token);
            upstream.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Hello"), Chunks.delta(" there"),
                    Chunks.finish("stop"), Chunks.usage(5, 2), Chunks.done()));

            HttpResponse<String> response = chatWithInboundHeaders(gateway, session, token, "Hi");

            assertRelayed(response);
            RecordedRequest request = upstream.takeRequest(WAIT);
            assertThat(request.method()).isEqualTo("POST");
            assertThat(request.path()).isEqualTo(shape.path());
            assertThat(request.query()).isEqualTo(shape.query());
            assertThat(request.headerValues("api-key")).containsExactly(AZURE_KEY);
            assertThat(request.headers().get("authorization")).isNull();
            assertThat(request.headerValues("content-type")).containsExactly("application/json");
            assertThat(request.headerValues("accept")).containsExactly("text/event-stream");
            assertThat(request.headerValues("user-agent")).containsExactly("cobalt-chat-gateway/0.1");
            assertThat(request.body()).isEqualTo(shape.body());
            assertThat(request.headers().keySet()).containsExactlyInAnyOrder(
                    "content-type", "accept", "user-agent", "api-key", "host", "content-length");
            assertNoInboundHeaderTravelled(request, token);
            assertThat(upstream.requestCount()).isEqualTo(1);
            JsonNode stored = storedMessages(client, session, token, 2); // recorded before the gateway stops
            assertThat(stored.get(1).get("content").asText()).isEqualTo("Hello there");
            assertThat(stored.get(1).get("status").asText()).isEqualTo("complete");
        }
    }

    /**
     * OpenAI's reasoning models refuse max_tokens (400 unsupported_parameter on OpenAI and Azure OpenAI): a model
     * configured token-limit = max_completion_tokens (the shipped application.properties does it for o3-mini) gets
     * the answer's cap in that field, the caller's max_completion_tokens capped at CHAT_MAX_TOKENS; other models keep
     * max_tokens. Azure deployments, /v1 chats.
     */
    @Test
    void aReasoningModelGetsTheCapAsMaxCompletionTokensAndOtherModelsAsMaxTokens() {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("llm.provider", "azure");
        overrides.put("azure.ai.endpoint", upstream.baseUrl());
        overrides.put("azure.ai.api-key", AZURE_KEY);
        overrides.put("llm.models.azure", "gpt-4o=gpt-4o-prod, o3-mini=o3-mini-prod");
        overrides.put("chat.max-tokens", MAX_TOKENS);
        try (RunningGateway gateway = RunningGateway.start(overrides)) {
            GatewayClient client = new GatewayClient(gateway);
            String token = Jwt.token("grace");
            for (String[] c : new String[][] {
                    {"o3-mini", "\"max_completion_tokens\":100", "o3-mini-prod", "\"max_completion_tokens\":100"},
                    {"o3-mini", "\"max_tokens\":5000", "o3-mini-prod", "\"max_completion_tokens\":" + MAX_TOKENS},
                    {"gpt-4o", "\"max_completion_tokens\":100", "gpt-4o-prod", "\"max_tokens\":100"}}) {
                upstream.enqueue(Script.sse(Chunks.delta("Hello"), Chunks.finish("stop"), Chunks.usage(5, 1),
                        Chunks.done()));

                HttpResponse<String> response = client.send("POST", "/v1/chat/completions", token,
                        "application/json", "{\"model\":\"" + c[0] + "\"," + MESSAGES + "," + c[1] + "}");

                assertThat(response.statusCode()).as(c[0] + " " + c[1]).isEqualTo(200);
                RecordedRequest request = upstream.takeRequest(WAIT);
                assertThat(request.path()).isEqualTo("/openai/deployments/" + c[2] + "/chat/completions");
                assertThat(request.body()).isEqualTo("{" + MESSAGES + "," + c[3]
                        + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
            }
        }
    }
}
