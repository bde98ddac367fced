package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.SslChannelProvider;

/**
 * The chat port's server with cleartext HTTP/2 on (HTTP_H2C_ENABLED): Vert.x's own, with each new connection's
 * pipeline completed by the gateway the moment it is made, before a byte of it is read.
 *
 * <p>With h2c on, Vert.x makes a connection's HTTP/1.x or HTTP/2 handlers only once it has seen its first bytes, and
 * the connection object (where the gateway could step in) only once an HTTP/1.x request's head has been read, or an
 * HTTP/2 client's SETTINGS. Until then nothing timed it and the first request was read by Vert.x's lenient decoder:
 * a connection that sent nothing, half a request head, the HTTP/2 preface alone or half a HEADERS block stayed open
 * for as long as the client liked, an idle HTTP/2 connection forever, and the first HTTP/1.1 request escaped the
 * strict framing (no Host, two Hosts, a folded line, Content-Length with Transfer-Encoding were all taken, and a Host
 * holding a '%' was never answered: black-box probe, 2026-12-05). Here:
 * <ul>
 * <li>{@link Gate}, first in the pipeline, times the connection until its protocol is known: idle until its first
 * byte (HTTP_IDLE_CONNECTION_TIMEOUT_SECONDS, then closed silently), then HTTP_REQUEST_TIMEOUT_SECONDS for the rest
 * of a request head (the first bytes of the HTTP/2 preface, which Vert.x holds until it can tell), then the JSON 408
 * as on the default server.</li>
 * <li>{@link Decided}, right behind Vert.x's protocol detector, sees the first bytes once the protocol is chosen: for
 * HTTP/1.x it puts {@link StrictRequestDecoder} in place of Vert.x's decoder and {@link RequestTimeouts} behind the
 * encoder before the first request is decoded, so every request of the connection, the first included, is framed and
 * timed as on the default server.</li>
 * </ul>
 */
final class H2cServer extends HttpServerImpl {

    static final String GATE = "cobaltH2cGate";
    static final String DECIDED = "cobaltH2cDecided";
    private static final String HTTP_ENCODER = "httpEncoder";

    private final HttpServerOptions options;
    private final Supplier<RequestTimeouts> timeouts;
    private final long requestTimeoutNanos;
    private final long idleTimeoutNanos;
    private final java.util.function.ObjIntConsumer<String> refusals;

    H2cServer(VertxInternal vertx, HttpServerOptions options, Supplier<RequestTimeouts> timeouts,
              int requestTimeoutSeconds, int idleTimeoutSeconds, java.util.function.ObjIntConsumer<String> refusals) {
        super(vertx, options);
        this.options = options;
        this.timeouts = timeouts;
        this.requestTimeoutNanos = TimeUnit.SECONDS.toNanos(requestTimeoutSeconds);
        this.idleTimeoutNanos = TimeUnit.SECONDS.toNanos(idleTimeoutSeconds);
        this.refusals = refusals;
    }

    @Override
    protected BiConsumer<Channel, SslChannelProvider> childHandler(ContextInternal context, SocketAddress address,
                                                                   GlobalTrafficShapingHandler trafficShaping) {
        BiConsumer<Channel, SslChannelProvider> vertx = super.childHandler(context, address, trafficShaping);
        return (channel, ssl) -> {
            vertx.accept(channel, ssl); // Vert.x's protocol detector, alone in the pipeline
            ChannelPipeline pipeline = channel.pipeline();
            Gate gate = new Gate(channel, requestTimeoutNanos, idleTimeoutNanos, refusals);
            pipeline.addLast(DECIDED, new Decided(gate, options, timeouts));
            pipeline.addFirst(GATE, gate);
        };
    }

    /** Sees the first bytes once Vert.x's detector has chosen the protocol and built its handlers; then leaves. */
    static final class Decided extends ChannelInboundHandlerAdapter {
        private final Gate gate;
        private final HttpServerOptions options;
        private final Supplier<RequestTimeouts> timeouts;

        Decided(Gate gate, HttpServerOptions options, Supplier<RequestTimeouts> timeouts) {
            this.gate = gate;
            this.options = options;
            this.timeouts = timeouts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ChannelPipeline pipeline = ctx.pipeline();
            if (pipeline.get(StrictRequestDecoder.PIPELINE_NAME) instanceof VertxHttpRequestDecoder
                    && pipeline.get(HTTP_ENCODER) != null) {
                RequestTimeouts t = timeouts.get();
                pipeline.addAfter(HTTP_ENCODER, RequestTimeouts.PIPELINE_NAME, t);
                pipeline.replace(StrictRequestDecoder.PIPELINE_NAME, StrictRequestDecoder.PIPELINE_NAME,
                        new StrictRequestDecoder(options, t));
            }
            gate.decided();
            pipeline.remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /** Times a connection of the h2c server until its protocol is known. Runs on the connection's event loop. */
    static final class Gate extends ChannelInboundHandlerAdapter {
        private final Channel channel;
        private final long requestTimeoutNanos;
        private final long idleTimeoutNanos;
        private final java.util.function.ObjIntConsumer<String> refusals;
        private ScheduledFuture<?> timer;
        /** What the timer is for: a request head under way (else: idleness). */
        private boolean timingHead;
        private boolean done;

        Gate(Channel channel, long requestTimeoutNanos, long idleTimeoutNanos,
             java.util.function.ObjIntConsumer<String> refusals) {
            this.channel = channel;
            this.requestTimeoutNanos = requestTimeoutNanos;
            this.idleTimeoutNanos = idleTimeoutNanos;
            this.refusals = refusals;
            channel.closeFuture().addListener(closed -> done());
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            armIdle(); // a connection that sends nothing
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            done();
            super.channelInactive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            ctx.fireChannelRead(msg);
            if (!done) {
                armHead(); // the start of a request head: the preface's first bytes, Vert.x has not decided yet
            }
        }

        /** The protocol is known: HTTP/1.x's RequestTimeouts time it from here. */
        void decided() {
            done();
            if (channel.pipeline().get(GATE) == this) {
                channel.pipeline().remove(this);
            }
        }

        /** The request timeout, from the first byte of a head (not re-armed while the same head goes on). */
        private void armHead() {
            if (!timingHead || timer == null) {
                arm(requestTimeoutNanos, this::headTimedOut);
                timingHead = true;
            }
        }

        private void armIdle() {
            arm(idleTimeoutNanos, this::idleTimedOut);
            timingHead = false;
        }

        private void headTimedOut() {
            timer = null;
            if (done) {
                return;
            }
            // still undecided (the first bytes of the HTTP/2 preface, no more): answered as HTTP/1.1 would be
            done = true;
            refusals.accept("request_timeout", 408);
            byte[] json = ResponseWriter.errorJson("/", 408, "request_timeout", "The request did not arrive in time")
                    .getBytes(StandardCharsets.UTF_8);
            channel.writeAndFlush(RequestTimeouts.refusal(408, "Request Timeout", json))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        private void idleTimedOut() {
            timer = null;
            if (!done) {
                done = true;
                channel.close(); // nothing sent at all: closed silently, as an idle HTTP/1.1 connection is
            }
        }

        private void done() {
            done = true;
            cancel();
        }

        private void arm(long nanos, Runnable task) {
            cancel();
            timer = channel.eventLoop().schedule(task, nanos, TimeUnit.NANOSECONDS);
        }

        private void cancel() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }
    }
}
