package com.cobalt.chat.http;

import java.lang.reflect.Field;
import java.net.BindException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.impl.Http2ServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import com.cobalt.chat.config.InvalidConfigurationException;
import com.cobalt.chat.trace.ChatTrace;
import com.cobalt.chat.trace.ChatTracing;
import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.platform.http.spi.PlatformHttpConsumer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpEngine;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The platform-http engine, bound as {@code platform-http-engine}. Its consumers run the route asynchronously, so a
 * streaming answer does not hold a Vert.x worker thread while tokens flow (docs/ARCHITECTURE.md, "Streaming"), and it answers the
 * router's own failures (413 body too large, 404, 405) with the JSON error contract.
 */
public class AsyncPlatformHttpEngine extends VertxPlatformHttpEngine {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncPlatformHttpEngine.class);

    private final AtomicBoolean errorHandlersInstalled = new AtomicBoolean();
    private volatile boolean draining;
    /** The OpenAI-compatible chat endpoint, whose body has its own limit (OPENAI_MAX_BODY_BYTES). */
    static final String OPENAI_COMPLETIONS_PATH = "/v1/chat/completions";
    /** The demo provider's endpoint (routes/demo-upstream): the gateway's own requests to it are chat requests too. */
    static final String DEMO_COMPLETIONS_PATH = "/demo/v1/chat/completions";
    /** The requests that call a provider: their blocking steps run on the chat workers, apart from the API's. */
    static final java.util.Set<String> CHAT_PATHS = java.util.Set.of("/api/v1/chat/sessions/{id}/messages",
            "/v1/chat/completions");

    private int workerPoolSize = 32;
    private int chatQueueSize = 10000;
    private int apiPoolSize = 16;
    private int apiQueueSize = 1000;
    private int workerKeepAliveSeconds = 5;
    private boolean h2cEnabled;
    private boolean loopbackHostsOnly;
    private volatile java.util.function.ObjIntConsumer<String> errorCounter;
    private int eventLoops = 1;
    /** Where the chat API listens (HTTP_HOST, HTTP_PORT): opened by {@link #listen()} once the gateway has started. */
    private String listenHost = "0.0.0.0";
    private int listenPort;
    /** Camel's own server and its root router, kept until {@link #listen()} serves the router on the chat port. */
    private volatile VertxPlatformHttpServer camelServer;
    private volatile Router rootRouter;
    /** The servers beyond the first (which Camel's HTTP server owns and closes): closed at stop. */
    private final List<HttpServer> extraServers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private int openAiMaxBodyBytes;
    private volatile ThreadPoolExecutor workers;
    private volatile ThreadPoolExecutor apiWorkers;
    /** Null unless traces are on (OTEL_EXPORTER_OTLP_ENDPOINT): then each chat request gets its span. */
    private ChatTracing tracing;

    /**
     * The chat routes get a worker pool of their own: a request holds one until its provider's first token, and
     * the management server's health and metrics must not queue behind them.
     */
    public void setTracing(ChatTracing tracing) {
        this.tracing = tracing;
    }

    ChatTracing tracing() {
        return tracing;
    }

    public void setWorkerPoolSize(int workerPoolSize) {
        this.workerPoolSize = workerPoolSize;
    }

    /**
     * Chats that wait for a chat worker (HTTP_CHAT_QUEUE_SIZE); beyond it a new chat is refused at once with 503
     * {@code overloaded} and Retry-After, instead of waiting behind hundreds of others.
     */
    private int requestTimeoutSeconds = 30;
    private int idleConnectionTimeoutSeconds = 120;

    /**
     * How long a request may take to arrive (HTTP_REQUEST_TIMEOUT_SECONDS) and a connection with none stay open
     * (HTTP_IDLE_CONNECTION_TIMEOUT_SECONDS): {@link RequestTimeouts}.
     */
    public void setConnectionTimeouts(int requestTimeoutSeconds, int idleConnectionTimeoutSeconds) {
        this.requestTimeoutSeconds = requestTimeoutSeconds;
        this.idleConnectionTimeoutSeconds = idleConnectionTimeoutSeconds;
    }

    /**
     * Camel's own main HTTP server listens on this port of the loopback (any free one) while the routes are added to
     * its router: the chat port itself opens only in {@link #listen()}, once every route is there.
     */
    public static final int CAMEL_SERVER_PORT = 0;
    public static final String CAMEL_SERVER_HOST = "127.0.0.1";

    /** HTTP_HOST and HTTP_PORT: where {@link #listen()} opens the chat API. */
    public void setListenAddress(String host, int port) {
        this.listenHost = host;
        this.listenPort = port;
    }

    /** How many event loops serve the chat API (HTTP_EVENT_LOOPS): one server per loop on the one port. */
    public void setEventLoops(int eventLoops) {
        this.eventLoops = eventLoops;
    }

    public void setChatQueueSize(int chatQueueSize) {
        this.chatQueueSize = chatQueueSize;
    }

    /**
     * Every other API request (sessions, models, usage, admin, the demo provider) runs on a pool of its own
     * (HTTP_API_POOL_SIZE, HTTP_API_QUEUE_SIZE), so chats waiting for a slow provider never delay them - and the
     * demo provider never waits behind the chats that wait for it.
     */
    public void setApiPool(int size, int queueSize) {
        this.apiPoolSize = size;
        this.apiQueueSize = queueSize;
    }

    /**
     * Where the engine's own refusals (overloaded, shutting_down, forbidden_host, 404/405/413/415, and
     * {@link RequestTimeouts}' 408 and broken-chunk 400) are counted.
     */
    public void setErrorCounter(java.util.function.ObjIntConsumer<String> errorCounter) {
        this.errorCounter = errorCounter;
    }

    /** Counts one of the engine's own error answers. */
    void counted(int status, String code) {
        java.util.function.ObjIntConsumer<String> c = errorCounter;
        if (c != null) {
            c.accept(code, status);
        }
    }

    /**
     * With authentication off on a loopback address, only requests whose Host (HTTP/2: :authority) names the loopback
     * are answered: a web page whose domain an attacker points at 127.0.0.1 (DNS rebinding) is otherwise same-origin
     * with the gateway, and could read, send and delete the one user's chats from the victim's browser.
     */
    public void setLoopbackHostsOnly(boolean loopbackHostsOnly) {
        this.loopbackHostsOnly = loopbackHostsOnly;
    }

    /** Whether a request's authority names this machine's loopback: localhost, 127.0.0.1 or [::1], any port. */
    static boolean loopbackAuthority(io.vertx.core.net.HostAndPort authority) {
        if (authority == null) {
            return false;
        }
        String host = authority.host().toLowerCase(java.util.Locale.ROOT);
        return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1");
    }

    /** Cleartext HTTP/2 on the chat port (HTTP_H2C_ENABLED, validated at start); off by default. */
    public void setH2cEnabled(boolean h2cEnabled) {
        this.h2cEnabled = h2cEnabled;
    }

    /** The body limit of POST /v1/chat/completions (OPENAI_MAX_BODY_BYTES); 0 leaves it at HTTP_MAX_BODY_BYTES. */
    public void setOpenAiMaxBodyBytes(int openAiMaxBodyBytes) {
        this.openAiMaxBodyBytes = openAiMaxBodyBytes;
    }

    /**
     * How long an idle route worker lives. Workers are needed only until a provider's first token; a burst of new
     * chats starts up to {@link #setWorkerPoolSize} of them, and once it is admitted they go away again, so thousands
     * of open streams do not keep hundreds of idle threads (a Vert.x worker pool never shrinks).
     */
    public void setWorkerKeepAliveSeconds(int workerKeepAliveSeconds) {
        this.workerKeepAliveSeconds = workerKeepAliveSeconds;
    }

    /**
     * The pool a route's requests run on: chats on the chat workers, the rest on the API workers. Both queues are
     * bounded and a full one rejects (never runs the task on the caller, which is the event loop).
     */
    Executor workersFor(String path) {
        return CHAT_PATHS.contains(path) ? chatWorkers() : apiWorkers();
    }

    private synchronized Executor chatWorkers() {
        if (workers == null) {
            workers = pool("chat-routes-", workerPoolSize, chatQueueSize);
        }
        return workers;
    }

    private synchronized Executor apiWorkers() {
        if (apiWorkers == null) {
            apiWorkers = pool("api-routes-", apiPoolSize, apiQueueSize);
        }
        return apiWorkers;
    }

    private ThreadPoolExecutor pool(String name, int size, int queueSize) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, name + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, Math.max(1, workerKeepAliveSeconds),
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(Math.max(1, queueSize)), factory,
                new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @Override
    protected void doStop() throws Exception {
        if (workers != null) {
            workers.shutdown();
        }
        if (apiWorkers != null) {
            apiWorkers.shutdown();
        }
        for (HttpServer server : extraServers) {
            server.close();
        }
        extraServers.clear();
        super.doStop();
    }

    /**
     * From now on every new request is answered 503 shutting_down; requests under way go on. Every HTTP/2 connection
     * of the chat port gets a GOAWAY now ({@link #goAway}).
     */
    public void drain() {
        draining = true;
        http2Connections.forEach(AsyncPlatformHttpEngine::goAway);
    }

    /**
     * The chat port's HTTP/2 connections (cleartext HTTP/2 on), each until it closes: the drain sends each a GOAWAY.
     * HTTP/1.x connections are RequestTimeouts' business ({@code Connection: close} on each answer from the signal).
     */
    private final Set<HttpConnection> http2Connections = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * How long an HTTP/2 connection told to go away may still carry its streams: past the grace the gateway ends them
     * itself, and the stop closes every connection within its own bound; this only keeps one from lingering forever.
     */
    static final long GOAWAY_CLOSE_SECONDS = 300;

    /**
     * An HTTP/2 connection of the chat port: kept until it closes, and told to go away at once when it comes while
     * shutting down.
     */
    private void http2Connection(HttpConnection connection) {
        if (!(connection instanceof Http2ServerConnection h2) || !(connection instanceof ConnectionBase base)) {
            return;
        }
        http2Connections.add(h2);
        base.channel().closeFuture().addListener(closed -> http2Connections.remove(h2));
        if (base.channelHandlerContext().handler() instanceof io.netty.handler.codec.http2.Http2ConnectionHandler
                handler) {
            // an h2c upgrade's connection: its idle time (prior knowledge's gate has had it from its first byte)
            H2cServer.upgraded(base.channel(), handler, requestTimeoutSeconds, idleConnectionTimeoutSeconds,
                    (code, status) -> counted(status, code));
            // each request's :authority checked as HTTP/1.1's Host is, before Vert.x reads it
            handler.decoder().frameListener(new Http2AuthorityCheck(handler.decoder().frameListener(), handler,
                    (code, status) -> counted(status, code)));
        }
        if (draining) {
            goAway(h2);
        }
    }

    /**
     * HTTP/2's graceful close (RFC 9113 6.8): a GOAWAY naming the last stream this instance took, so the client (a
     * balancer, an SDK) opens its next streams on another connection - elsewhere - and knows those it sent after it
     * were not processed; the streams under way finish, and the connection closes after the last of them. Without it
     * the drain did nothing for HTTP/2: no Connection: close exists there, and a balancer kept sending new streams
     * on the connection, each refused 503 until the stop closed it under them (black-box probe). Idempotent.
     */
    private static void goAway(HttpConnection connection) {
        ((ConnectionBase) connection).getContext()
                .runOnContext(v -> connection.shutdown(GOAWAY_CLOSE_SECONDS, TimeUnit.SECONDS));
    }

    public boolean draining() {
        return draining;
    }

    @Override
    public PlatformHttpConsumer createConsumer(PlatformHttpEndpoint endpoint, Processor processor) {
        // Camel's server registers its router under its configured port (CAMEL_SERVER_PORT), not the one it took
        String routerName = VertxPlatformHttpRouter.getRouterNameFromPort(CAMEL_SERVER_PORT);
        installErrorHandlers(routerName);
        return new AsyncPlatformHttpConsumer(endpoint, processor, getHandlers(), routerName, this);
    }

    private void installErrorHandlers(String routerName) {
        VertxPlatformHttpRouter platformRouter = VertxPlatformHttpRouter.lookup(getCamelContext(), routerName);
        if (platformRouter == null || !errorHandlersInstalled.compareAndSet(false, true)) {
            return;
        }
        Router router = rootRouter(platformRouter);
        camelServer = platformRouter.getServer();
        rootRouter = router;
        // every response gets its X-Request-Id here, the router's own errors too; and while shutting down, Camel
        // removes the routes' handlers before the server closes: answer 503, not 404
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            if (tracing != null) {
                ctx.put(ARRIVED_NANOS, System.nanoTime()); // the span of a chat refused before its route
            }
            String requestId = AsyncPlatformHttpConsumer.requestId(
                    ctx.request().getHeader(AsyncPlatformHttpConsumer.REQUEST_ID));
            ctx.put(AsyncPlatformHttpConsumer.REQUEST_ID, requestId);
            ctx.response().putHeader(AsyncPlatformHttpConsumer.REQUEST_ID, requestId)
                    .putHeader(ResponseWriter.CONTENT_TYPE_OPTIONS, ResponseWriter.NOSNIFF);
            if (malformedPercentEncoding(ctx.request().uri())) {
                // a '%' not followed by two hex digits cannot be decoded: Vert.x failed the request with its
                // plain-text "Bad Request" (no JSON, no Content-Type), and only once a route read the query
                // (black-box probe, 2026-12-05)
                counted(400, "invalid_request");
                ResponseWriter.writeJson(ctx.response(), 400, ResponseWriter.errorJson(ctx.request().path(), 400,
                        "invalid_request",
                        MALFORMED_URI));
            } else if (draining) {
                counted(503, "shutting_down");
                ctx.response().putHeader("Retry-After", "1");
                ResponseWriter.writeJson(ctx.response(), 503, ResponseWriter.errorJson(ctx.request().path(), 503,
                        "shutting_down", "The gateway is shutting down"));
                traceRefusedChat(ctx, 503);
            } else if (ctx.request().method() == HttpMethod.HEAD) {
                // RFC 9110 9.3.2: HEAD wherever GET is - the GET route answers, and Vert.x sends its headers only
                // (a HEAD on a GET resource was a 405: health checkers that send HEAD saw a failing instance)
                ctx.reroute(HttpMethod.GET, ctx.request().uri());
            } else if (encodedBody(ctx.request().getHeader("Content-Encoding"))) {
                // RFC 9110 8.4.1: a content coding the server does not take is a 415; read as it came, a gzip body
                // was a 400 "not valid UTF-8" (black-box probe, 2026-12-05)
                counted(415, "unsupported_media_type");
                ResponseWriter.writeJson(ctx.response(), 415, ResponseWriter.errorJson(ctx.request().path(), 415,
                        "unsupported_media_type", "Content-Encoding is not supported: send the body uncompressed"));
                traceRefusedChat(ctx, 415);
            } else if (loopbackHostsOnly && !loopbackAuthority(ctx.request().authority())) {
                counted(403, "forbidden_host");
                ResponseWriter.writeJson(ctx.response(), 403, ResponseWriter.errorJson(ctx.request().path(), 403,
                        "forbidden_host", "With authentication off the gateway answers only requests addressed to"
                                + " localhost, 127.0.0.1 or [::1]"));
                traceRefusedChat(ctx, 403);
            } else {
                ctx.next();
            }
        });
        if (openAiMaxBodyBytes > 0) {
            // /v1 carries image data URLs: its body is read here with its own limit; Vert.x's body handler runs once
            // per request, so the one Camel puts on every route (HTTP_MAX_BODY_BYTES) passes it on untouched, and
            // every other route keeps that limit while its body streams in
            router.route(OPENAI_COMPLETIONS_PATH).order(Integer.MIN_VALUE + 1)
                    .handler(BodyHandler.create(false).setBodyLimit(openAiMaxBodyBytes));
            // the demo provider takes what the gateway sends any provider: a session's whole context (system prompt
            // and trimmed history) is far larger than one message's body, and a 413 from it failed valid chats
            router.route(DEMO_COMPLETIONS_PATH).order(Integer.MIN_VALUE + 1)
                    .handler(BodyHandler.create(false).setBodyLimit(openAiMaxBodyBytes));
        }
        Handler<RoutingContext> tooLarge = json(413, "body_too_large",
                "The request body is larger than the gateway accepts");
        router.errorHandler(413, ctx -> {
            tooLarge.handle(ctx);
            traceRefusedChat(ctx, 413);
        });
        router.errorHandler(404, json(404, "not_found", "No such resource"));
        Handler<RoutingContext> notAllowed = json(405, "method_not_allowed", "Method not allowed on this resource");
        router.errorHandler(405, ctx -> {
            // RFC 9110 15.5.6: a 405 says which methods the resource has
            String allow = allowedMethods(platformRouter, ctx.normalizedPath());
            if (!allow.isEmpty()) {
                ctx.response().putHeader("Allow", allow);
            }
            notAllowed.handle(ctx);
        });
        router.errorHandler(415, json(415, "unsupported_media_type", "Content-Type must be application/json"));
        // RFC 9110 10.1.1: an expectation the server cannot meet is a 417; Vert.x's body handler answered it in plain
        // text, "Expectation Failed" with no Content-Type (black-box probe)
        router.errorHandler(417, json(417, "expectation_failed", "The only Expect the gateway meets is 100-continue"));
        // a connection closed while its request's body was read (the client went, or RequestTimeouts answered a
        // body whose framing broke and closed it) fails the route with HttpClosedException under the response's
        // status, 200: with no handler for that, Vert.x logged "Unhandled exception in router" at ERROR each time
        Handler<RoutingContext> internal = json(500, "internal_error", "The gateway failed to handle the request");
        router.errorHandler(200, ctx -> {
            if (!ctx.response().closed() && !ctx.response().ended()) {
                internal.handle(ctx);
            }
        });
        router.errorHandler(500, json(500, "internal_error", "The gateway failed to handle the request"));
    }

    /**
     * Opens the chat port, once the gateway has started (every route in the router, the demo provider's included):
     * a balancer that sends a request as soon as the port accepts (open-source nginx has no active health check) got
     * Vert.x's HTML 404 and then the gateway's JSON 404 for the routes not added yet, for 0.5 to 1.7 s of every
     * start (black-box probe, 2026-12-05). Until now the port refuses connections, which a balancer retries on another
     * instance, a POST included. Camel's own server (on a free loopback port, where the routes were added) closes.
     */
    public void listen() {
        VertxPlatformHttpServer server = camelServer;
        Router root = rootRouter;
        if (server != null && root != null) {
            takeOverServer(server, root);
        }
    }

    /**
     * Serves the chat API from a server of our own options, in place of the one Camel's main HTTP server started with
     * Vert.x's defaults (platform-http has no way to pass options): cleartext HTTP/2 (h2c upgrade and prior knowledge)
     * only when HTTP_H2C_ENABLED=true, and HTTP/1.x framing checked by {@link StrictRequestDecoder}. Ours listen on
     * the chat port (HTTP_HOST, HTTP_PORT) and Camel's, on its loopback port, is closed after; Camel's service then
     * stops ours at shutdown.
     *
     * <p>A port that cannot be listened on refuses the start (exit code 2): Camel's own server only logs a warning
     * and the gateway would run without its chat API, healthy by every check.
     */
    private void takeOverServer(VertxPlatformHttpServer camelServer, Router root) {
        HttpServer original = camelServer.getServer();
        int port = listenPort;
        String host = listenHost;
        boolean h2c = h2cEnabled;
        HttpServerOptions options = serverOptions(h2c);
        // one server per event loop, all on the one port: Vert.x hands each new connection to the next of them in
        // turn, and a connection (with every stream on it) stays on its server's loop. Each server made outside a
        // Vert.x thread gets an event-loop context of its own, the loops taken in turn.
        List<HttpServer> servers = new java.util.ArrayList<>();
        java.util.function.Supplier<RequestTimeouts> timeouts = () -> new RequestTimeouts(requestTimeoutSeconds,
                idleConnectionTimeoutSeconds, (code, status) -> counted(status, code), this::draining);
        for (int i = 0; i < eventLoops; i++) {
            // with h2c, each connection's HTTP/1.x framing and timeouts are in place before its first byte (H2cServer)
            HttpServer server = h2c ? new H2cServer((io.vertx.core.impl.VertxInternal) camelServer.getVertx(), options,
                    timeouts, requestTimeoutSeconds, idleConnectionTimeoutSeconds, (code, status) -> counted(status, code))
                    : camelServer.getVertx().createHttpServer(options);
            servers.add(server
                    .connectionHandler(connection -> {
                        if (h2c) {
                            http2Connection(connection);
                        } else {
                            strictFraming(connection, options, timeouts.get());
                        }
                    })
                    .invalidRequestHandler(AsyncPlatformHttpEngine::invalidRequest)
                    .requestHandler(h2c ? request -> root.handle(ReadHttp2Request.of(request)) : root));
        }
        HttpServer strict = servers.get(0);
        try {
            strict.listen(port, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            int bound = strict.actualPort(); // with HTTP_PORT=0 (any free port) the others share the one it took
            for (HttpServer server : servers.subList(1, servers.size())) {
                server.listen(bound, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while starting the HTTP server", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new InvalidConfigurationException(List.of(listenProblem(host, port, cause)));
        }
        if (original != null) {
            try {
                original.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("Could not close Camel's default HTTP server: {}", e.getClass().getSimpleName());
            }
        }
        extraServers.addAll(servers.subList(1, servers.size()));
        try {
            Field field = VertxPlatformHttpServer.class.getDeclaredField("server");
            field.setAccessible(true);
            field.set(camelServer, strict);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Camel would then not close it at stop; Vert.x closes it with the Vert.x instance
            LOG.warn("Cannot hand the HTTP server to Camel ({}); it closes with Vert.x", e.getClass().getSimpleName());
        }
        LOG.info("Chat API listening on {}:{} (HTTP/1.1 with strict framing{}; {} event loop(s))", host,
                strict.actualPort(), h2c ? ", cleartext HTTP/2" : "; cleartext HTTP/2 off", servers.size());
    }

    /**
     * Why the chat port could not be listened on, naming the setting to mend: a busy port is HTTP_PORT's, a host name
     * that does not resolve or an address this machine does not have is HTTP_HOST's (both were reported as
     * HTTP_PORT's, black-box probe).
     */
    static String listenProblem(String host, int port, Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (message.contains("Cannot assign requested address")) {
            // a BindException on NIO, a NativeIoException on epoll
            return "HTTP_HOST=" + host + ": not an address of this machine";
        }
        if (cause instanceof java.net.UnknownHostException || message.contains("Failed to resolve")) {
            return "HTTP_HOST=" + host + ": the name does not resolve to an address";
        }
        if (cause instanceof BindException || message.contains("in use")) {
            return "HTTP_PORT=" + port + ": cannot listen on " + host + ":" + port + " (the port is already in use)";
        }
        return "HTTP_PORT=" + port + ": cannot listen on " + host + ":" + port + " ("
                + cause.getClass().getSimpleName() + ")";
    }

    /**
     * HTTP/1.x's decoder replaced by {@link StrictRequestDecoder}, and with {@code timeouts} (null: none) the time a
     * request may take to arrive and an idle connection may stay ({@link RequestTimeouts}). Only on servers without
     * cleartext HTTP/2: with it, {@link H2cServer} puts both in place as soon as a connection turns out to be HTTP/1.x.
     */
    private static void strictFraming(HttpConnection connection, HttpServerOptions options, RequestTimeouts timeouts) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
            if (pipeline.get(StrictRequestDecoder.PIPELINE_NAME) instanceof VertxHttpRequestDecoder
                    && !(pipeline.get(StrictRequestDecoder.PIPELINE_NAME) instanceof StrictRequestDecoder)) {
                boolean timed = timeouts != null && pipeline.get(HTTP_ENCODER) != null;
                pipeline.replace(StrictRequestDecoder.PIPELINE_NAME, StrictRequestDecoder.PIPELINE_NAME,
                        new StrictRequestDecoder(options, timed ? timeouts : null));
                if (timed && pipeline.get(RequestTimeouts.PIPELINE_NAME) == null) {
                    pipeline.addAfter(HTTP_ENCODER, RequestTimeouts.PIPELINE_NAME, timeouts);
                }
            }
        }
    }

    /** Vert.x's name of the HTTP/1.x response encoder in a connection's pipeline. */
    private static final String HTTP_ENCODER = "httpEncoder";

    /** A request the decoder refused: framing we do not accept is a JSON 400, and the connection closes after it. */
    /**
     * A request HTTP/1.x's decoder could not take is answered like every other refusal - a JSON error with its
     * request id - and the connection closed: framing the gateway refuses ({@link StrictRequestDecoder}: 400), a
     * request line past Vert.x's limit (414), headers past it (431), or no HTTP at all (400). Vert.x's own handler
     * answered the last three with an empty body (helper audit, 2026-12-04).
     */
    private static void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status;
        String code;
        String message;
        if (cause instanceof StrictRequestDecoder.Refused refused) {
            status = refused.status();
            code = refused.code();
            message = refused.getMessage();
        } else if (cause instanceof TooLongHttpLineException) {
            status = 414;
            code = "uri_too_long";
            message = "The request line is longer than the gateway accepts";
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            code = "headers_too_large";
            message = "The request headers are larger than the gateway accepts";
        } else {
            status = 400;
            code = "invalid_request";
            message = "The request is not valid HTTP";
        }
        // the path of a line too long to read, or of no request at all, is not the caller's: the gateway's own errors
        String path = status == 414 || request.path() == null ? "/" : request.path();
        HttpServerResponse response = request.response();
        response.putHeader("Connection", "close")
                .putHeader(AsyncPlatformHttpConsumer.REQUEST_ID, AsyncPlatformHttpConsumer.newRequestId());
        ResponseWriter.writeJson(response, status, ResponseWriter.errorJson(path, status, code, message));
        response.close();
    }

    /**
     * The management port (Camel's own server: health, metrics) answers like the chat port where Vert.x would answer
     * for it: an unknown path a JSON 404 (it was Vert.x's HTML page), a wrong method a JSON 405 with Allow (an empty
     * body), and HEAD wherever GET is (a 405: a balancer's HEAD health check saw a failing instance). Black-box probe,
     * 2026-12-05. Run once the context has started (the server and its router exist then); a server that cannot be
     * reached is left as it is, with a warning.
     */
    public void jsonErrorsOnManagementPort(CamelContext camel) {
        for (Object management : camel.hasServices(
                org.apache.camel.component.platform.http.main.ManagementHttpServer.class)) {
            try {
                Field serverField = management.getClass().getDeclaredField("server");
                serverField.setAccessible(true);
                Object server = serverField.get(management);
                if (!(server instanceof VertxPlatformHttpServer vertxServer)) {
                    continue;
                }
                Field routerField = VertxPlatformHttpServer.class.getDeclaredField("router");
                routerField.setAccessible(true);
                if (!(routerField.get(vertxServer) instanceof Router router)) {
                    continue;
                }
                router.route().order(Integer.MIN_VALUE).handler(ctx -> {
                    ctx.response().putHeader(ResponseWriter.CONTENT_TYPE_OPTIONS, ResponseWriter.NOSNIFF);
                    if (malformedPercentEncoding(ctx.request().uri())) {
                        // the query decoder's IllegalArgumentException was a 500 internal_error here
                        ResponseWriter.writeJson(ctx.response(), 400, ApiError.json("invalid_request", MALFORMED_URI));
                    } else if (ctx.request().method() == HttpMethod.HEAD) {
                        ctx.reroute(HttpMethod.GET, ctx.request().uri());
                    } else {
                        ctx.next();
                    }
                });
                router.errorHandler(404, ctx -> ResponseWriter.writeJson(ctx.response(), 404,
                        ApiError.json("not_found", "No such resource")));
                router.errorHandler(405, ctx -> {
                    // Camel's management routes do not all name their methods; every one of them serves GET
                    String allow = allowedMethods(router, ctx.normalizedPath());
                    ctx.response().putHeader("Allow", allow.isEmpty() ? "GET, HEAD" : allow);
                    ResponseWriter.writeJson(ctx.response(), 405,
                            ApiError.json("method_not_allowed", "Method not allowed on this resource"));
                });
                router.errorHandler(500, ctx -> {
                    if (!ctx.response().closed() && !ctx.response().ended()) {
                        ResponseWriter.writeJson(ctx.response(), 500,
                                ApiError.json("internal_error", "The gateway failed to handle the request"));
                    }
                });
                strictManagementServer(vertxServer, router, requestTimeoutSeconds, idleConnectionTimeoutSeconds);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.warn("Cannot reach the management port's router ({}); its router errors stay Vert.x's",
                        e.getClass().getSimpleName());
            }
        }
    }

    /**
     * The management port read through {@link StrictRequestDecoder} too, as the chat port is: a Host Vert.x cannot
     * parse failed in its router (plain text, an ERROR per request), and one holding a '%' was never answered and
     * held its connection (black-box probe, 2026-12-05). A server of ours listens beside Camel's on the same address
     * and port (Vert.x shares the listening socket between them), then Camel's is closed: no moment without a
     * listener. Camel's service is handed ours, so it stops it at shutdown.
     */
    /**
     * The options of every server of ours (the chat port's, the management port's). No WebSocket compression: the
     * gateway serves no WebSocket, and offering it puts an extension handler in every connection's pipeline that
     * each request and each write of every answer passes through.
     */
    private static HttpServerOptions serverOptions(boolean h2c) {
        return new HttpServerOptions().setHttp2ClearTextEnabled(h2c)
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false);
    }

    private static void strictManagementServer(VertxPlatformHttpServer camelServer, Router router,
                                               int requestTimeoutSeconds, int idleTimeoutSeconds)
            throws ReflectiveOperationException {
        HttpServer original = camelServer.getServer();
        if (original == null || original.actualPort() <= 0) {
            return;
        }
        // HTTP/1.1 only, as the chat port by default: with cleartext HTTP/2 on, Vert.x puts the HTTP/1.x decoder in
        // only once it has seen the first bytes, after the connection handler ran
        HttpServerOptions options = serverOptions(false);
        HttpServer strict = camelServer.getVertx().createHttpServer(options)
                // and the chat port's request and idle timeouts: half a request held a management connection for as
                // long as the client liked, and the file descriptors they use are the chat port's too. Not counted
                // among the chat API's errors, and health checks keep their connections while the gateway drains
                .connectionHandler(connection -> strictFraming(connection, options, new RequestTimeouts(
                        requestTimeoutSeconds, idleTimeoutSeconds, (code, status) -> { }, () -> false)))
                .invalidRequestHandler(AsyncPlatformHttpEngine::invalidRequest)
                .requestHandler(router);
        try {
            strict.listen(original.actualPort(), camelServer.getHost()).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            original.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Could not put strict framing on the management port ({}); it stays Vert.x's",
                    e.getClass().getSimpleName());
            strict.close();
            return;
        }
        Field field = VertxPlatformHttpServer.class.getDeclaredField("server");
        field.setAccessible(true);
        field.set(camelServer, strict);
    }

    static final String MALFORMED_URI =
            "The request's URL is not valid: a '%' in its path or query is not followed by two hex digits";

    /** A '%' in the URI that is not the start of a percent-encoded octet ({@code %ZZ}, a lone or trailing '%'). */
    static boolean malformedPercentEncoding(String uri) {
        if (uri == null) {
            return false;
        }
        for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
            if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0
                    || Character.digit(uri.charAt(i + 2), 16) < 0) {
                return true;
            }
        }
        return false;
    }

    /** A Content-Encoding other than none or identity: the body would have to be decoded, which the gateway does not. */
    static boolean encodedBody(String contentEncoding) {
        return contentEncoding != null && !contentEncoding.isBlank()
                && !"identity".equalsIgnoreCase(contentEncoding.trim());
    }

    /**
     * Vert.x answers unmatched paths, wrong methods and over-long bodies from the server's root router, which
     * platform-http keeps private; without it those answers would be HTML.
     */
    private static Router rootRouter(VertxPlatformHttpRouter platformRouter) {
        try {
            Field field = VertxPlatformHttpServer.class.getDeclaredField("router");
            field.setAccessible(true);
            Object root = field.get(platformRouter.getServer());
            if (root instanceof Router r) {
                return r;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Cannot reach the HTTP root router ({}); router errors will not be JSON", e.getClass().getSimpleName());
        }
        return platformRouter;
    }

    /**
     * The methods the routes serve at this path, sorted and comma-separated ("" when none matches): each route's
     * path with its {@code :param} segments read as one segment each, and a route matching on a prefix
     * ({@code matchOnUriPrefix}: /assets/..., /v1/models/{model}/...) matching the paths under it too. {@code path}
     * is the one the router matched: normalised ({@code //} as {@code /}), and a trailing {@code /} matches as the
     * router matches it. Run only for a 405.
     */
    static String allowedMethods(Router routes, String path) {
        Set<String> methods = new TreeSet<>();
        if (path == null) {
            return "";
        }
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        for (Route route : routes.getRoutes()) {
            String pattern = route.getPath();
            if (pattern == null || route.methods() == null || !pathMatches(pattern, route.isExactPath(), path)) {
                continue;
            }
            route.methods().forEach(m -> methods.add(m.name()));
        }
        if (methods.contains("GET")) {
            methods.add("HEAD");
        }
        return String.join(", ", methods);
    }

    private static boolean pathMatches(String pattern, boolean exact, String path) {
        String[] want = pattern.split("/", -1);
        String[] got = path.split("/", -1);
        if (exact ? want.length != got.length : got.length < want.length) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            boolean param = want[i].startsWith(":") && !got[i].isEmpty();
            // a prefix route's last segment is a prefix of the path's (/assets* serves /assets/app.js)
            boolean prefix = !exact && i == want.length - 1 && got[i].startsWith(want[i]);
            if (!param && !prefix && !want[i].equals(got[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * A chat refused by the server before its route and so its span began (AsyncPlatformHttpConsumer) - while its body
     * was read (413 body_too_large), or before (415 for a Content-Encoding, 403 forbidden_host, 503 shutting_down): its
     * span, named after the chat route its path matches, from its arrival to the
     * refusal. Not in camel_exchanges_* (no route ran); chat_errors_total counts it.
     */
    private void traceRefusedChat(RoutingContext ctx, int status) {
        ChatTracing t = tracing;
        if (t == null || ctx.request().method() != HttpMethod.POST) {
            return;
        }
        // the failure reaches the root router from the routes' own router (mounted at /): the route that matched is
        // not at hand, its path is
        String route = null;
        for (Map.Entry<String, Pattern> chat : CHAT_PATH_PATTERNS.entrySet()) {
            if (chat.getValue().matcher(ctx.normalizedPath()).matches()) {
                route = chat.getKey();
            }
        }
        if (route == null) {
            return;
        }
        Long arrived = ctx.get(ARRIVED_NANOS);
        ChatTrace trace = t.begin(route, ctx.request().headers(),
                arrived != null ? arrived : System.nanoTime());
        String requestId = ctx.response().headers().get(AsyncPlatformHttpConsumer.REQUEST_ID);
        if (requestId != null) {
            trace.requestId(requestId);
        }
        trace.end(status);
    }

    /** Each chat route and what its path matches, as the router matches it (a {param} is one path segment). */
    private static final Map<String, Pattern> CHAT_PATH_PATTERNS = CHAT_PATHS.stream()
            .collect(Collectors.toUnmodifiableMap(p -> p, p -> Pattern.compile(Arrays.stream(p.split("/", -1))
                    .map(segment -> segment.startsWith("{") ? "[^/]+" : Pattern.quote(segment))
                    .collect(Collectors.joining("/")))));

    /** The routing context's key of System.nanoTime() when the request arrived (the first handler). */
    private static final String ARRIVED_NANOS = "cobaltArrivedNanos";

    private Handler<RoutingContext> json(int status, String code, String message) {
        return ctx -> {
            counted(status, code);
            if (ctx.response().headers().get(AsyncPlatformHttpConsumer.REQUEST_ID) == null) {
                // a request target that is not a path (OPTIONS *, CONNECT host:port) is failed by the router before
                // any handler runs, the one that gives every answer its request id too (black-box probe, 2026-12-05)
                ctx.response().putHeader(AsyncPlatformHttpConsumer.REQUEST_ID, AsyncPlatformHttpConsumer.requestId(
                        ctx.request().getHeader(AsyncPlatformHttpConsumer.REQUEST_ID)));
            }
            // the shape by the path the router matched: //v1/models is /v1/models
            ResponseWriter.writeJson(ctx.response(), status,
                    ResponseWriter.errorJson(ctx.normalizedPath(), status, code, message));
        };
    }
}
