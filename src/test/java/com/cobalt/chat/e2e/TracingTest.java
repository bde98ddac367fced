package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.OtlpReceiver;
import com.cobalt.chat.testing.OtlpReceiver.Received;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import io.opentelemetry.proto.trace.v1.Status.StatusCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Traces on (OTEL_EXPORTER_OTLP_ENDPOINT at an in-process OTLP/HTTP receiver): the real gateway, primary sambanova at
 * the fake upstream P and fallback azure at F. Each chat is one server span from arrival to the end of its response,
 * a child of the caller's traceparent, with one client span per provider attempt carrying the GenAI attributes; the
 * provider gets the attempt's traceparent; the exchange log line names the trace; no text, key or token is exported.
 */
class TracingTest {

    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    static final String DEPLOYMENT = "gpt-4o-mini";
    static final String SAMBANOVA_KEY = "sn-test-key-0001";
    static final String AZURE_KEY = "az-test-key-0002";
    static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
    static final String CALLER_SPAN = "b7ad6b7169203331";
    static final String SESSION_ROUTE = "/api/v1/chat/sessions/{id}/messages";
    static final Duration WAIT = Duration.ofSeconds(10);
    static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Cooldowns one test starts must not reach the next: each test begins an hour later. */
    static final TestClock CLOCK = new TestClock();
    static OtlpReceiver receiver;
    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        receiver = OtlpReceiver.start();
        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", fallback.baseUrl());
        p.put("azure.ai.api-key", AZURE_KEY);
        p.put("azure.ai.deployment", DEPLOYMENT);
        p.put("otel.exporter.otlp.endpoint", receiver.endpoint());
        p.put("otel.service.name", "cobalt-tracing-test");
        // export each span within 50 ms instead of the SDK's 5 s batch delay
        p.put("otel.bsp.schedule.delay", "50");
        gateway = RunningGateway.sambanovaAt(primary, p, Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        primary.close();
        fallback.close();
        receiver.close();
    }

    @BeforeEach
    void clean() {
        CLOCK.advance(Duration.ofHours(1));
        primary.reset();
        fallback.reset();
    }

    @Test
    void aSessionChatIsOneSpanUnderTheCallersSpanWithItsProviderAttemptAndEndsWithTheStream() throws Exception {
        String token = Jwt.token("trace-alice");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Secret-ish "), Chunks.delta("answer")).delay(Duration.ofMillis(400))
                .chunk(Chunks.delta(" text.")).chunk(Chunks.finish("stop")).chunk(Chunks.usage(12, 3))
                .chunk(Chunks.done()));

        try (LogCapture logs = LogCapture.start()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/api/v1/chat/sessions/"
                            + session + "/messages"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .header("traceparent", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"content\":\"My private question\"}")).build();
            HttpResponse<InputStream> live = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
            long headersAtNanos = System.currentTimeMillis() * 1_000_000L;
            assertThat(live.statusCode()).isEqualTo(200);
            String requestId = live.headers().firstValue("X-Request-Id").orElseThrow();
            String body;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(live.body(), StandardCharsets.UTF_8))) {
                body = String.join("\n", r.lines().toList());
            }
            assertThat(body).contains("data: [DONE]");

            List<Received> trace = receiver.awaitTrace(CALLER_TRACE, 2, WAIT);
            assertThat(trace).extracting(Received::name)
                    .containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL);
            Received chat = trace.get(0);
            Received attempt = trace.get(1);

            assertThat(chat.span().getKind()).isEqualTo(SpanKind.SPAN_KIND_SERVER);
            assertThat(chat.parentSpanId()).isEqualTo(CALLER_SPAN);
            assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
            Map<String, String> chatAttributes = new TreeMap<>(chat.attributes());
            assertThat(chatAttributes.remove("cobalt.exchange_id")).isNotBlank();
            assertThat(chatAttributes).isEqualTo(sorted(Map.ofEntries(
                    Map.entry("http.request.method", "POST"),
                    Map.entry("http.route", SESSION_ROUTE),
                    Map.entry("http.response.status_code", "200"),
                    Map.entry("cobalt.request_id", requestId),
                    Map.entry("cobalt.answer.status", "complete"),
                    Map.entry("cobalt.usage.estimated", "false"),
                    Map.entry("gen_ai.conversation.id", session),
                    Map.entry("gen_ai.operation.name", "chat"),
                    Map.entry("gen_ai.provider.name", "sambanova"),
                    Map.entry("gen_ai.system", "sambanova"),
                    Map.entry("gen_ai.request.model", MODEL),
                    Map.entry("gen_ai.response.model", MODEL),
                    Map.entry("gen_ai.usage.input_tokens", "12"),
                    Map.entry("gen_ai.usage.output_tokens", "3"),
                    Map.entry("gen_ai.response.finish_reasons", "[stop]"))));

            assertThat(attempt.span().getKind()).isEqualTo(SpanKind.SPAN_KIND_CLIENT);
            assertThat(attempt.parentSpanId()).isEqualTo(chat.spanId());
            assertThat(attempt.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
            assertThat(attempt.attributes()).isEqualTo(sorted(Map.ofEntries(
                    Map.entry("gen_ai.operation.name", "chat"),
                    Map.entry("gen_ai.provider.name", "sambanova"),
                    Map.entry("gen_ai.system", "sambanova"),
                    Map.entry("gen_ai.request.model", MODEL),
                    Map.entry("gen_ai.response.model", MODEL),
                    Map.entry("gen_ai.usage.input_tokens", "12"),
                    Map.entry("gen_ai.usage.output_tokens", "3"),
                    Map.entry("gen_ai.response.finish_reasons", "[stop]"),
                    Map.entry("cobalt.usage.estimated", "false"),
                    Map.entry("server.address", "127.0.0.1"),
                    Map.entry("server.port", String.valueOf(primary.port())))));
            assertThat(chat.resourceAttribute("service.name")).isEqualTo("cobalt-tracing-test");

            // the provider's request carries the attempt's context, so its spans join this trace
            RecordedRequest sent = primary.takeRequest(Duration.ofSeconds(1));
            assertThat(sent.header("traceparent")).isEqualTo("00-" + CALLER_TRACE + "-" + attempt.spanId() + "-01");

            // the chat span ends when the stream ends - 400 ms after the 200 went out - not when the 200 is sent
            assertThat(attempt.endNanos() - attempt.startNanos()).isGreaterThanOrEqualTo(400_000_000L);
            assertThat(chat.endNanos()).isGreaterThanOrEqualTo(attempt.endNanos());
            // ended at the 200 it would be before headersAtNanos; +300 ms left a stalled client only 100 ms
            assertThat(chat.endNanos()).isGreaterThan(headersAtNanos + 100_000_000L);
            assertThat(chat.startNanos()).isLessThanOrEqualTo(attempt.startNanos());

            JsonNode line = awaitExchangeLine(logs, requestId);
            assertThat(line.get("trace_id").asText()).isEqualTo(CALLER_TRACE);
        }

        String exported = receiver.everythingReceived();
        assertThat(exported).doesNotContain("My private question").doesNotContain("Secret-ish")
                .doesNotContain("answer text").doesNotContain(SAMBANOVA_KEY).doesNotContain(AZURE_KEY)
                .doesNotContain(token).doesNotContain("Bearer").doesNotContain(RunningGateway.JWT_SECRET);
    }

    @Test
    void aFallbackShowsTwoAttemptsTheFailedOneWithErrorStatus() {
        String token = Jwt.token("trace-bob");
        String session = client.createSession(token);
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.delta("Fallback "), Chunks.delta("answer."), Chunks.finish("stop"),
                Chunks.usage(9, 2), Chunks.done()));
        String callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String callerSpan = "00f067aa0ba902b7";

        HttpResponse<String> r = send("/api/v1/chat/sessions/" + session + "/messages", token,
                "{\"content\":\"Fall back please\"}", "00-" + callerTrace + "-" + callerSpan + "-01");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body().lines().filter(l -> l.startsWith("data: {\"content\":\"answer."))
                .findFirst().orElseThrow().substring(6)).get("content").asText()).isEqualTo("answer.");

        List<Received> trace = receiver.awaitTrace(callerTrace, 3, WAIT);
        assertThat(trace).extracting(Received::name)
                .containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL, "chat " + DEPLOYMENT);
        Received chat = trace.get(0);
        Received failed = trace.get(1);
        Received answered = trace.get(2);
        assertThat(failed.parentSpanId()).isEqualTo(chat.spanId());
        assertThat(answered.parentSpanId()).isEqualTo(chat.spanId());
        assertThat(failed.endNanos()).isLessThanOrEqualTo(answered.startNanos());

        assertThat(failed.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(failed.attributes()).isEqualTo(sorted(Map.ofEntries(
                Map.entry("gen_ai.operation.name", "chat"),
                Map.entry("gen_ai.provider.name", "sambanova"),
                Map.entry("gen_ai.system", "sambanova"),
                Map.entry("gen_ai.request.model", MODEL),
                Map.entry("error.type", "http_500"),
                Map.entry("server.address", "127.0.0.1"),
                Map.entry("server.port", String.valueOf(primary.port())))));

        assertThat(answered.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
        assertThat(answered.attributes()).isEqualTo(sorted(Map.ofEntries(
                Map.entry("gen_ai.operation.name", "chat"),
                Map.entry("gen_ai.provider.name", "azure"),
                Map.entry("gen_ai.system", "azure"),
                Map.entry("gen_ai.request.model", DEPLOYMENT),
                Map.entry("gen_ai.response.model", DEPLOYMENT),
                Map.entry("gen_ai.usage.input_tokens", "9"),
                Map.entry("gen_ai.usage.output_tokens", "2"),
                Map.entry("gen_ai.response.finish_reasons", "[stop]"),
                Map.entry("cobalt.usage.estimated", "false"),
                Map.entry("server.address", "127.0.0.1"),
                Map.entry("server.port", String.valueOf(fallback.port())))));

        Map<String, String> c = chat.attributes();
        assertThat(c).containsEntry("gen_ai.request.model", MODEL)
                .containsEntry("gen_ai.provider.name", "azure")
                .containsEntry("gen_ai.system", "azure")
                .containsEntry("gen_ai.response.model", DEPLOYMENT)
                .containsEntry("cobalt.fallback_from", "sambanova")
                .containsEntry("cobalt.answer.status", "complete")
                .containsEntry("http.response.status_code", "200")
                .doesNotContainKey("error.type");
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);

        assertThat(primary.takeRequest(Duration.ofSeconds(1)).header("traceparent"))
                .isEqualTo("00-" + callerTrace + "-" + failed.spanId() + "-01");
        assertThat(fallback.takeRequest(Duration.ofSeconds(1)).header("traceparent"))
                .isEqualTo("00-" + callerTrace + "-" + answered.spanId() + "-01");
    }

    @Test
    void anOpenAiChatWithoutACallerTraceIsARootSpanWithItsAttempt() {
        String token = Jwt.token("trace-carol");
        primary.enqueue(Script.sse(Chunks.delta("Hi."), Chunks.finish("length"), Chunks.usage(5, 1), Chunks.done()));

        HttpResponse<String> r = send("/v1/chat/completions", token, "{\"model\":\"" + MODEL
                + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"OpenAI style question\"}]}", null);
        assertThat(r.statusCode()).isEqualTo(200);
        String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();

        Received chat = receiver.await(s -> requestId.equals(s.attributes().get("cobalt.request_id")), 1, WAIT).get(0);
        assertThat(chat.name()).isEqualTo("POST /v1/chat/completions");
        assertThat(chat.parentSpanId()).isEmpty();
        List<Received> trace = receiver.awaitTrace(chat.traceId(), 2, WAIT);
        assertThat(trace).extracting(Received::name).containsExactly("POST /v1/chat/completions", "chat " + MODEL);
        assertThat(trace.get(1).parentSpanId()).isEqualTo(chat.spanId());
        assertThat(chat.attributes()).containsEntry("http.route", "/v1/chat/completions")
                .containsEntry("gen_ai.operation.name", "chat")
                .containsEntry("gen_ai.request.model", MODEL)
                .containsEntry("gen_ai.response.finish_reasons", "[length]")
                .containsEntry("gen_ai.usage.input_tokens", "5")
                .containsEntry("gen_ai.usage.output_tokens", "1")
                .doesNotContainKey("gen_ai.conversation.id");
        // a trace the gateway begins is sampled (01) with a random trace id (02, W3C Trace Context level 2)
        assertThat(primary.takeRequest(Duration.ofSeconds(1)).header("traceparent"))
                .isEqualTo("00-" + chat.traceId() + "-" + trace.get(1).spanId() + "-03");
        assertThat(receiver.everythingReceived()).doesNotContain("OpenAI style question").doesNotContain(token);
    }

    @Test
    void aChatRefusedBeforeAnyProviderIsOneSpanWithItsStatusAndNoAttempt() {
        String callerTrace = "11111111111111111111111111111111";
        HttpResponse<String> r = send("/api/v1/chat/sessions/00000000-0000-0000-0000-000000000000/messages",
                "not-a-jwt", "{\"content\":\"Unauthenticated\"}", "00-" + callerTrace + "-2222222222222222-01");
        assertThat(r.statusCode()).isEqualTo(401);

        Received chat = receiver.awaitTrace(callerTrace, 1, WAIT).get(0);
        assertThat(chat.name()).isEqualTo("POST " + SESSION_ROUTE);
        assertThat(chat.attributes()).containsEntry("http.response.status_code", "401")
                .containsEntry("error.type", "401").doesNotContainKey("gen_ai.provider.name");
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
        assertThat(receiver.spans().stream().filter(s -> s.traceId().equals(callerTrace))).hasSize(1);
        assertThat(primary.requestCount()).isZero();
        assertThat(receiver.everythingReceived()).doesNotContain("not-a-jwt");
    }

    /**
     * A body over the limit is refused (413 body_too_large) while it is read, before the chat's route runs: the chat
     * had no span at all, though every chat request has one.
     */
    @Test
    void aChatWhoseBodyIsTooLargeIsOneSpanWithItsStatus() {
        String callerTrace = "41300000000000000000000000000001";
        String token = Jwt.token("trace-too-large");
        String session = client.createSession(token);
        HttpResponse<String> r = send("/api/v1/chat/sessions/" + session + "/messages", token,
                "{\"content\":\"" + "a".repeat(70_000) + "\"}", "00-" + callerTrace + "-4444444444444444-01");
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(GatewayClient.json(r.body()).at("/error/code").asText()).isEqualTo("body_too_large");

        Received chat = receiver.awaitTrace(callerTrace, 1, WAIT).get(0);
        assertThat(chat.name()).isEqualTo("POST " + SESSION_ROUTE);
        assertThat(chat.span().getKind()).isEqualTo(SpanKind.SPAN_KIND_SERVER);
        assertThat(chat.parentSpanId()).isEqualTo("4444444444444444");
        assertThat(chat.attributes()).isEqualTo(sorted(Map.of(
                "http.request.method", "POST",
                "http.route", SESSION_ROUTE,
                "http.response.status_code", "413",
                "error.type", "413",
                "gen_ai.operation.name", "chat",
                "cobalt.request_id", r.headers().firstValue("X-Request-Id").orElseThrow())));
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
        assertThat(receiver.spans().stream().filter(s -> s.traceId().equals(callerTrace))).hasSize(1);

        String openAiTrace = "41300000000000000000000000000002";
        HttpResponse<String> v1 = send("/v1/chat/completions", token, "{\"model\":\"m\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"" + "a".repeat(10_485_760) + "\"}]}", "00-" + openAiTrace
                + "-6666666666666666-01");
        assertThat(v1.statusCode()).isEqualTo(413);
        Received openAi = receiver.awaitTrace(openAiTrace, 1, WAIT).get(0);
        assertThat(openAi.name()).isEqualTo("POST /v1/chat/completions");
        assertThat(openAi.attributes()).containsEntry("http.route", "/v1/chat/completions")
                .containsEntry("http.response.status_code", "413");
        assertThat(primary.requestCount()).isZero();
    }

    /**
     * A chat with a compressed body is refused (415) before its body is read and before its route runs: like the 413,
     * it had no span at all.
     */
    @Test
    void aChatRefusedForItsContentEncodingIsOneSpanWithItsStatus() throws Exception {
        String trace = "41500000000000000000000000000001";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + Jwt.token("trace-gzip")).header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip").header("traceparent", "00-" + trace + "-7777777777777777-01")
                .POST(HttpRequest.BodyPublishers.ofString("not really gzip")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(415);
        assertThat(GatewayClient.json(r.body()).at("/error/code").asText()).isEqualTo("unsupported_media_type");

        Received chat = receiver.awaitTrace(trace, 1, WAIT).get(0);
        assertThat(chat.name()).isEqualTo("POST /v1/chat/completions");
        assertThat(chat.parentSpanId()).isEqualTo("7777777777777777");
        assertThat(chat.attributes()).containsEntry("http.response.status_code", "415")
                .containsEntry("error.type", "415")
                .containsEntry("cobalt.request_id", r.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(primary.requestCount()).isZero();
    }

    @Test
    void aStreamThatBreaksOffEndsBothSpansWithItsError() {
        String token = Jwt.token("trace-dave");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Half an ")).cut());
        String callerTrace = "33333333333333333333333333333333";

        HttpResponse<String> r = send("/api/v1/chat/sessions/" + session + "/messages", token,
                "{\"content\":\"Break please\"}", "00-" + callerTrace + "-4444444444444444-01");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("event: error");

        List<Received> trace = receiver.awaitTrace(callerTrace, 2, WAIT);
        assertThat(trace).extracting(Received::name).containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL);
        Received chat = trace.get(0);
        Received attempt = trace.get(1);
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(chat.attributes()).containsEntry("error.type", "stream_interrupted")
                .containsEntry("cobalt.answer.status", "interrupted")
                .containsEntry("http.response.status_code", "200")
                .containsEntry("gen_ai.provider.name", "sambanova");
        assertThat(attempt.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(attempt.attributes()).containsEntry("error.type", "stream_interrupted")
                .containsEntry("cobalt.usage.estimated", "true");
        assertThat(receiver.everythingReceived()).doesNotContain("Half an").doesNotContain("Break please");
    }

    /**
     * A whole (not streamed) /v1 answer its provider breaks off after it began goes to the fallback, which answers:
     * the request succeeded, so its span must not keep the broken attempt's error (black-box observability probe,
     * 2026-12-05: the 200 "complete" chat span had error status and error.type stream_interrupted).
     */
    @Test
    void aWholeAnswerThatBrokeUnseenAndWasAnsweredByTheFallbackIsNoError() {
        String token = Jwt.token("trace-frank");
        primary.enqueue(Script.sse(Chunks.delta("Half an ")).cut());
        fallback.enqueue(Script.sse(Chunks.delta("Whole."), Chunks.finish("stop"), Chunks.usage(6, 1), Chunks.done()));
        String callerTrace = "abababababababababababababababab";

        HttpResponse<String> r = send("/v1/chat/completions", token, "{\"model\":\"" + MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Break unseen\"}]}",
                "00-" + callerTrace + "-6666666666666666-01");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).at("/choices/0/message/content").asText()).isEqualTo("Whole.");

        List<Received> trace = receiver.awaitTrace(callerTrace, 3, WAIT);
        assertThat(trace).extracting(Received::name)
                .containsExactly("POST /v1/chat/completions", "chat " + MODEL, "chat " + DEPLOYMENT);
        Received chat = trace.get(0);
        assertThat(trace.get(1).span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(trace.get(1).attributes()).containsEntry("error.type", "stream_interrupted");
        assertThat(trace.get(2).span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
        assertThat(chat.attributes()).containsEntry("cobalt.answer.status", "complete")
                .containsEntry("cobalt.fallback_from", "sambanova")
                .containsEntry("gen_ai.provider.name", "azure")
                .containsEntry("http.response.status_code", "200")
                .doesNotContainKey("error.type");
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
    }

    /**
     * A caller that leaves while the provider has not answered yet got no response at all: its span says cancelled and
     * carries no http.response.status_code (black-box observability probe, 2026-12-05: it said 200, Vert.x's default
     * for a response never sent).
     */
    @Test
    void aCallerThatLeftBeforeAnyResponseHasNoStatusCode() throws Exception {
        String token = Jwt.token("trace-grace");
        primary.enqueue(Script.sse().noHeaders());
        String callerTrace = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
        String body = "{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Leave early\"}]}";

        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
            socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                    + "traceparent: 00-" + callerTrace + "-efefefefefefefef-01\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            // the chat is waiting for the provider's first byte when the caller goes
            assertThat(primary.takeRequest(WAIT)).isNotNull();
        }

        List<Received> trace = receiver.awaitTrace(callerTrace, 2, WAIT);
        assertThat(trace).extracting(Received::name).containsExactly("POST /v1/chat/completions", "chat " + MODEL);
        Received chat = trace.get(0);
        assertThat(chat.attributes()).containsEntry("cobalt.answer.status", "cancelled")
                .doesNotContainKey("http.response.status_code").doesNotContainKey("error.type");
        assertThat(chat.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
    }

    @Test
    void aRequestTheProviderRejectsEndsItsAttemptWithTheRejection() {
        String token = Jwt.token("trace-erin");
        String session = client.createSession(token);
        primary.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
        String callerTrace = "55555555555555555555555555555555";

        HttpResponse<String> r = send("/api/v1/chat/sessions/" + session + "/messages", token,
                "{\"content\":\"Reject me\"}", "00-" + callerTrace + "-6666666666666666-01");
        assertThat(r.statusCode()).isEqualTo(400);

        List<Received> trace = receiver.awaitTrace(callerTrace, 2, WAIT);
        assertThat(trace).extracting(Received::name).containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL);
        assertThat(trace.get(1).span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(trace.get(1).attributes()).containsEntry("error.type", "http_400")
                .doesNotContainKey("gen_ai.response.model");
        assertThat(trace.get(0).attributes()).containsEntry("http.response.status_code", "400")
                .containsEntry("error.type", "400")
                .containsEntry("cobalt.answer.status", "failed");
        assertThat(fallback.requestCount()).isZero();
    }

    @Test
    void aProviderSkippedWithoutACallStillShowsAsAFailedAttemptOfNoLength() {
        String token = Jwt.token("trace-fred");
        String session = client.createSession(token);
        primary.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\"}}").header("Retry-After", "30"));
        fallback.enqueue(Script.sse(Chunks.delta("One."), Chunks.finish("stop"), Chunks.done()));
        fallback.enqueue(Script.sse(Chunks.delta("Two."), Chunks.finish("stop"), Chunks.done()));
        String first = "77777777777777777777777777777777";
        String second = "88888888888888888888888888888888";

        assertThat(send("/api/v1/chat/sessions/" + session + "/messages", token, "{\"content\":\"One\"}",
                "00-" + first + "-9999999999999999-01").statusCode()).isEqualTo(200);
        // sambanova asked for a 30 s pause: the next chat skips it without a call
        assertThat(send("/api/v1/chat/sessions/" + session + "/messages", token, "{\"content\":\"Two\"}",
                "00-" + second + "-9999999999999999-01").statusCode()).isEqualTo(200);
        assertThat(primary.requestCount()).isEqualTo(1);

        List<Received> one = receiver.awaitTrace(first, 3, WAIT);
        assertThat(one).extracting(Received::name)
                .containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL, "chat " + DEPLOYMENT);
        assertThat(one.get(1).attributes()).containsEntry("error.type", "http_429");

        List<Received> two = receiver.awaitTrace(second, 3, WAIT);
        assertThat(two).extracting(Received::name)
                .containsExactly("POST " + SESSION_ROUTE, "chat " + MODEL, "chat " + DEPLOYMENT);
        Received skipped = two.get(1);
        assertThat(skipped.parentSpanId()).isEqualTo(two.get(0).spanId());
        assertThat(skipped.span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
        assertThat(skipped.attributes()).isEqualTo(sorted(Map.of(
                "gen_ai.operation.name", "chat",
                "gen_ai.provider.name", "sambanova",
                "gen_ai.system", "sambanova",
                "gen_ai.request.model", MODEL,
                "error.type", "cooldown")));
        assertThat(skipped.endNanos()).isEqualTo(skipped.startNanos());
        assertThat(two.get(2).span().getStatus().getCode()).isEqualTo(StatusCode.STATUS_CODE_UNSET);
        assertThat(two.get(0).attributes()).containsEntry("gen_ai.provider.name", "azure")
                .containsEntry("cobalt.fallback_from", "sambanova");
    }

    static HttpResponse<String> send(String path, String token, String body, String traceparent) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (traceparent != null) {
            b.header("traceparent", traceparent);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode awaitExchangeLine(LogCapture logs, String requestId) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            for (LogCapture.Line l : logs.lines("cobalt.exchange")) {
                JsonNode line = GatewayClient.json(l.message());
                if (requestId.equals(line.path("request_id").asText())) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no exchange log line for request " + requestId);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
    }

    static Map<String, String> sorted(Map<String, String> m) {
        return new TreeMap<>(m);
    }
}
