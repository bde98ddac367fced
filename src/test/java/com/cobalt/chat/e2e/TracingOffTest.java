package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.OtlpReceiver;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Traces stay off while OTEL_EXPORTER_OTLP_ENDPOINT is unset, even with other OTEL_* settings present (here the
 * traces-only endpoint at a live receiver): nothing is exported, the provider gets no traceparent (not even the
 * caller's), and the exchange log line's trace_id is null.
 */
class TracingOffTest {

    @Test
    void withoutTheEndpointNothingIsExportedAndNoTraceContextReachesTheProvider() throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start(); FakeUpstream upstream = FakeUpstream.start()) {
            RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of(
                    "otel.exporter.otlp.traces.endpoint", receiver.endpoint() + "/v1/traces",
                    "otel.service.name", "cobalt-tracing-off-test",
                    "otel.bsp.schedule.delay", "50"));
            String requestId;
            try (LogCapture logs = LogCapture.start()) {
                GatewayClient client = new GatewayClient(gateway);
                String token = Jwt.token("trace-off-alice");
                String session = client.createSession(token);
                upstream.enqueue(Script.sse(Chunks.delta("Hello."), Chunks.finish("stop"), Chunks.usage(4, 1),
                        Chunks.done()));

                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create(gateway.baseUrl() + "/api/v1/chat/sessions/" + session + "/messages"))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"content\":\"Hi\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).endsWith("data: [DONE]\n\n");
                requestId = r.headers().firstValue("X-Request-Id").orElseThrow();

                RecordedRequest sent = upstream.takeRequest(Duration.ofSeconds(1));
                assertThat(sent.header("traceparent")).isNull();
                assertThat(sent.header("tracestate")).isNull();

                JsonNode line = TracingTest.awaitExchangeLine(logs, requestId);
                assertThat(line.has("trace_id")).isTrue();
                assertThat(line.get("trace_id").isNull()).isTrue();
            } finally {
                // a started SDK would flush what it holds now, on the context's stop
                gateway.close();
            }
            assertThat(receiver.paths()).isEmpty();
            assertThat(receiver.spans()).isEmpty();
        }
    }
}
