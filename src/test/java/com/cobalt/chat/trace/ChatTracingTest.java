package com.cobalt.chat.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import com.cobalt.chat.config.InvalidConfigurationException;
import org.junit.jupiter.api.Test;

/**
 * How the OTEL_* configuration is taken: unset endpoint is no tracing at all; a value the SDK refuses is a start-up
 * refusal naming the variable, and never shows a header's value (collectors take API keys in headers).
 */
class ChatTracingTest {

    static ChatTracing from(Map<String, String> otel) {
        return ChatTracing.fromConfiguration(otel::get, otel);
    }

    @Test
    void withoutAnEndpointThereIsNoTracing() {
        assertThat(from(Map.of("otel.service.name", "x", "otel.exporter.otlp.traces.endpoint",
                "http://127.0.0.1:4318/v1/traces"))).isNull();
        assertThat(from(Map.of("otel.exporter.otlp.endpoint", "  "))).isNull();
    }

    @Test
    void sdkDisabledIsNoTracingEvenWithAnEndpoint() {
        assertThat(from(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318", "otel.sdk.disabled", "true")))
                .isNull();
    }

    @Test
    void badHeadersAreRefusedByNameWithoutTheirValue() {
        assertThatThrownBy(() -> from(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
                "otel.exporter.otlp.headers", "x-api-key:SECRET-HEADER-VALUE-1")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("OTEL_EXPORTER_OTLP_HEADERS")
                .hasMessageNotContaining("SECRET-HEADER-VALUE-1");
    }

    @Test
    void aBadTracesEndpointIsRefusedByNameWithoutItsValue() {
        assertThatThrownBy(() -> from(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
                "otel.exporter.otlp.traces.endpoint", "ftp://user:SECRET-PASSWORD-2@collector/v1/traces")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .hasMessageNotContaining("SECRET-PASSWORD-2");
    }

    @Test
    void aBadNumberIsRefusedWithTheSdksMessage() {
        assertThatThrownBy(() -> from(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
                "otel.bsp.max.queue.size", "lots")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessage("Invalid configuration:\n  - OpenTelemetry: Invalid value for property OTEL_BSP_MAX_QUEUE_SIZE"
                        + " (otel.bsp.max.queue.size)=lots. Must be a integer.");
    }

    @Test
    void grpcIsRefusedByName() {
        assertThatThrownBy(() -> from(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4317",
                "otel.exporter.otlp.protocol", "grpc")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessage("Invalid configuration:\n  - OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf (OTLP over"
                        + " HTTP, port 4318); the gateway does not ship a gRPC sender");
    }
}
