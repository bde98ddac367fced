package com.cobalt.chat.stream;

import java.util.function.Consumer;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.UpstreamStream;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * One answer in flight: upstream SSE chunks in, client SSE events out, as they arrive. Everything runs on the
 * caller's event loop, so there is no locking. The client's 200 and SSE headers are written with the first event:
 * if the upstream breaks before that, the client gets a JSON error instead of a 200 with an error inside.
 */
final class RelaySession {

    private final UpstreamStream upstream;
    private final ClientConnection client;
    private final HttpServerResponse out;
    private final Vertx vertx;
    private final RelaySettings settings;
    private final long requestStartNanos;
    private final Consumer<StreamOutcome> onFinish;
    private final SseDecoder decoder = new SseDecoder(this::onEvent);
    private final StringBuilder text = new StringBuilder();

    private String finishReason;
    private Integer promptTokens;
    private Integer completionTokens;
    private Long firstTokenMs;
    private boolean committed;
    private boolean finished;
    private boolean upstreamEnded;
    private long lastUpstreamNanos;
    private long lastWriteNanos;
    private long timerId = -1;

    RelaySession(UpstreamStream upstream, ClientConnection client, Vertx vertx, RelaySettings settings,
                 long requestStartNanos, Consumer<StreamOutcome> onFinish) {
        this.upstream = upstream;
        this.client = client;
        this.out = client.response();
        this.vertx = vertx;
        this.settings = settings;
        this.requestStartNanos = requestStartNanos;
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
        if (upstream.live()) {
            upstream.response().handler(this::onBytes);
            upstream.response().exceptionHandler(t -> onBroken("stream_interrupted"));
            upstream.response().endHandler(v -> onUpstreamEnd());
            upstream.response().resume();
        } else {
            onBytes(upstream.replay());
            onUpstreamEnd();
        }
    }

    private void onBytes(Buffer buffer) {
        if (finished) {
            return;
        }
        lastUpstreamNanos = System.nanoTime();
        try {
            decoder.feed(buffer.getBytes());
        } catch (IllegalStateException tooLong) {
            onBroken("malformed_stream");
        }
    }

    private void onEvent(SseEvent event) {
        if (finished) {
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
                firstTokenMs = (System.nanoTime() - requestStartNanos) / 1_000_000;
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
        if (finished) {
            return;
        }
        decoder.end();
        if (finished) {
            return;
        }
        if (finishReason != null) {
            // the answer is whole even though [DONE] never came
            complete();
        } else {
            onBroken("stream_interrupted");
        }
    }

    private void complete() {
        String reason = finishReason == null ? "stop" : finishReason;
        write(ClientEvents.finished(reason));
        write(ClientEvents.DONE);
        out.end();
        String status = "content_filter".equals(reason) ? StreamOutcome.CONTENT_FILTERED : StreamOutcome.COMPLETE;
        finish(new StreamOutcome(status, text.toString(), reason, promptTokens, completionTokens, firstTokenMs, null));
        if (upstream.live() && !upstreamEnded) {
            // let a well-behaved upstream end by itself so its connection is reused; cut it if it lingers
            upstream.response().handler(b -> { });
            vertx.setTimer(settings.drainMs(), t -> {
                if (!upstreamEnded) {
                    upstream.request().reset();
                }
            });
        }
    }

    private void onBroken(String code) {
        if (finished) {
            return;
        }
        resetUpstream();
        if (committed) {
            write(ClientEvents.error(code, "The provider's stream broke off; the partial answer was kept"));
            out.end();
            finish(new StreamOutcome(StreamOutcome.INTERRUPTED, text.toString(), finishReason, promptTokens,
                    completionTokens, firstTokenMs, code));
        } else {
            out.setStatusCode(502).putHeader("Content-Type", "application/json")
                    .end(ApiError.json("provider_error", "The provider failed before it answered"));
            finish(new StreamOutcome(StreamOutcome.FAILED, "", null, promptTokens, completionTokens, null, code));
        }
    }

    private void onClientGone() {
        if (finished) {
            return;
        }
        resetUpstream();
        finish(new StreamOutcome(StreamOutcome.CANCELLED, text.toString(), finishReason, promptTokens,
                completionTokens, firstTokenMs, "client_closed"));
    }

    private void onTick() {
        if (finished) {
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

    private void finish(StreamOutcome outcome) {
        finished = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        onFinish.accept(outcome);
    }
}
