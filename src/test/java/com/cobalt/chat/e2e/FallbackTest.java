package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.ResetUpstream;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Primary sambanova at the fake upstream P, fallback azure at the fake upstream F: every failure before the stream
 * begins is answered by the fallback; a 400 is the caller's problem and is not retried elsewhere; when both fail
 * the client gets a JSON error, never a 200.
 */
class FallbackTest {

    static final String DEPLOYMENT = "gpt-4o-mini";
    static final String AZURE_KEY = "az-test-key-0002";
    static final String SSE = "text/event-stream; charset=utf-8";
    static final List<String> FALLBACK_EVENTS = List.of(
            "data: {\"content\":\"Fallback \",\"done\":false}",
            "data: {\"content\":\"answer.\",\"done\":false}",
            "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
            "data: [DONE]");

    /** Cooldowns from one test's 429s must not leak into the next: each test starts an hour later. */
    static final TestClock CLOCK = new TestClock();
    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;
    static GatewayClient client;

    /** A second gateway whose primary sambanova points at a port nobody listens on (unless a test binds it). */
    static int deadPort;
    static RunningGateway deadPrimaryGateway;
    static GatewayClient deadPrimaryClient;

    @BeforeAll
    static void start() throws Exception {
        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(primary, withAzureFallback(), Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
        // one chat before the tests: the first call of a cold gateway can take longer than the 400 ms this class
        // gives a provider's headers, and then whichever test came first fell back where it should not (seen under load)
        primary.enqueue(Script.sse(Chunks.delta("Warm."), Chunks.finish("stop"), Chunks.done()));
        String warm = Jwt.token("fallback-warm-up");
        GatewayClient.Answer warmUp = client.chat(client.createSession(warm), warm, "Warm up");
        if (warmUp.status() != 200 || !warmUp.text().equals("Warm.")) {
            throw new IllegalStateException("the warm-up chat failed: " + warmUp.status() + " " + warmUp.body());
        }

        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        Map<String, String> p = withAzureFallback();
        p.put("llm.provider", "sambanova");
        p.put("sambanova.api-base", "http://127.0.0.1:" + deadPort + "/v1");
        p.put("sambanova.api-key", "sn-test-key-0001");
        p.put("sambanova.model", "Meta-Llama-3.3-70B-Instruct");
        deadPrimaryGateway = RunningGateway.start(p, Map.of("clock", CLOCK));
        deadPrimaryClient = new GatewayClient(deadPrimaryGateway);
    }

    static Map<String, String> withAzureFallback() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", fallback.baseUrl());
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("azure.ai.deployment", DEPLOYMENT);
        p.put("llm.response-headers-timeout-ms", "400");
        return p;
    }

    @AfterAll
    static void stop() {
        if (deadPrimaryGateway != null) {
            deadPrimaryGateway.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        primary.close();
        fallback.close();
    }

    @BeforeEach
    void clean() {
        CLOCK.advance(Duration.ofHours(1));
        primary.reset();
        fallback.reset();
    }

    // ------------------------------------------------------------------------------- failures that fall back

    @ParameterizedTest(name = "HTTP {0} from the primary")
    @ValueSource(ints = {408, 500, 502, 503, 401, 403, 404})
    void anErrorStatusFromThePrimaryIsAnsweredByTheFallback(int status) {
        primary.enqueue(Script.json(status, "{\"error\":{\"message\":\"primary says " + status
                + "\",\"type\":\"server_error\"}}"));
        fallback.enqueue(fallbackAnswer());

        assertFallbackAnswered(client, "Hello?");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    @Test
    void aRateLimitedPrimaryIsAnsweredByTheFallback() {
        primary.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limit\"}}")
                .header("retry-after-ms", "2000"));
        fallback.enqueue(fallbackAnswer());

        assertFallbackAnswered(client, "Hello?");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    @Test
    void aPrimaryThatNeverSendsHeadersIsAbandonedAfterTheTimeoutAndTheFallbackAnswers() {
        primary.enqueue(Script.status(200).noHeaders());
        fallback.enqueue(fallbackAnswer());

        long t0 = System.nanoTime();
        assertFallbackAnswered(client, "Hello?");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(tookMs).as("waited for the 400 ms headers timeout, not the default 30 s").isBetween(400L, 5000L);
        assertThat(primary.awaitDisconnect(Duration.ofSeconds(2)))
                .as("the gateway gave up the primary's request").isTrue();
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    @Test
    void aPrimaryThatResetsTheConnectionBeforeHeadersIsAnsweredByTheFallback() {
        try (ResetUpstream resetting = ResetUpstream.start(deadPort)) {
            fallback.enqueue(fallbackAnswer());

            assertFallbackAnswered(deadPrimaryClient, "Hello?");
            assertThat(resetting.requestCount()).isEqualTo(1);
            assertThat(fallback.requestCount()).isEqualTo(1);
        }
    }

    @Test
    void aPrimaryThatRefusesConnectionsIsAnsweredByTheFallback() {
        fallback.enqueue(fallbackAnswer());

        assertFallbackAnswered(deadPrimaryClient, "Hello?");
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    // ------------------------------------------------------------------------------- 400: no fallback

    /**
     * A streamed answer names the model that answered in its X-Cobalt-Model header - after a fallback the fallback's,
     * as the stored answer does. Before, nothing in the stream said so: the web page labelled a live answer with the
     * session's model, and only a reload showed the fallback's.
     */
    @Test
    void aStreamedFallbackAnswerNamesTheModelThatAnswered() {
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"down\",\"type\":\"server_error\"}}"));
        fallback.enqueue(fallbackAnswer());
        String token = Jwt.token("fallback-model-carol");
        String session = client.createSession(token);

        HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "application/json", "{\"content\":\"Hi\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().allValues("X-Cobalt-Provider")).containsExactly("azure");
        assertThat(r.headers().allValues("X-Cobalt-Model")).containsExactly(DEPLOYMENT);
        assertThat(awaitMessages(client, session, token, 2).get(1).get("model").asText()).isEqualTo(DEPLOYMENT);
    }

    // ------------------------------------------------------------------ a whole /v1 answer that broke off unseen

    @Test
    void aWholeOpenAiAnswerItsPrimaryBrokeOffIsAnsweredByTheFallback() {
        double fallbacksBefore = fallbacks();
        primary.enqueue(Script.sse(Chunks.delta("Hel")).delay(Duration.ofMillis(100)).cut());
        fallback.enqueue(fallbackAnswer());

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.token("whole-bob"),
                "application/json", "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Cobalt-Provider")).hasValue("azure");
        assertThat(r.headers().allValues("X-Cobalt-Model")).containsExactly(DEPLOYMENT);
        JsonNode completion = GatewayClient.json(r.body());
        assertThat(completion.get("model").asText()).isEqualTo("Meta-Llama-3.3-70B-Instruct");
        assertThat(completion.get("choices").toString()).isEqualTo("[{\"index\":0,\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"Fallback answer.\",\"refusal\":null},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\"}]");
        assertThat(completion.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
        assertThat(fallbacks()).isEqualTo(fallbacksBefore + 1);
    }

    /**
     * The retried fallback fails before its first token: the client gets the JSON error, and the exchange log has a
     * line for each attempt - the broken one (with its provider) and the failed one. Before, the first attempt's
     * record stood for both: no line for the second, whose failure was seen nowhere but in the response.
     */
    @Test
    void aWholeOpenAiAnswerWhoseRetryFailedToBeginLogsBothAttempts() {
        primary.enqueue(Script.sse(Chunks.delta("Hel")).delay(Duration.ofMillis(100)).cut());
        fallback.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\"}}"));
        HttpResponse<String> r;
        List<String> lines;
        try (LogCapture logs = LogCapture.start()) {
            r = client.send("POST", "/v1/chat/completions", Jwt.token("whole-dora"), "application/json",
                    "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"messages\":[{\"role\":\"user\","
                            + "\"content\":\"Hi\"}]}");
            // the failed attempt is recorded after the error response went out
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            do {
                lines = logs.lines("cobalt.exchange").stream().map(LogCapture.Line::message)
                        .filter(m -> m.contains("\"user_id\":\"whole-dora\"")).toList();
            } while (lines.size() < 2 && System.nanoTime() < deadline && pause());
        }

        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"No provider could answer; retry later\","
                + "\"type\":\"service_unavailable\",\"param\":null,\"code\":\"provider_unavailable\"}}");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"provider\":\"sambanova\"", "\"status\":\"interrupted\"",
                "\"error_code\":\"stream_interrupted\"", "\"fallback_from\":null");
        assertThat(lines.get(1)).contains("\"provider\":null", "\"status\":\"failed\"",
                "\"error_code\":\"provider_unavailable\"", "\"fallback_from\":\"sambanova\"",
                "\"prompt_tokens\":null");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    /** Yields the CPU briefly between polls; always true. */
    static boolean pause() {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        return true;
    }

    @Test
    void aStreamedOpenAiAnswerItsPrimaryBrokeOffIsNotTakenBackNorRetried() {
        primary.enqueue(Script.sse(Chunks.delta("Hel")).delay(Duration.ofMillis(100)).cut());

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.token("stream-bob"),
                "application/json", "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"stream\":true,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"content\":\"Hel\"").endsWith("event: error\ndata: {\"error\":{\"message\":"
                + "\"The provider's stream broke off\",\"type\":\"api_error\",\"param\":null,"
                + "\"code\":\"stream_interrupted\"}}\n\n");
        assertThat(fallback.requestCount()).isZero();
    }

    static double fallbacks() {
        Double v = com.cobalt.chat.testing.PrometheusText.scrape(gateway).value("llm_fallback_triggered_total",
                Map.of("from", "sambanova", "to", "azure"));
        return v == null ? 0 : v;
    }

    @Test
    void aBadRequestFromThePrimaryIsTheCallersProblemAndIsNotRetriedOnTheFallback() {
        primary.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
        fallback.enqueue(fallbackAnswer());
        String token = Jwt.token("fallback-bob");
        String session = client.createSession(token);

        GatewayClient.Answer answer = client.chat(session, token, "Make it fail");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.contentType()).isEqualTo("application/json");
        assertThat(answer.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider rejected the request as invalid\"}}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isZero();
        assertThat(fallback.pendingScripts()).isEqualTo(1);

        JsonNode messages = awaitMessages(client, session, token, 2);
        assertMessage(messages.get(0), "user", "Make it fail", "complete");
        assertMessage(messages.get(1), "assistant", "", "failed");
    }

    /**
     * A provider that says the request is at fault inside its 200 stream, before any output (OpenAI-compatible
     * servers such as vLLM send a context too long so), or in a 200 JSON body: the caller's problem like an HTTP 400,
     * not a provider failure that sends the request to the fallback and counts against the provider (black-box audit,
     * 2026-12-04: 503 "retry later", and ~16 such requests opened the breaker for everyone).
     */
    @Test
    void aRequestErrorInsideA200IsTheCallersProblemAndIsNotRetriedOnTheFallback() {
        String error = "{\"error\":{\"message\":\"This model's maximum context length is 4096 tokens; the"
                + " prompt 'my secret plan' is longer\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
                + "\"code\":\"context_length_exceeded\"}}";
        primary.enqueue(Script.sse("data: " + error + "\n\n"));
        primary.enqueue(Script.json(200, error));
        fallback.enqueue(fallbackAnswer());
        String token = Jwt.token("fallback-erin");
        String session = client.createSession(token);

        GatewayClient.Answer inStream = client.chat(session, token, "A very long question");
        GatewayClient.Answer inJson = client.chat(session, token, "Another very long question");

        // in the stream as in a JSON body, the provider's code and param are named (black-box probe: the stream's
        // rejection said neither, so a client could not tell a context too long from any other bad request)
        assertThat(inStream.status()).isEqualTo(400);
        assertThat(inStream.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider rejected the request as invalid (provider code"
                + " context_length_exceeded, parameter 'messages')\"}}");
        assertThat(inJson.status()).isEqualTo(400);
        assertThat(inJson.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider rejected the request as invalid (provider code"
                + " context_length_exceeded, parameter 'messages')\"}}");
        assertThat(primary.requestCount()).isEqualTo(2);
        assertThat(fallback.requestCount()).isZero();
    }

    @Test
    void anAzureStylePromptContentFilterIsReportedAsContentFilteredWithoutFallback() {
        primary.enqueue(Script.json(400, "{\"error\":{\"code\":\"content_filter\",\"message\":\"The response was "
                + "filtered due to the prompt triggering Azure OpenAI's content management policy.\",\"param\":"
                + "\"prompt\",\"status\":400,\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
                + "\"content_filter_result\":{\"hate\":{\"filtered\":true,\"severity\":\"high\"}}}}}"));
        fallback.enqueue(fallbackAnswer());
        String token = Jwt.token("fallback-carol");
        String session = client.createSession(token);

        GatewayClient.Answer answer = client.chat(session, token, "Something hateful");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.contentType()).isEqualTo("application/json");
        assertThat(answer.body()).isEqualTo("{\"error\":{\"code\":\"content_filtered\","
                + "\"message\":\"The provider's content filter refused the message (provider code content_filter,"
                + " parameter 'prompt')\"}}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isZero();

        JsonNode messages = awaitMessages(client, session, token, 2);
        assertMessage(messages.get(0), "user", "Something hateful", "complete");
        assertMessage(messages.get(1), "assistant", "", "content_filtered");
    }

    // ------------------------------------------------------------------------------- both fail

    @Test
    void whenPrimaryAndFallbackBothFailTheClientGetsA503JsonErrorAndTheExchangeIsStoredAsFailed() {
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.json(503, "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"busy\"}}"));
        String token = Jwt.token("fallback-dave");
        String session = client.createSession(token);

        GatewayClient.Answer answer = client.chat(session, token, "Anyone there?");

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.contentType()).isEqualTo("application/json");
        assertThat(answer.body()).isEqualTo("{\"error\":{\"code\":\"provider_unavailable\","
                + "\"message\":\"No provider could answer; retry later\"}}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);

        JsonNode messages = awaitMessages(client, session, token, 2);
        assertMessage(messages.get(0), "user", "Anyone there?", "complete");
        assertMessage(messages.get(1), "assistant", "", "failed");
    }

    @Test
    void whenEveryProviderFailedAndOneSaidWhenToComeBackThe503CarriesItsRetryAfter() {
        primary.enqueue(Script.json(503, "{\"error\":{\"message\":\"overloaded\"}}").header("Retry-After", "12"));
        fallback.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\"}}"));
        String token = Jwt.token("fallback-fred");
        String session = client.createSession(token);

        HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "application/json", "{\"content\":\"Later?\"}");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().allValues("Retry-After")).containsExactly("12");
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"provider_unavailable\","
                + "\"message\":\"No provider could answer; retry later\"}}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);
    }

    @Test
    void whenBothProvidersRateLimitTheClientGets429WithTheShortestRetryAfter() {
        primary.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limit\"}}")
                .header("retry-after-ms", "2000"));
        fallback.enqueue(Script.json(429, "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions"
                + " operation have exceeded the rate limit.\"}}").header("Retry-After", "7"));
        String token = Jwt.token("fallback-erin");
        String session = client.createSession(token);

        HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "application/json", "{\"content\":\"Hurry\"}");

        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().allValues("Retry-After")).containsExactly("2");
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"rate_limited\","
                + "\"message\":\"Every provider is rate limiting; retry later\"}}");
        assertThat(primary.requestCount()).isEqualTo(1);
        assertThat(fallback.requestCount()).isEqualTo(1);

        JsonNode messages = awaitMessages(client, session, token, 2);
        assertMessage(messages.get(0), "user", "Hurry", "complete");
        assertMessage(messages.get(1), "assistant", "", "failed");
    }

    @Test
    void aFailedExchangeIsKeptInTheSessionButNotSentAsContextWithTheNextMessage() {
        String token = Jwt.token("fallback-frank");
        String session = client.createSession(token);

        primary.enqueue(Script.sse(Chunks.delta("Paris."), Chunks.finish("stop"), Chunks.usage(12, 2), Chunks.done()));
        GatewayClient.Answer first = client.chat(session, token, "Capital of France?");
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.text()).isEqualTo("Paris.");
        awaitMessages(client, session, token, 2);

        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.json(503, "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"busy\"}}"));
        GatewayClient.Answer failed = client.chat(session, token, "Capital of Italy?");
        assertThat(failed.status()).isEqualTo(503);
        awaitMessages(client, session, token, 4);

        primary.enqueue(Script.sse(Chunks.delta("Madrid."), Chunks.finish("stop"), Chunks.usage(20, 2), Chunks.done()));
        GatewayClient.Answer third = client.chat(session, token, "Capital of Spain?");
        assertThat(third.status()).isEqualTo(200);
        assertThat(third.text()).isEqualTo("Madrid.");

        List<RecordedRequest> sent = primary.requests();
        assertThat(sent).hasSize(3);
        assertThat(messagesOf(sent.get(0))).isEqualTo(
                "[{\"role\":\"user\",\"content\":\"Capital of France?\"}]");
        assertThat(messagesOf(sent.get(1))).isEqualTo(
                "[{\"role\":\"user\",\"content\":\"Capital of France?\"},"
                        + "{\"role\":\"assistant\",\"content\":\"Paris.\"},"
                        + "{\"role\":\"user\",\"content\":\"Capital of Italy?\"}]");
        assertThat(messagesOf(sent.get(2))).isEqualTo(
                "[{\"role\":\"user\",\"content\":\"Capital of France?\"},"
                        + "{\"role\":\"assistant\",\"content\":\"Paris.\"},"
                        + "{\"role\":\"user\",\"content\":\"Capital of Spain?\"}]");

        JsonNode messages = awaitMessages(client, session, token, 6);
        assertMessage(messages.get(0), "user", "Capital of France?", "complete");
        assertMessage(messages.get(1), "assistant", "Paris.", "complete");
        assertMessage(messages.get(2), "user", "Capital of Italy?", "complete");
        assertMessage(messages.get(3), "assistant", "", "failed");
        assertMessage(messages.get(4), "user", "Capital of Spain?", "complete");
        assertMessage(messages.get(5), "assistant", "Madrid.", "complete");
    }

    // ------------------------------------------------------------------------------- helpers

    static Script fallbackAnswer() {
        return Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Fallback "), Chunks.delta("answer."),
                Chunks.finish("stop"), Chunks.usage(9, 2), Chunks.done());
    }

    /** One chat through {@code via}: the client sees the fallback's exact answer; F got the right request. */
    static void assertFallbackAnswered(GatewayClient via, String content) {
        String token = Jwt.token("fallback-alice");
        String session = via.createSession(token);

        GatewayClient.Answer answer = via.chat(session, token, content);

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo(SSE);
        assertThat(answer.events()).containsExactlyElementsOf(FALLBACK_EVENTS);
        assertThat(answer.text()).isEqualTo("Fallback answer.");

        RecordedRequest toF = fallback.takeRequest(Duration.ofSeconds(1));
        assertThat(toF.method()).isEqualTo("POST");
        assertThat(toF.path()).isEqualTo("/openai/deployments/" + DEPLOYMENT + "/chat/completions");
        assertThat(toF.query()).isEqualTo("api-version=2024-10-21");
        assertThat(toF.header("api-key")).isEqualTo(AZURE_KEY);
        assertThat(toF.header("Authorization")).isNull();
        assertThat(messagesOf(toF)).isEqualTo("[{\"role\":\"user\",\"content\":" + Chunks.json(content) + "}]");

        JsonNode messages = awaitMessages(via, session, token, 2);
        assertMessage(messages.get(0), "user", content, "complete");
        assertMessage(messages.get(1), "assistant", "Fallback answer.", "complete");
    }

    static String messagesOf(RecordedRequest r) {
        return GatewayClient.json(r.body()).get("messages").toString();
    }

    static void assertMessage(JsonNode m, String role, String content, String status) {
        assertThat(m.get("role").asText()).as("role of %s", m).isEqualTo(role);
        assertThat(m.get("content").asText()).as("content of %s", m).isEqualTo(content);
        assertThat(m.get("status").asText()).as("status of %s", m).isEqualTo(status);
    }

    /** The session's messages once it holds {@code count} of them (answers are stored off the response path). */
    static JsonNode awaitMessages(GatewayClient via, String session, String token, int count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            JsonNode messages = via.session(session, token).get("messages");
            if (messages.size() >= count) {
                assertThat(messages).as("messages of session %s", session).hasSize(count);
                return messages;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("session " + session + " has " + messages.size() + " messages, expected "
                        + count + ": " + messages);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
