package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
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
 * <li>{@link Gate}, first in the pipeline, times the connection until its protocol is known (idle until its first
 * byte, then HTTP_REQUEST_TIMEOUT_SECONDS for the rest of a request head) and, for HTTP/2 with prior knowledge, for
 * its whole life: a header block (or any frame but DATA) begun must be whole within the request timeout, and a
 * connection with no stream open closes after HTTP_IDLE_CONNECTION_TIMEOUT_SECONDS, with a GOAWAY.</li>
 * <li>{@link Decided}, right behind Vert.x's protocol detector, sees the first bytes once the protocol is chosen: for
 * HTTP/1.x it puts {@link StrictRequestDecoder} in place of Vert.x's decoder and {@link RequestTimeouts} behind the
 * encoder before the first request is decoded, so every request of the connection, the first included, is framed and
 * timed as on the default server; for HTTP/2 it hands the connection to its {@link Gate}.</li>
 * </ul>
 * An HTTP/2 connection made by an h2c upgrade starts as HTTP/1.x: its upgrade request is timed by RequestTimeouts, and
 * from the upgrade on its idle time by a {@link Gate} outside the pipeline ({@link #upgraded}), which cannot see its
 * frames (Vert.x removes every handler but its own at the upgrade).
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
            Gate gate = new Gate(channel, requestTimeoutNanos, idleTimeoutNanos, refusals, true);
            pipeline.addLast(DECIDED, new Decided(gate, options, timeouts));
            pipeline.addFirst(GATE, gate);
        };
    }

    /**
     * An HTTP/2 connection made by an h2c upgrade: its idle time from here on (its frames are not seen: a header
     * block left half way is not timed there).
     */
    static void upgraded(Channel channel, Http2ConnectionHandler handler, int requestTimeoutSeconds,
                         int idleTimeoutSeconds, java.util.function.ObjIntConsumer<String> refusals) {
        if (channel.pipeline().get(GATE) instanceof Gate) {
            return; // prior knowledge: its gate has it already
        }
        new Gate(channel, TimeUnit.SECONDS.toNanos(requestTimeoutSeconds), TimeUnit.SECONDS.toNanos(idleTimeoutSeconds),
                refusals, false).http2(handler);
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
                gate.http1();
            } else if (pipeline.get(Http2ConnectionHandler.class) != null) {
                gate.http2(pipeline.get(Http2ConnectionHandler.class));
            } else {
                gate.http1(); // neither (the server refused the connection): nothing left to time
            }
            pipeline.remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Times a connection of the h2c server: until its protocol is known, and for HTTP/2 for its whole life (see
     * {@link H2cServer}). Everything runs on the connection's event loop.
     */
    static final class Gate extends ChannelInboundHandlerAdapter {
        private final Channel channel;
        private final long requestTimeoutNanos;
        private final long idleTimeoutNanos;
        private final java.util.function.ObjIntConsumer<String> refusals;
        /** Whether this gate reads the connection's bytes from its first (prior knowledge), or only its streams. */
        private final boolean seesFrames;
        private final Frames frames = new Frames();
        private Http2ConnectionHandler http2;
        private ScheduledFuture<?> timer;
        /** What the timer is for: a request head under way (else: idleness). */
        private boolean timingHead;
        private boolean done;

        Gate(Channel channel, long requestTimeoutNanos, long idleTimeoutNanos,
             java.util.function.ObjIntConsumer<String> refusals, boolean seesFrames) {
            this.channel = channel;
            this.requestTimeoutNanos = requestTimeoutNanos;
            this.idleTimeoutNanos = idleTimeoutNanos;
            this.refusals = refusals;
            this.seesFrames = seesFrames;
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
            if (done) {
                ctx.fireChannelRead(msg);
                return;
            }
            if (msg instanceof ByteBuf bytes) {
                frames.read(bytes); // from the first byte: HTTP/2's preface and frames, if it turns out to be HTTP/2
            }
            boolean decided = http2 != null;
            ctx.fireChannelRead(msg);
            if (done) {
                return;
            }
            if (!decided && http2 == null) {
                armHead(); // the start of a request head: the preface's first bytes, Vert.x has not decided yet
            } else {
                update();
            }
        }

        /** HTTP/1.x: RequestTimeouts times it from here. */
        void http1() {
            done();
            if (channel.pipeline().get(GATE) == this) {
                channel.pipeline().remove(this);
            }
        }

        /** HTTP/2: its streams and (with prior knowledge) its frames timed from here. */
        void http2(Http2ConnectionHandler handler) {
            http2 = handler;
            handler.connection().addListener(new Http2ConnectionAdapter() {
                @Override
                public void onStreamActive(Http2Stream stream) {
                    update();
                }

                @Override
                public void onStreamClosed(Http2Stream stream) {
                    update();
                }
            });
            update();
        }

        /** Sets the timer for what the connection is doing now: a head under way, idleness, or neither. */
        private void update() {
            if (done || http2 == null) {
                return;
            }
            if (seesFrames && frames.inHead()) {
                armHead();
            } else if (http2.connection().numActiveStreams() == 0) {
                armIdle();
            } else {
                cancel();
            }
        }

        /** The request timeout, from the first byte of a head (not re-armed while the same head goes on). */
        private void armHead() {
            if (!timingHead || timer == null) {
                arm(requestTimeoutNanos, this::headTimedOut);
                timingHead = true;
            }
        }

        /** The idle timeout, from the moment the connection became idle (frames such as PING do not extend it). */
        private void armIdle() {
            if (timingHead || timer == null) {
                arm(idleTimeoutNanos, this::idleTimedOut);
                timingHead = false;
            }
        }

        private void headTimedOut() {
            timer = null;
            if (done) {
                return;
            }
            refusals.accept("request_timeout", 408);
            byte[] json = ResponseWriter.errorJson("/", 408, "request_timeout", "The request did not arrive in time")
                    .getBytes(StandardCharsets.UTF_8);
            if (http2 == null) {
                // still undecided (the first bytes of the HTTP/2 preface, no more): answered as HTTP/1.1 would be
                done = true;
                channel.writeAndFlush(RequestTimeouts.refusal(408, "Request Timeout", json))
                        .addListener(ChannelFutureListener.CLOSE);
            } else if (http2.connection().numActiveStreams() > 0) {
                // a header block left half way behind answers still being sent: they are not cut for it
                arm(requestTimeoutNanos, this::headTimedOut);
            } else {
                // no stream to answer on (the block never ended): the JSON goes as the GOAWAY's debug data
                goAway(Http2Error.NO_ERROR, Unpooled.wrappedBuffer(json));
            }
        }

        private void idleTimedOut() {
            timer = null;
            if (done) {
                return;
            }
            if (http2 == null) {
                done = true;
                channel.close(); // nothing sent at all: closed silently, as an idle HTTP/1.1 connection is
            } else if (http2.connection().numActiveStreams() == 0 && !(seesFrames && frames.inHead())) {
                goAway(Http2Error.NO_ERROR, Unpooled.EMPTY_BUFFER); // RFC 9113 9.1: an idle connection's close
            }
        }

        private void goAway(Http2Error error, ByteBuf debugData) {
            done = true;
            ChannelHandlerContext ctx = channel.pipeline().context(http2);
            if (ctx == null) {
                debugData.release();
                channel.close();
                return;
            }
            int last = http2.connection().remote().lastStreamCreated();
            http2.goAway(ctx, last, error.code(), debugData, ctx.newPromise())
                    .addListener(ChannelFutureListener.CLOSE);
            ctx.flush();
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

    /**
     * Where an HTTP/2 connection's bytes stand (RFC 9113 3.4, 4.1, 6.2, 6.10), followed from its first byte: frame
     * headers read, payloads skipped by length (never looked at). A head is under way while the preface or a frame
     * other than DATA has come in part, or a header block has not ended (a HEADERS without END_HEADERS, until the
     * CONTINUATION with it).
     */
    static final class Frames {
        private static final int PREFACE_LENGTH = 24;
        private static final int FRAME_HEADER_LENGTH = 9;
        private static final int DATA = 0x0;
        private static final int HEADERS = 0x1;
        private static final int PUSH_PROMISE = 0x5;
        private static final int CONTINUATION = 0x9;
        private static final int END_HEADERS = 0x4;

        private int prefaceLeft = PREFACE_LENGTH;
        /** Bytes of the current frame's header read (0 between frames). */
        private int headerRead;
        private int length;
        private int type;
        private int flags;
        private int payloadLeft;
        private boolean blockOpen;

        void read(ByteBuf bytes) {
            int i = bytes.readerIndex();
            int end = bytes.writerIndex();
            while (i < end) {
                if (prefaceLeft > 0) {
                    int n = Math.min(prefaceLeft, end - i);
                    i += n;
                    prefaceLeft -= n;
                } else if (headerRead < FRAME_HEADER_LENGTH) {
                    int b = bytes.getByte(i++) & 0xff;
                    if (headerRead < 3) {
                        length = (length << 8) | b;
                    } else if (headerRead == 3) {
                        type = b;
                    } else if (headerRead == 4) {
                        flags = b;
                    }
                    if (++headerRead == FRAME_HEADER_LENGTH) {
                        payloadLeft = length;
                        if (payloadLeft == 0) {
                            frameEnded();
                        }
                    }
                } else {
                    int n = Math.min(payloadLeft, end - i);
                    i += n;
                    payloadLeft -= n;
                    if (payloadLeft == 0) {
                        frameEnded();
                    }
                }
            }
        }

        private void frameEnded() {
            if (type == HEADERS || type == PUSH_PROMISE) {
                blockOpen = (flags & END_HEADERS) == 0;
            } else if (type == CONTINUATION && (flags & END_HEADERS) != 0) {
                blockOpen = false;
            }
            headerRead = 0;
            length = 0;
        }

        boolean inHead() {
            return (prefaceLeft > 0 && prefaceLeft < PREFACE_LENGTH) || blockOpen
                    || (headerRead > 0 && (headerRead < FRAME_HEADER_LENGTH || type != DATA));
        }
    }
}
