package com.cobalt.chat.trace;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.cobalt.chat.config.InvalidConfigurationException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.Clock;
import io.vertx.core.MultiMap;

/**
 * The gateway's OpenTelemetry traces, present only when OTEL_EXPORTER_OTLP_ENDPOINT is set: then the SDK is built by
 * OpenTelemetry's autoconfigure module from the standard OTEL_* variables (exporter, protocol, headers, sampler,
 * propagators, resource, batch settings) and every chat request gets a {@link ChatTrace}. When the variable is unset
 * {@link #fromConfiguration} returns null and nothing of OpenTelemetry is started: the code paths that trace check
 * for that null and do nothing else.
 */
public final class ChatTracing implements AutoCloseable {

    /** The instrumentation scope the gateway's spans are reported under. */
    static final String SCOPE = "com.cobalt.chat";
    static final String ENDPOINT_KEY = "otel.exporter.otlp.endpoint";
    static final String ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private final OpenTelemetrySdk sdk;
    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Clock clock = Clock.getDefault();

    ChatTracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
        this.tracer = sdk.getTracer(SCOPE);
        this.propagator = sdk.getPropagators().getTextMapPropagator();
    }

    /**
     * Traces as configured, or null when OTEL_EXPORTER_OTLP_ENDPOINT is unset or blank (or OTEL_SDK_DISABLED=true).
     *
     * @param properties  the gateway's property lookup (application.properties, overrides, the environment by
     *                    Camel's override mode: {@code otel.exporter.otlp.endpoint} is OTEL_EXPORTER_OTLP_ENDPOINT)
     * @param otelEntries every {@code otel.*} property the gateway's configuration holds; they are the SDK's defaults,
     *                    and the OTEL_* environment variables and -Dotel.* system properties still win over them
     * @throws InvalidConfigurationException naming the variable when the endpoint or another OTEL_* value is bad
     */
    public static ChatTracing fromConfiguration(Function<String, String> properties, Map<String, String> otelEntries) {
        String endpoint = blankToNull(properties.apply(ENDPOINT_KEY));
        if (endpoint == null || "true".equalsIgnoreCase(blankToNull(properties.apply("otel.sdk.disabled")))) {
            return null;
        }
        requireHttpUrl(endpoint);
        requireHttpProtocol(properties);
        Map<String, String> defaults = new LinkedHashMap<>();
        // OTLP over HTTP (the collector's port 4318), the protocol the OTLP specification makes the default
        defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
        // the gateway exports traces only: its metrics are Prometheus at /observe/metrics, its logs are its log files
        defaults.put("otel.metrics.exporter", "none");
        defaults.put("otel.logs.exporter", "none");
        defaults.put("otel.service.name", "cobalt-chat-gateway");
        otelEntries.forEach((k, v) -> {
            if (v != null && !v.isBlank()) {
                defaults.put(k, v.trim());
            }
        });
        defaults.put(ENDPOINT_KEY, endpoint);
        try {
            OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .addPropertiesSupplier(() -> defaults)
                    .disableShutdownHook() // the gateway flushes and closes it when its context stops
                    .build()
                    .getOpenTelemetrySdk();
            return new ChatTracing(sdk);
        } catch (ConfigurationException e) {
            throw new InvalidConfigurationException(List.of("OpenTelemetry: " + refusal(e)));
        }
    }

    private static final Pattern OTEL_PROPERTY = Pattern.compile("otel(?:\\.[a-z0-9_-]+)+");

    /**
     * The SDK's message with each otel.* property it names given as its variable too ({@code OTEL_BSP_MAX_QUEUE_SIZE
     * (otel.bsp.max.queue.size)}). The SDK does not echo a header's value; an endpoint's it may, and the only endpoint
     * it checks is the traces one (the general one was checked before): that message is replaced.
     */
    static String refusal(ConfigurationException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.startsWith("OTLP endpoint")) {
            return "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (otel.exporter.otlp.traces.endpoint): must be an http:// or"
                    + " https:// URL";
        }
        Throwable cause = e.getCause();
        if (cause != null && message.startsWith("Unexpected configuration error")) {
            message += " (" + cause.getClass().getSimpleName() + ")";
        }
        Matcher m = OTEL_PROPERTY.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String property = m.group();
            m.appendReplacement(out, Matcher.quoteReplacement(property.toUpperCase(Locale.ROOT).replace('.', '_')
                    .replace('-', '_') + " (" + property + ")"));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Refuses a set OTEL_EXPORTER_OTLP_ENDPOINT that is not an http(s) URL; an unset one is fine (traces off). */
    public static void validate(Function<String, String> properties) {
        String endpoint = blankToNull(properties.apply(ENDPOINT_KEY));
        if (endpoint != null) {
            requireHttpUrl(endpoint);
            requireHttpProtocol(properties);
        }
    }

    /**
     * The exporter sends with the JDK's HttpClient, which speaks OTLP/HTTP only: gRPC would need OkHttp or grpc-java
     * in the jar, so OTEL_EXPORTER_OTLP_PROTOCOL=grpc is refused by name rather than failing inside the SDK.
     */
    static void requireHttpProtocol(Function<String, String> properties) {
        for (String key : List.of("otel.exporter.otlp.protocol", "otel.exporter.otlp.traces.protocol")) {
            String protocol = blankToNull(properties.apply(key));
            if (protocol != null && !protocol.equals("http/protobuf")) {
                throw new InvalidConfigurationException(List.of(key.toUpperCase(Locale.ROOT).replace('.', '_')
                        + ": must be http/protobuf (OTLP over HTTP, port 4318); the gateway does not ship a gRPC sender"));
            }
        }
    }

    static void requireHttpUrl(String endpoint) {
        try {
            URI uri = new URI(endpoint);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return;
            }
        } catch (Exception e) {
            // told below
        }
        // the value is not echoed: a collector URL may carry credentials
        throw new InvalidConfigurationException(List.of(ENDPOINT_VARIABLE
                + ": must be an http:// or https:// URL of an OTLP receiver (e.g. http://otel-collector:4318)"));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /**
     * The span of one chat request, begun as it arrives: a child of the caller's span when its W3C
     * {@code traceparent} header names one. Call on the request's event loop.
     *
     * @param route       the HTTP route as declared, e.g. {@code /v1/chat/completions}
     * @param headers     the request's headers (only the propagation headers are read)
     * @param startedNanos {@code System.nanoTime()} when the request arrived
     */
    public ChatTrace begin(String route, MultiMap headers, long startedNanos) {
        Context parent = propagator.extract(Context.root(), headers, HEADERS);
        long startEpochNanos = clock.now() - (System.nanoTime() - startedNanos);
        Span span = tracer.spanBuilder("POST " + route)
                .setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
                .setAttribute(ChatTrace.HTTP_METHOD, "POST")
                .setAttribute(ChatTrace.HTTP_ROUTE, route)
                .setAttribute(ChatTrace.OPERATION, ChatTrace.CHAT)
                .startSpan();
        return new ChatTrace(tracer, propagator, span, startEpochNanos, startedNanos);
    }

    /** Exports what is still buffered and stops the SDK (the gateway's context stopped). */
    @Override
    public void close() {
        sdk.shutdown().join(10, TimeUnit.SECONDS);
    }

    private static final TextMapGetter<MultiMap> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap carrier) {
            return carrier.names();
        }

        @Override
        public String get(MultiMap carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };
}
