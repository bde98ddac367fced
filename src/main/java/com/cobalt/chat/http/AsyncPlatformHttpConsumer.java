package com.cobalt.chat.http;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import com.cobalt.chat.trace.ChatTrace;
import com.cobalt.chat.trace.ChatTracing;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpConsumer;
import org.apache.camel.util.CaseInsensitiveMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the route on a worker (its first steps may block: JDBC) but through its async processor: once the route goes
 * asynchronous - the provider call, then the SSE relay - the worker is released, and the response is finished in the
 * completion callback on the request's own event loop.
 */
class AsyncPlatformHttpConsumer extends VertxPlatformHttpConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncPlatformHttpConsumer.class);
    static final String REQUEST_ID = "X-Request-Id";
    private static final String INBOUND_HEADERS = "cobaltInboundHeaders";
    private static final Pattern SANE_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    /** Request headers the routes and beans decide on, which a query parameter of the same name must not set. */
    private static final List<String> REQUEST_HEADERS_ONLY =
            List.of("Authorization", "Content-Type", "If-None-Match", "If-Modified-Since");

    private final AsyncPlatformHttpEngine engine;

    AsyncPlatformHttpConsumer(PlatformHttpEndpoint endpoint, Processor processor,
                              List<Handler<RoutingContext>> handlers, String routerName,
                              AsyncPlatformHttpEngine engine) {
        super(endpoint, processor, handlers, routerName);
        this.engine = engine;
    }

    @Override
    protected void handleRequest(RoutingContext ctx) {
        if (isSuspended() || engine.draining()) {
            engine.counted(503, "shutting_down");
            ctx.response().putHeader("Retry-After", "1");
            ResponseWriter.writeJson(ctx.response(), 503, ResponseWriter.errorJson(ctx.request().path(), 503,
                    "shutting_down", "The gateway is shutting down"));
            return;
        }
        Context requestContext = Vertx.currentContext();
        String requestId = ctx.get(REQUEST_ID);
        if (requestId == null) {
            requestId = requestId(ctx.request().getHeader(REQUEST_ID));
            ctx.response().putHeader(REQUEST_ID, requestId);
        }
        Exchange exchange = createExchange(false);
        exchange.setPattern(ExchangePattern.InOut);
        long startedNanos = System.nanoTime();
        exchange.setProperty(ClientConnection.PROPERTY, new ClientConnection(ctx.request(), ctx.response(), requestContext,
                startedNanos, requestId));
        ChatTracing tracing = engine.tracing(); // null unless OTEL_EXPORTER_OTLP_ENDPOINT is set
        ChatTrace trace = null;
        if (tracing != null && AsyncPlatformHttpEngine.CHAT_PATHS.contains(getEndpoint().getPath())) {
            // a chat's span begins as it arrives, the caller's traceparent its parent, and ends with its response
            trace = tracing.begin(getEndpoint().getPath(), ctx.request().headers(), startedNanos);
            trace.requestId(requestId);
            exchange.setProperty(ChatTrace.PROPERTY, trace);
        }
        ChatTrace chatTrace = trace;

        processHttpRequest(exchange, ctx).onComplete(read -> {
            if (read.failed()) {
                finish(ctx, exchange, read.cause());
                return;
            }
            // a path parameter is the path's: Camel appends it to a request header of the same name (a caller's
            // "model: x" made GET /v1/models/gpt-4o look up "[x, gpt-4o]"), so it is set over any such header
            ctx.pathParams().forEach(exchange.getMessage()::setHeader);
            // a query parameter is a header too (Camel's binding): ?Authorization=Bearer <JWT> authenticated the
            // caller with a token in the URL (proxy logs, history, Referer). What the gateway reads as a request
            // header is the request's own, whatever the query holds (black-box probe, 2026-12-05)
            for (String name : REQUEST_HEADERS_ONLY) {
                if (ctx.queryParams().contains(name)) {
                    List<String> values = ctx.request().headers().getAll(name);
                    if (values.isEmpty()) {
                        exchange.getMessage().removeHeader(name);
                    } else {
                        exchange.getMessage().setHeader(name, values.size() == 1 ? values.get(0) : values);
                    }
                }
            }
            // what the request put in the message: a response header still holding one of these values is the
            // caller's own and is not written back (ResponseWriter)
            exchange.setProperty(INBOUND_HEADERS, new CaseInsensitiveMap(exchange.getMessage().getHeaders()));
            try {
                engine.workersFor(getEndpoint().getPath()).execute(() -> {
                    try {
                        createUoW(exchange);
                        getAsyncProcessor().process(exchange,
                                doneSync -> requestContext.runOnContext(v -> finish(ctx, exchange, null)));
                    } catch (Throwable t) {
                        requestContext.runOnContext(v -> finish(ctx, exchange, t));
                    }
                });
            } catch (RejectedExecutionException full) {
                if (engine.draining()) {
                    finish(ctx, exchange, full);
                } else {
                    // every worker busy and the queue full: refuse now rather than queue without bound
                    LOG.warn("Overloaded: {} refused, every worker busy and the queue full", getEndpoint().getPath());
                    ctx.response().putHeader("Retry-After", "1");
                    engine.counted(503, "overloaded");
                    ResponseWriter.writeJson(ctx.response(), 503, ResponseWriter.errorJson(ctx.request().path(), 503,
                            "overloaded", "The gateway is at capacity; retry shortly"));
                    if (chatTrace != null) {
                        chatTrace.end(503);
                    }
                }
            }
        });
    }

    /** A caller's own request id is kept when it is a sane token; otherwise the gateway makes one. */
    static String requestId(String inbound) {
        return inbound != null && SANE_REQUEST_ID.matcher(inbound).matches() ? inbound : newRequestId();
    }

    /**
     * A random (version 4) UUID from the event loop's own {@link ThreadLocalRandom}. {@link UUID#randomUUID()} draws
     * from one SecureRandom behind a JVM-wide lock, and a thread preempted while holding it stalled the event loop
     * for milliseconds (bench/README.md, fix 14). A request id correlates logs; it is no secret.
     */
    static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
        return new UUID(high, low).toString();
    }

    private void finish(RoutingContext ctx, Exchange exchange, Throwable failure) {
        try {
            if (failure != null) {
                LOG.warn("Request failed before its route ran: {}", failure.getClass().getSimpleName());
                ResponseWriter.writeJson(ctx.response(), 500, ResponseWriter.errorJson(ctx.request().path(), 500,
                        "internal_error", "The gateway failed to handle the request"));
            } else if (ctx.response().headWritten()) {
                // streamed: the relay owns the response; make sure it is closed
                if (!ctx.response().ended() && !ctx.response().closed()) {
                    ctx.response().end();
                }
            } else if (!ctx.response().closed()) {
                @SuppressWarnings("unchecked")
                Map<String, Object> inbound = exchange.getProperty(INBOUND_HEADERS, Map.class);
                ResponseWriter.write(ctx.response(), exchange, ctx.request().path(), inbound == null ? Map.of() : inbound);
            }
        } finally {
            ChatTrace trace = exchange.getProperty(ChatTrace.PROPERTY, ChatTrace.class);
            if (trace != null) {
                // after the response ended: for a stream, after its last event. A caller that left before any
                // response was sent got no status (Vert.x would report its default, 200): 0, none on the span
                trace.end(ctx.response().headWritten() ? ctx.response().getStatusCode() : 0);
            }
            doneUoW(exchange);
            releaseExchange(exchange, false);
        }
    }
}
