package com.cobalt.chat.http;

import java.lang.reflect.Field;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.component.platform.http.spi.PlatformHttpConsumer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpEngine;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The platform-http engine, bound as {@code platform-http-engine}. Its consumers run the route asynchronously, so a
 * streaming answer does not hold a Vert.x worker thread while tokens flow (DESIGN.md, "Threads"), and it answers the
 * router's own failures (413 body too large, 404, 405) with the JSON error contract.
 */
public class AsyncPlatformHttpEngine extends VertxPlatformHttpEngine {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncPlatformHttpEngine.class);

    private final AtomicBoolean errorHandlersInstalled = new AtomicBoolean();
    private volatile boolean draining;
    private int workerPoolSize = 200;
    private int workerKeepAliveSeconds = 5;
    private volatile ThreadPoolExecutor workers;

    /**
     * The chat routes get a worker pool of their own: a request holds one until its provider's first token, and
     * the management server's health and metrics must not queue behind them.
     */
    public void setWorkerPoolSize(int workerPoolSize) {
        this.workerPoolSize = workerPoolSize;
    }

    /**
     * How long an idle route worker lives. Workers are needed only until a provider's first token; a burst of new
     * chats starts up to {@link #setWorkerPoolSize} of them, and once it is admitted they go away again, so thousands
     * of open streams do not keep hundreds of idle threads (a Vert.x worker pool never shrinks).
     */
    public void setWorkerKeepAliveSeconds(int workerKeepAliveSeconds) {
        this.workerKeepAliveSeconds = workerKeepAliveSeconds;
    }

    Executor workers() {
        ThreadPoolExecutor w = workers;
        if (w == null) {
            synchronized (this) {
                if (workers == null) {
                    AtomicInteger n = new AtomicInteger();
                    ThreadFactory factory = r -> {
                        Thread t = new Thread(r, "chat-routes-" + n.getAndIncrement());
                        t.setDaemon(true);
                        return t;
                    };
                    ThreadPoolExecutor pool = new ThreadPoolExecutor(workerPoolSize, workerPoolSize,
                            Math.max(1, workerKeepAliveSeconds), TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
                    pool.allowCoreThreadTimeOut(true);
                    workers = pool;
                }
                w = workers;
            }
        }
        return w;
    }

    @Override
    protected void doStop() throws Exception {
        if (workers != null) {
            workers.shutdown();
        }
        super.doStop();
    }

    /** From now on every new request is answered 503 shutting_down; requests under way go on. */
    public void drain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    @Override
    public PlatformHttpConsumer createConsumer(PlatformHttpEndpoint endpoint, Processor processor) {
        String routerName = VertxPlatformHttpRouter.getRouterNameFromPort(getServerPort());
        installErrorHandlers(routerName);
        return new AsyncPlatformHttpConsumer(endpoint, processor, getHandlers(), routerName, this);
    }

    private void installErrorHandlers(String routerName) {
        VertxPlatformHttpRouter platformRouter = VertxPlatformHttpRouter.lookup(getCamelContext(), routerName);
        if (platformRouter == null || !errorHandlersInstalled.compareAndSet(false, true)) {
            return;
        }
        Router router = rootRouter(platformRouter);
        // every response gets its X-Request-Id here, the router's own errors too; and while shutting down, Camel
        // removes the routes' handlers before the server closes: answer 503, not 404
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            String requestId = AsyncPlatformHttpConsumer.requestId(
                    ctx.request().getHeader(AsyncPlatformHttpConsumer.REQUEST_ID));
            ctx.put(AsyncPlatformHttpConsumer.REQUEST_ID, requestId);
            ctx.response().putHeader(AsyncPlatformHttpConsumer.REQUEST_ID, requestId)
                    .putHeader(ResponseWriter.CONTENT_TYPE_OPTIONS, ResponseWriter.NOSNIFF);
            if (draining) {
                ResponseWriter.writeJson(ctx.response(), 503, ResponseWriter.errorJson(ctx.request().path(), 503,
                        "shutting_down", "The gateway is shutting down"));
            } else {
                ctx.next();
            }
        });
        router.errorHandler(413, json(413, "body_too_large", "The request body is larger than the gateway accepts"));
        router.errorHandler(404, json(404, "not_found", "No such resource"));
        router.errorHandler(405, json(405, "method_not_allowed", "Method not allowed on this resource"));
        router.errorHandler(415, json(415, "unsupported_media_type", "Content-Type must be application/json"));
        router.errorHandler(500, json(500, "internal_error", "The gateway failed to handle the request"));
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

    private static Handler<RoutingContext> json(int status, String code, String message) {
        return ctx -> ResponseWriter.writeJson(ctx.response(), status,
                ResponseWriter.errorJson(ctx.request().path(), status, code, message));
    }
}
