package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The time an HTTP/1.x connection of the chat API may take to send a request, and to stay open with none.
 * Without these, a connection that sent half a request (slow headers, a body shorter than its Content-Length) or
 * nothing at all stayed open for as long as the client liked: twenty thousand of them used up the process's file
 * descriptors and the gateway stopped answering, readiness included (black-box probe, 2026-12-05).
 * <ul>
 * <li>A request's headers must all arrive within {@code requestTimeoutSeconds} of its first byte, and its body with
 * no pause longer than that between two reads (a large body on a slow link keeps going). Past it the caller gets 408
 * {@code request_timeout} as JSON, with a request id, and the connection closes - unless an answer to the request
 * was already being written (an early 413 or 401), when the connection just closes.</li>
 * <li>A connection with no request in progress and nothing being answered - a new one, or a keep-alive one between
 * requests - closes after {@code idleTimeoutSeconds}, silently, as HTTP/1.1 lets a server close an idle persistent
 * connection. A stream being answered is never timed out here, however quiet (the relay's own timeouts apply).</li>
 * <li>While the gateway shuts down ({@code draining}), a response begun says {@code Connection: close}, and once the
 * connection has no answer left to write it is closed - right after that response, not at the end of the stop. A
 * balancer that kept the connection for its next request then sends it to another instance; before, the connection
 * stayed open until the servers closed and a request sent on it at that moment got no answer at all (a 502 at
 * haproxy, black-box probe, 2026-12-05). A connection idle since the signal is left as it is: a balancer still
 * sending here gets 503 {@code shutting_down} on it, and closing it at the signal would only move that race there.</li>
 * </ul>
 * One per connection, after the response encoder (it sees the decoded requests and the responses as objects);
 * {@link StrictRequestDecoder} reports each read of raw bytes before decoding it, since half a request header
 * decodes into nothing. Everything runs on the connection's event loop.
 */
final class RequestTimeouts extends ChannelDuplexHandler {

    static final String PIPELINE_NAME = "cobaltRequestTimeouts";

    private final long requestTimeoutNanos;
    private final long idleTimeoutNanos;
    /** Where its refusals are counted, as the engine's own (chat_errors_total by status and code). */
    private final java.util.function.ObjIntConsumer<String> refusals;
    /** True from the shutdown signal on (the engine's draining flag). */
    private final java.util.function.BooleanSupplier draining;
    private ChannelHandlerContext context;
    private ScheduledFuture<?> timer;
    /** Bytes of a request have come, not yet all of it. */
    private boolean reading;
    private boolean headersRead;
    /** An answer was begun while the request was still being read. */
    private boolean answeredWhileReading;
    /**
     * An answer was written whole while its request was still being read: a quick refusal (503 while shutting down,
     * 404) goes out as soon as the request's headers are in, before the decoder passes on the request's end. Its end
     * is then not counted in {@link #answering}: the request is done when it has been read.
     */
    private boolean answerEndedWhileReading;
    /** Requests read whose answers have not ended. */
    private int answering;

    RequestTimeouts(int requestTimeoutSeconds, int idleTimeoutSeconds,
            java.util.function.ObjIntConsumer<String> refusals, java.util.function.BooleanSupplier draining) {
        this.requestTimeoutNanos = TimeUnit.SECONDS.toNanos(requestTimeoutSeconds);
        this.idleTimeoutNanos = TimeUnit.SECONDS.toNanos(idleTimeoutSeconds);
        this.refusals = refusals;
        this.draining = draining;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
        arm(idleTimeoutNanos, this::idleTimedOut);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    /** The decoder got bytes from the socket, about to decode them. */
    void bytesRead() {
        if (!reading) {
            reading = true;
            headersRead = false;
            answeredWhileReading = false;
            answerEndedWhileReading = false;
            arm(requestTimeoutNanos, this::requestTimedOut);
        } else if (headersRead) {
            arm(requestTimeoutNanos, this::requestTimedOut); // the body: the pause between two reads
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpContent content && !(msg instanceof HttpRequest)
                && content.decoderResult().isFailure()) {
            // a body whose chunked framing broke (a chunk size that is not hex, or data longer than its size):
            // Vert.x logged two errors and closed without a word; the caller gets the JSON 400 a framing refusal gets
            content.release();
            reading = false;
            if (answering > 0 || answeredWhileReading) {
                ctx.close();
            } else {
                // the strict decoder's own refusal inside a body (a folded trailer line) says what it refused
                refuse(400, "Bad Request", "invalid_request",
                        content.decoderResult().cause() instanceof StrictRequestDecoder.Refused refused
                                ? refused.getMessage() : "The request body's chunked framing is not valid HTTP");
            }
            return;
        }
        if (msg instanceof HttpRequest) {
            headersRead = true;
            arm(requestTimeoutNanos, this::requestTimedOut);
        }
        if (msg instanceof LastHttpContent) {
            reading = false;
            cancel();
            if (!answerEndedWhileReading) {
                answering++;
            } else if (answering == 0) {
                // answered already: the connection is idle from here (before, it was counted as still being answered
                // and never timed out), or done with while shutting down
                super.channelRead(ctx, msg);
                if (draining.getAsBoolean()) {
                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                } else {
                    arm(idleTimeoutNanos, this::idleTimedOut);
                }
                return;
            }
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse && reading) {
            answeredWhileReading = true;
        }
        // read only for a response's head and end: not for every chunk of a streaming answer
        boolean shuttingDown = (msg instanceof HttpResponse || msg instanceof LastHttpContent)
                && draining.getAsBoolean();
        if (msg instanceof HttpResponse response && shuttingDown) {
            HttpUtil.setKeepAlive(response, false);
        }
        if (msg instanceof LastHttpContent && answering == 0 && reading) {
            answerEndedWhileReading = true;
        } else if (msg instanceof LastHttpContent && answering > 0) {
            answering--;
            if (answering == 0 && shuttingDown) {
                // the last answer this connection owes: closed once it is written (not before, which would lose it)
                cancel();
                ChannelPromise written = promise.unvoid();
                written.addListener(ChannelFutureListener.CLOSE);
                super.write(ctx, msg, written);
                return;
            }
            if (answering == 0 && !reading) {
                arm(idleTimeoutNanos, this::idleTimedOut);
            }
        }
        super.write(ctx, msg, promise);
    }

    private void requestTimedOut() {
        if (!reading) {
            return;
        }
        if (answering > 0) {
            // a pipelined request behind an answer still streaming: that answer is not cut for it; checked again
            arm(requestTimeoutNanos, this::requestTimedOut);
            return;
        }
        if (answeredWhileReading) {
            context.close();
            return;
        }
        refuse(408, "Request Timeout", "request_timeout", "The request did not arrive in time");
    }

    /** A JSON error written below the encoders, and the connection closed after it. */
    private void refuse(int status, String reason, String code, String message) {
        cancel();
        refusals.accept(code, status);
        byte[] body = ResponseWriter.errorJson("/", status, code, message).getBytes(StandardCharsets.UTF_8);
        // written below the encoders (from the decoder's place in the pipeline): the encoder holds no response for
        // a request the decoder never finished
        ChannelHandlerContext below = context.pipeline().context(StrictRequestDecoder.PIPELINE_NAME);
        (below != null ? below : context).writeAndFlush(refusal(status, reason, body))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** A JSON refusal as HTTP/1.1 bytes, with a request id, saying the connection closes. */
    static io.netty.buffer.ByteBuf refusal(int status, String reason, byte[] body) {
        String head = "HTTP/1.1 " + status + " " + reason + "\r\n"
                + "Content-Type: application/json\r\n"
                + AsyncPlatformHttpConsumer.REQUEST_ID + ": " + AsyncPlatformHttpConsumer.newRequestId() + "\r\n"
                + "X-Content-Type-Options: " + ResponseWriter.NOSNIFF + "\r\n"
                + ResponseWriter.CACHE_CONTROL + ": no-store\r\n"
                + "Connection: close\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n";
        return Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.ISO_8859_1), body);
    }

    private void idleTimedOut() {
        if (!reading && answering == 0) {
            context.close();
        }
    }

    private void arm(long nanos, Runnable task) {
        cancel();
        if (context.isRemoved()) {
            // taken out while it handled a read (an h2c upgrade's request: Vert.x keeps only its HTTP/2 handler once
            // that request is read): a timer set now would close the HTTP/2 connection after it, streams and all
            return;
        }
        timer = context.executor().schedule(task, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
