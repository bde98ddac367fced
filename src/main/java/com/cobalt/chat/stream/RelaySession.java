package com.cobalt.chat.stream;

import java.util.function.BiConsumer;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.UpstreamStream;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * One answer in flight: upstream SSE chunks in, client SSE events out, as they arrive. Everything runs on the
 * caller's event loop, so there is no locking. The client's 200 and SSE headers go out with the first event; if the
 * upstream breaks before that, the session ends with a 502 failure for the route to answer as JSON instead.
 * The session never ends the client's response: {@link SseRelay#endStream} does, once the answer is stored.
 */
final class RelaySession {

    private final UpstreamStream upstream;
    private final ClientConnection client;
    private final HttpServerResponse out;
    private final Vertx vertx;
    private final RelaySettings settings;
    private final BiConsumer<StreamOutcome, ApiError> onFinish;
    private final SseDecoder decoder = new SseDecoder(this::onEvent);
    private final StringBuilder text = new StringBuilder();

    private String finishReason;
    private Integer promptTokens;
    private Integer completionTokens;
    private Long firstTokenMs;
    private boolean committed;
    /** Set first thing when the session ends, so nothing the ending triggers (a reset's callbacks) re-enters it. */
    private boolean terminated;
    private boolean upstreamEnded;
    private long lastUpstreamNanos;
    private long lastWriteNanos;
    private long timerId = -1;

    RelaySession(UpstreamStream upstream, ClientConnection client, Vertx vertx, RelaySettings settings,
                 BiConsumer<StreamOutcome, ApiError> onFinish) {
        this.upstream = upstream;
        this.client = client;
        this.out = client.response();
        this.vertx = vertx;
        this.settings = settings;
        this.onFinish = onFinish;
    }

    void start() {
        if (client.gone()) {
            onClientGone();
            return;
        }
        out.closeHandler(v -> onClientGone());
        lastUpstreamNanos = System.nanoTime();
        timerId = vertx.setPeriodic(settings.tickMs(), id -> onTick());
        if (!upstream.live()) {
            onBytes(upstream.replay());
            onUpstreamEnd();
            return;
        }
        upstream.response().handler(this::onBytes);
        upstream.response().exceptionHandler(this::onUpstreamFailure);
        upstream.response().endHandler(v -> onUpstreamEnd());
        upstream.response().resume();
        Throwable early = upstream.earlyFailure().get();
        if (early != null) {
            // the connection failed while the stream was paused: first let resume() deliver what was queued
            client.context().runOnContext(v -> onUpstreamFailure(early));
        }
    }

    private void onBytes(Buffer buffer) {
        if (terminated) {
            return;
        }
        lastUpstreamNanos = System.nanoTime();
        try {
            decoder.feed(buffer.getBytes());
        } catch (SseDecoder.LineTooLongException e) {
            onBroken("malformed_stream");
        }
    }

    private void onEvent(SseEvent event) {
        if (terminated) {
            return;
        }
        ChunkReading r = ChunkDecoder.read(event);
        if (r.done()) {
            complete();
            return;
        }
        if (r.isError()) {
            onBroken(r.errorCode());
            return;
        }
        if (r.hasContent()) {
            if (firstTokenMs == null) {
                firstTokenMs = (System.nanoTime() - client.startedNanos()) / 1_000_000;
            }
            text.append(r.content());
            write(ClientEvents.delta(r.content()));
        }
        if (r.finishReason() != null) {
            finishReason = r.finishReason();
        }
        if (r.promptTokens() != null) {
            promptTokens = r.promptTokens();
        }
        if (r.completionTokens() != null) {
            completionTokens = r.completionTokens();
        }
    }

    private void onUpstreamEnd() {
        upstreamEnded = true;
        endOfUpstream();
    }

    private void onUpstreamFailure(Throwable failure) {
        upstreamEnded = true;
        endOfUpstream();
    }

    /** No more bytes will come: the answer is whole if the provider said why it finished, else it broke off. */
    private void endOfUpstream() {
        if (terminated) {
            return;
        }
        decoder.end();
        if (terminated) {
            return;
        }
        if (finishReason != null) {
            complete();
        } else {
            onBroken("stream_interrupted");
        }
    }

    private void complete() {
        terminated = true;
        String reason = finishReason == null ? "stop" : finishReason;
        write(ClientEvents.finished(reason));
        String status = "content_filter".equals(reason) ? StreamOutcome.CONTENT_FILTERED : StreamOutcome.COMPLETE;
        finish(new StreamOutcome(status, text.toString(), reason, promptTokens, completionTokens, firstTokenMs, null),
                null);
        if (upstream.live() && !upstreamEnded) {
            // let a well-behaved upstream end by itself so its connection is reused; cut it if it lingers
            upstream.response().handler(b -> { });
            upstream.response().exceptionHandler(t -> { });
            upstream.response().endHandler(v -> upstreamEnded = true);
            vertx.setTimer(settings.drainMs(), t -> resetUpstream());
        }
    }

    private void onBroken(String code) {
        if (terminated) {
            return;
        }
        terminated = true;
        resetUpstream();
        if (committed) {
            write(ClientEvents.error(code, "The provider's stream broke off; the partial answer was kept"));
            finish(new StreamOutcome(StreamOutcome.INTERRUPTED, text.toString(), finishReason, promptTokens,
                    completionTokens, firstTokenMs, code), null);
        } else {
            finish(new StreamOutcome(StreamOutcome.FAILED, "", null, promptTokens, completionTokens, null, code),
                    new ApiError(502, "provider_error", "The provider failed before it answered"));
        }
    }

    private void onClientGone() {
        if (terminated) {
            return;
        }
        terminated = true;
        resetUpstream();
        finish(new StreamOutcome(StreamOutcome.CANCELLED, text.toString(), finishReason, promptTokens,
                completionTokens, firstTokenMs, "client_closed"), null);
    }

    private void onTick() {
        if (terminated) {
            return;
        }
        long now = System.nanoTime();
        if (!upstreamEnded && now - lastUpstreamNanos > settings.idleTimeoutMs() * 1_000_000) {
            onBroken("stream_idle_timeout");
        } else if (committed && now - lastWriteNanos > settings.keepAliveMs() * 1_000_000) {
            write(ClientEvents.KEEP_ALIVE);
        }
    }

    private void write(String event) {
        if (out.closed() || out.ended()) {
            return;
        }
        if (!committed) {
            committed = true;
            out.setStatusCode(200)
                    .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                    .putHeader("Cache-Control", "no-cache")
                    .putHeader("X-Accel-Buffering", "no")
                    .setChunked(true);
        }
        lastWriteNanos = System.nanoTime();
        out.write(event);
        if (out.writeQueueFull() && upstream.live() && !upstreamEnded) {
            upstream.response().pause();
            out.drainHandler(v -> upstream.response().resume());
        }
    }

    private void resetUpstream() {
        if (upstream.live() && !upstreamEnded) {
            upstreamEnded = true;
            upstream.request().reset();
        }
    }

    private void finish(StreamOutcome outcome, ApiError failure) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        onFinish.accept(outcome, failure);
    }
}
