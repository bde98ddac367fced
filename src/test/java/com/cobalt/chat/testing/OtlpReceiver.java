package com.cobalt.chat.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

/**
 * An OTLP/HTTP trace receiver on loopback, as a collector's {@code /v1/traces} is: it decodes each protobuf
 * ExportTraceServiceRequest (gzip or not) with the OTLP wire classes and keeps the spans, with their resource.
 */
public final class OtlpReceiver implements AutoCloseable {

    /** One received span with the resource and scope it came under. */
    public record Received(Resource resource, String scope, Span span) {

        public String traceId() {
            return hex(span.getTraceId().toByteArray());
        }

        public String spanId() {
            return hex(span.getSpanId().toByteArray());
        }

        public String parentSpanId() {
            return hex(span.getParentSpanId().toByteArray());
        }

        public String name() {
            return span.getName();
        }

        public long startNanos() {
            return span.getStartTimeUnixNano();
        }

        public long endNanos() {
            return span.getEndTimeUnixNano();
        }

        /** The span's attributes as text: strings as they are, numbers and booleans printed, arrays as [a, b]. */
        public java.util.Map<String, String> attributes() {
            java.util.Map<String, String> out = new java.util.TreeMap<>();
            for (KeyValue kv : span.getAttributesList()) {
                out.put(kv.getKey(), text(kv.getValue()));
            }
            return out;
        }

        public String resourceAttribute(String key) {
            return resource.getAttributesList().stream().filter(kv -> kv.getKey().equals(key))
                    .map(kv -> text(kv.getValue())).findFirst().orElse(null);
        }
    }

    private final HttpServer server;
    private final ConcurrentLinkedQueue<Received> spans = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ExportTraceServiceRequest> requests = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> paths = new ConcurrentLinkedQueue<>();

    private OtlpReceiver(HttpServer server) {
        this.server = server;
    }

    public static OtlpReceiver start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            OtlpReceiver receiver = new OtlpReceiver(server);
            server.createContext("/", exchange -> {
                try (exchange) {
                    receiver.paths.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
                    if ("gzip".equalsIgnoreCase(encoding)) {
                        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                            body = in.readAllBytes();
                        }
                    }
                    if (!"/v1/traces".equals(exchange.getRequestURI().getPath())) {
                        exchange.sendResponseHeaders(404, -1);
                        return;
                    }
                    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body);
                    receiver.requests.add(request);
                    for (ResourceSpans rs : request.getResourceSpansList()) {
                        for (ScopeSpans ss : rs.getScopeSpansList()) {
                            for (Span s : ss.getSpansList()) {
                                receiver.spans.add(new Received(rs.getResource(), ss.getScope().getName(), s));
                            }
                        }
                    }
                    byte[] ok = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                    exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
                    exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
                    if (ok.length > 0) {
                        exchange.getResponseBody().write(ok);
                    }
                } catch (IOException | RuntimeException e) {
                    exchange.sendResponseHeaders(400, -1);
                }
            });
            server.setExecutor(Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "otlp-receiver");
                t.setDaemon(true);
                return t;
            }));
            server.start();
            return receiver;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (the exporter adds /v1/traces). */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Every HTTP request received, as "METHOD /path". */
    public List<String> paths() {
        return List.copyOf(paths);
    }

    /** Every export request received, as OTLP's protobuf text format: what a collector would store. */
    public String everythingReceived() {
        StringBuilder b = new StringBuilder();
        requests.forEach(r -> b.append(r).append('\n'));
        return b.toString();
    }

    public List<Received> spans() {
        return List.copyOf(spans);
    }

    /** The spans of one trace, once {@code count} of them arrived (within the deadline), ordered by start time. */
    public List<Received> awaitTrace(String traceId, int count, Duration timeout) {
        return await(s -> s.traceId().equals(traceId), count, timeout);
    }

    /** The spans matching, once {@code count} of them arrived, ordered by start time; fails after the deadline. */
    public List<Received> await(Predicate<Received> filter, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Received> found = new ArrayList<>(spans.stream().filter(filter).toList());
            if (found.size() >= count) {
                found.sort(java.util.Comparator.comparingLong(Received::startNanos));
                return found;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " spans, received " + found.size() + ": "
                        + found.stream().map(Received::name).toList());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

    static String text(AnyValue v) {
        return switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> String.valueOf(v.getIntValue());
            case BOOL_VALUE -> String.valueOf(v.getBoolValue());
            case DOUBLE_VALUE -> String.valueOf(v.getDoubleValue());
            case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpReceiver::text).toList().toString();
            default -> v.toString();
        };
    }

    static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            b.append(String.format("%02x", x));
        }
        return b.toString();
    }
}
