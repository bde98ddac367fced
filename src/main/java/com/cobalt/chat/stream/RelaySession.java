package com.cobalt.chat.stream;

import com.cobalt.chat.provider.UpstreamAnswer;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.ProviderFailure;
import com.cobalt.chat.provider.ProviderRejection;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * One provider's answer, from its 2xx headers to its end. Everything runs on the caller's event loop, so there is
 * no locking. It lives in three phases:
 * <ol>
 * <li><b>probing</b> - inside the provider's circuit breaker: upstream events are read until the first output:
 * a content, reasoning or tool-call delta. Anything that goes wrong before it (an error event, a stream that ends without an answer, no first token
 * in time) fails {@link #primed()} with a {@link ProviderFailure}: the breaker counts it and the fallback runs,
 * and the client has seen nothing.</li>
 * <li><b>primed</b> - the first delta is in; the upstream is paused and what the client should get is held until
 * the relay attaches.</li>
 * <li><b>attached</b> - the relay step writes to the client as chunks arrive: the client's 200 and SSE headers go
 * out with the first event. A break now ends with an {@code error} event and the partial answer.</li>
 * </ol>
 * The session never ends the client's response: {@link SseRelay#endStream} does, once the answer is stored.
 */
public final class RelaySession implements UpstreamAnswer {

    /** The response header naming the provider that answered (the body never says). */
    public static final String PROVIDER_HEADER = "X-Cobalt-Provider";
    /** The catalog id of the model that answered: after a fallback, the fallback's (a body's model may not say so). */
    public static final String MODEL_HEADER = "X-Cobalt-Model";
    // the stream's response headers as Netty's ASCII strings: hashed and encoded once (HttpHeaders.createOptimized)
    private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream; charset=utf-8");
    private static final CharSequence CACHE_CONTROL = HttpHeaders.createOptimized("Cache-Control");
    private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache");
    private static final CharSequence ACCEL_BUFFERING = HttpHeaders.createOptimized("X-Accel-Buffering");
    private static final CharSequence NO = HttpHeaders.createOptimized("no");
    private static final CharSequence PROVIDER = HttpHeaders.createOptimized(PROVIDER_HEADER);
    private static final CharSequence MODEL = HttpHeaders.createOptimized(MODEL_HEADER);

    private final ProviderSettings provider;
    private final ProviderSettings.Target target;
    /** The catalog id of the model answering (the {@code X-Cobalt-Model} header). */
    private final String model;
    private final HttpClientRequest request;
    private final HttpClientResponse response;
    private final ClientConnection client;
    private final HttpServerResponse out;
    private final Vertx vertx;
    private final RelaySettings settings;
    private final LiveStreams live;
    private final ClientFormat format;
    private final CompletableFuture<RelaySession> primed = new CompletableFuture<>();
    private final SseDecoder decoder;
    private final ChunkDecoder chunks = new ChunkDecoder();
    /** Since when the provider is paused because the client's write queue is full; -1 when it is not. */
    private long clientBlockedSinceNanos = -1;
    /** UTF-8 bytes of answer text relayed so far (CHAT_MAX_ANSWER_BYTES bounds it). */
    private long answerBytes;
    private final AnswerText text = new AnswerText();
    /** System.nanoTime() when the answer ended (0 while it streams); read by the checkpoint thread. */
    private volatile long endedNanos;
    /**
     * What the client should get before the relay attached (probing, primed): the events' bytes, in one buffer the
     * size of the upstream read that made them, sent as one write when the relay attaches.
     */
    private Buffer held;
    /** The length of the upstream read being decoded: what the events it makes will take, about. */
    private int readLength;
    /**
     * The events of the upstream reads of this event-loop turn, written to the client in one go when the turn's reads
     * are done ({@link #flushAfterReads}): one syscall for the turn, not one per read. Netty hands a chunked response
     * over one HTTP chunk at a time, and OpenAI-compatible servers send each SSE event as a chunk of its own, so the
     * 23 events of a 20-token answer that arrived in one TCP read were 23 writes to the client (bench/README.md fix
     * 39). Null while no flush is pending.
     */
    private Buffer batch;
    /**
     * How many bytes the last turn's batch held (at most {@link #MAX_BATCH_HINT}): the next batch starts that large.
     * Sized by the turn's first read alone, a batch of 20 one-event reads grew five times, each a copy.
     */
    private int lastBatchLength;
    private static final int MAX_BATCH_HINT = 16 * 1024;
    /** Writes the batch; queued on the event loop behind the reads that are being handled (once per turn). */
    private final Handler<Void> flushAfterReads = v -> flushBatch();

    private Consumer<StreamOutcome> onFinish;
    private StreamOutcome heldOutcome;
    private String finishReason;
    private Integer promptTokens;
    private Integer completionTokens;
    private Integer cachedTokens;
    private Integer reasoningTokens;
    /** A reasoning model's thinking so far; stored beside the answer, never part of it. */
    private final StringBuilder reasoning = new StringBuilder();
    /** Tool calls and a refusal kept apart, for the token estimate; null until the model writes any. */
    private SideOutput sideOutput;
    /** Splits {@code <think>} text out of the content, for a model configured so; null otherwise. */
    private final ThinkTags thinkTags;
    private Long firstTokenMs;
    private boolean attached;
    private boolean committed;
    /** Set first thing when the session ends, so nothing the ending triggers (a reset's callbacks) re-enters it. */
    private boolean terminated;
    private boolean upstreamEnded;
    /** The upstream ended and the decoder hands over the event it was in the middle of, if any. */
    private boolean upstreamEnding;
    /** Paused while primed; a connection failure then waits until the queued bytes were delivered. */
    private boolean pausedWhilePrimed;
    private boolean failedWhilePaused;
    /**
     * When the provider last sent a content-bearing event (any {@code data:} event: content, role, tool call,
     * reasoning, usage, finish) - what LLM_STREAM_IDLE_TIMEOUT_MS counts from. Bytes alone do not reset it: a provider
     * that sends only {@code : keep-alive} comments after its first tokens would otherwise hold the stream, and the
     * caller's stream slot, forever (black-box probe: 100 s and counting with an 8 s idle timeout).
     */
    private long lastUpstreamNanos;
    /** When the upstream read being decoded arrived: the time its events are stamped with (one clock read a read). */
    private long readNanos;
    private long lastWriteNanos;
    private long firstTokenTimer = -1;
    private long tickTimer = -1;
    /** A one-shot check at the idle deadline itself, set when the next tick would come after it; -1 when none. */
    private long idleTimer = -1;

    private RelaySession(ProviderSettings provider, ProviderSettings.Target target, String model,
                         HttpClientRequest request, HttpClientResponse response, ClientConnection client, Vertx vertx,
                         RelaySettings settings, LiveStreams live, ClientFormat format, boolean thinkTags) {
        // a whole answer replayed is one line as long as the answer, already bounded by the read of its body
        this.decoder = response == null ? new SseDecoder(this::onEvent, Long.MAX_VALUE) : new SseDecoder(this::onEvent);
        this.format = format;
        this.model = model;
        this.thinkTags = thinkTags ? new ThinkTags() : null;
        this.provider = provider;
        this.target = target;
        this.request = request;
        this.response = response;
        this.client = client;
        this.out = client.response();
        this.vertx = vertx;
        this.settings = settings;
        this.live = live;
    }

    /**
     * Starts probing a live, paused upstream stream. Call on the client's event loop. {@code firstTokenMs} is how
     * long the provider may take, from now, to send its first output (content, reasoning or a tool call).
     * {@code thinkTags}: the model writes its reasoning inline between {@code <think>} tags.
     */
    public static RelaySession probe(ProviderSettings provider, ProviderSettings.Target target, String model,
                                     HttpClientRequest request, HttpClientResponse response,
                                     ClientConnection client, Vertx vertx, RelaySettings settings, LiveStreams live,
                                     ClientFormat format, long firstTokenMs, boolean thinkTags) {
        RelaySession s = new RelaySession(provider, target, model, request, response, client, vertx, settings, live,
                format, thinkTags);
        s.startProbe(firstTokenMs);
        return s;
    }

    /** A whole answer of a model without think tags. */
    public static RelaySession replay(ProviderSettings provider, ProviderSettings.Target target, String model,
                                      Buffer sse, ClientConnection client, Vertx vertx, RelaySettings settings,
                                      LiveStreams live, ClientFormat format) {
        return replay(provider, target, model, sse, client, vertx, settings, live, format, false);
    }

    /** A whole answer the provider sent at once (JSON although a stream was asked), re-framed as SSE bytes. */
    public static RelaySession replay(ProviderSettings provider, ProviderSettings.Target target, String model,
                                      Buffer sse, ClientConnection client, Vertx vertx, RelaySettings settings,
                                      LiveStreams live, ClientFormat format, boolean thinkTags) {
        RelaySession s = new RelaySession(provider, target, model, null, null, client, vertx, settings, live, format,
                thinkTags);
        s.upstreamEnded = true;
        s.out.closeHandler(v -> s.onClientGone());
        s.onBytes(sse);
        s.endOfUpstream();
        return s;
    }

    /**
     * The client left while the provider had not answered yet (its request was reset): an answer that ended
     * cancelled, empty, as when the client leaves while the first token is awaited. Call on the client's event loop.
     */
    public static RelaySession clientLeft(ProviderSettings provider, ProviderSettings.Target target, String model,
                                          ClientConnection client, Vertx vertx, RelaySettings settings,
                                          LiveStreams live, ClientFormat format) {
        RelaySession s = new RelaySession(provider, target, model, null, null, client, vertx, settings, live, format,
                false);
        s.upstreamEnded = true;
        s.onClientGone();
        return s;
    }

    /**
     * How {@link #primed()} fails when the provider said, inside its 200 stream and before any output, that the
     * request was at fault: the call's answer is then the rejection it carries.
     */
    public static final class RejectedInStream extends RuntimeException {
        private final ProviderRejection rejection;

        RejectedInStream(ProviderRejection rejection) {
            super("rejected in the stream", null, false, false);
            this.rejection = rejection;
        }

        public ProviderRejection rejection() {
            return rejection;
        }
    }

    /** Completes with this session once the first content (or a whole, empty answer) is in; fails if none came. */
    public CompletableFuture<RelaySession> primed() {
        return primed;
    }

    public ProviderSettings provider() {
        return provider;
    }

    /** The answer's text so far, readable from any thread (the checkpoints copy it). */
    public AnswerText answerText() {
        return text;
    }

    /** When the answer ended (System.nanoTime()), or 0 while it still streams. Any thread. */
    public long endedNanos() {
        return endedNanos;
    }

    /** The URL and upstream model name this answer was asked from. */
    public ProviderSettings.Target target() {
        return target;
    }

    private void startProbe(long firstTokenMs) {
        out.closeHandler(v -> onClientGone());
        response.handler(this::onBytes);
        response.exceptionHandler(t -> {
            if (pausedWhilePrimed) {
                failedWhilePaused = true;
            } else {
                // a failure is reported at once, but bytes that arrived before it may still sit in the response's
                // queue, handed over by a task resume() already scheduled: take the failure after them
                Context context = Vertx.currentContext();
                if (context == null) {
                    onUpstreamEnd();
                } else {
                    context.runOnContext(v -> onUpstreamEnd());
                }
            }
        });
        response.endHandler(v -> onUpstreamEnd());
        firstTokenTimer = vertx.setTimer(Math.max(1, firstTokenMs), t -> {
            if (!primed.isDone()) {
                fail(ProviderFailure.timeout(provider.id(), "no first token within the time allowed"));
            }
        });
        if (client.gone()) {
            onClientGone();
            return;
        }
        response.resume();
    }

    /** Starts relaying to the client. Call on the client's event loop once {@link #primed()} completed. */
    void attach(Consumer<StreamOutcome> onFinish) {
        this.onFinish = onFinish;
        attached = true;
        Buffer events = held;
        held = null;
        if (events != null && events.length() > 0 && !out.closed() && !out.ended()) {
            commit();
            send(events);
        }
        if (heldOutcome != null) {
            // the whole answer came before the relay attached (a short answer in one read): it is over already, so
            // it never joins the live streams - nothing would take it out again
            onFinish.accept(heldOutcome);
            return;
        }
        live.add(this);
        lastUpstreamNanos = System.nanoTime();
        tickTimer = vertx.setPeriodic(settings.tickMs(), id -> onTick());
        pausedWhilePrimed = false;
        response.resume();
        if (failedWhilePaused) {
            // resume() hands over the queued bytes asynchronously: take the failure after them
            client.context().runOnContext(v -> onUpstreamEnd());
        }
    }

    private void onBytes(Buffer buffer) {
        if (terminated) {
            return;
        }
        readNanos = System.nanoTime();
        readLength = buffer.length();
        if (attached && batch == null) {
            batch = Buffer.buffer(Math.max(readLength, lastBatchLength) + 256);
            client.context().runOnContext(flushAfterReads);
        }
        try {
            // the read's own memory (Vert.x hands every read over in a fresh heap buffer of its own), not a copy
            ByteBuf bytes = buffer.getByteBuf();
            if (bytes.hasArray()) {
                decoder.feed(bytes.array(), bytes.arrayOffset() + bytes.readerIndex(), bytes.readableBytes());
            } else {
                decoder.feed(buffer.getBytes());
            }
        } catch (SseDecoder.LineTooLongException e) {
            onBroken("malformed_stream");
        }
    }

    private void onEvent(SseEvent event) {
        if (terminated) {
            return;
        }
        // the decoder hands over data events only: comments and bare event/id/retry lines never reach here
        lastUpstreamNanos = readNanos;
        ChunkReading r = chunks.read(event);
        if (r.done()) {
            if (!primed.isDone() && finishReason == null) {
                // [DONE] before any output and without a finish reason: a stream that ended without an answer is a
                // provider failure like an empty body, and the fallback may answer; an answer the provider finished
                // empty (finish_reason stop, content_filter...) is still an answer
                fail(ProviderFailure.badStream(provider.id(), "empty_stream"));
                return;
            }
            complete();
            return;
        }
        if (r.isError()) {
            // an event the end of the stream cut short is unreadable because the stream broke, not the provider's JSON
            onBroken(upstreamEnding && "malformed_chunk".equals(r.errorCode()) ? "stream_interrupted" : r.errorCode());
            return;
        }
        if (r.hasReasoning()) {
            onReasoning(r.reasoning());
        }
        if (r.hasToolCalls() && !terminated) {
            // relayed exactly as the provider sent it; it is output, so the answer has begun (commit late)
            firstOutput();
            sideOutput().toolCalls(r.toolCalls());
            write(format.toolCalls(r.toolCalls()));
            prime();
        }
        if (r.hasRefusal() && !terminated) {
            if (format.refusalIsContent()) {
                onContent(r.refusal());
            } else {
                onRefusal(r.refusal());
            }
        }
        if (r.hasContent() && !terminated) {
            if (thinkTags != null) {
                thinkTags.feed(r.content(), this::onPiece);
            } else {
                onContent(r.content());
            }
        }
        if (terminated) {
            return;
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
        if (r.cachedTokens() != null) {
            cachedTokens = r.cachedTokens();
        }
        if (r.reasoningTokens() != null) {
            reasoningTokens = r.reasoningTokens();
        }
    }

    /** A piece of a think-tags model's content: reasoning or answer. */
    private void onPiece(boolean isReasoning, String piece) {
        if (terminated) {
            return;
        }
        if (isReasoning) {
            onReasoning(piece);
        } else {
            onContent(piece);
        }
    }

    /** A high surrogate that ended the last delta written, held for the next one; 0 for none. */
    private char heldHighSurrogate;

    private void onContent(String content) {
        firstOutput();
        long bytes = utf8Length(content);
        if (answerBytes + bytes > settings.maxAnswerBytes()) {
            cutAtAnswerLimit(content);
            return;
        }
        answerBytes += bytes;
        String relayed = withHeldSurrogate(content);
        text.append(relayed);
        if (!relayed.isEmpty() || content.isEmpty()) {
            writeDelta(relayed);
        }
        prime();
    }

    /**
     * A high surrogate that ends a provider's delta is held for the next one: a character outside the BMP split across
     * two deltas ({@code "A\ud83d"}, {@code "\ude00B"}) reached the client as two {@code ?} while the stored answer
     * had it whole (black-box probe, 2026-12-05). What a delta leaves held goes with the next, or at the end.
     */
    private String withHeldSurrogate(String content) {
        String out = heldHighSurrogate == 0 ? content : heldHighSurrogate + content;
        heldHighSurrogate = 0;
        if (!out.isEmpty() && Character.isHighSurrogate(out.charAt(out.length() - 1))) {
            heldHighSurrogate = out.charAt(out.length() - 1);
            out = out.substring(0, out.length() - 1);
        }
        return wellFormed(out);
    }

    /**
     * A lone surrogate (a provider's {@code "a\ud800b"}) as U+FFFD, what UTF-8 makes of it anyway: the client was
     * sent {@code ?} while the stored answer kept the surrogate, returned and sent upstream as context again
     * (black-box probe). What is relayed is what is stored. Text without surrogates is returned as it is.
     */
    static String wellFormed(String s) {
        int i = 0;
        int n = s.length();
        while (i < n && !Character.isSurrogate(s.charAt(i))) {
            i++;
        }
        if (i == n) {
            return s;
        }
        StringBuilder out = new StringBuilder(n).append(s, 0, i);
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(i + 1));
                i += 2;
            } else {
                out.append(Character.isSurrogate(c) ? '\uFFFD' : c);
                i++;
            }
        }
        return out.toString();
    }

    /** A held high surrogate no low one followed: a lone one, relayed and stored as U+FFFD. */
    private void releaseHeldSurrogate() {
        if (heldHighSurrogate != 0) {
            heldHighSurrogate = 0;
            text.append("\uFFFD");
            writeDelta("\uFFFD");
        }
    }

    /**
     * Reasoning is the provider's first output as much as content is: a model that thinks before it answers is
     * working, so it primes the answer (no first-token timeout, no fallback); the idle timeout still applies. Its
     * bytes count toward CHAT_MAX_ANSWER_BYTES, like the answer's.
     */
    private void onReasoning(String piece) {
        if (!outputBesideTheAnswer(piece)) {
            return;
        }
        reasoning.append(piece);
        write(format.reasoning(piece));
        prime();
    }

    /**
     * Output that is not the answer's text (reasoning, a refusal kept apart): the provider's first output all the
     * same, and its bytes count toward CHAT_MAX_ANSWER_BYTES; false when they would pass it (the answer is cut there).
     */
    private boolean outputBesideTheAnswer(String piece) {
        firstOutput();
        long bytes = utf8Length(piece);
        if (answerBytes + bytes > settings.maxAnswerBytes()) {
            cutAtAnswerLimit("");
            return false;
        }
        answerBytes += bytes;
        return true;
    }

    /**
     * A model's refusal for a format that keeps it apart from the content (/v1's {@code delta.refusal}): output like
     * content (it primes the answer), bounded by CHAT_MAX_ANSWER_BYTES with it.
     */
    private void onRefusal(String piece) {
        if (!outputBesideTheAnswer(piece)) {
            return;
        }
        sideOutput().refusal(piece);
        write(format.refusal(piece));
        prime();
    }

    private void firstOutput() {
        if (firstTokenMs == null) {
            firstTokenMs = (System.nanoTime() - client.startedNanos()) / 1_000_000;
        }
    }

    /** The provider is answering: hold the rest until the relay attaches. */
    private void prime() {
        if (!primed.isDone()) {
            cancelFirstTokenTimer();
            if (response != null) {
                response.pause();
                pausedWhilePrimed = true;
            }
            primed.complete(this);
        }
    }

    private SideOutput sideOutput() {
        if (sideOutput == null) {
            sideOutput = new SideOutput();
        }
        return sideOutput;
    }

    /** How the answer ended, with everything the session knows about it. */
    private StreamOutcome outcome(String status, String reason, Integer completion, String errorCode) {
        return new StreamOutcome(status, text.toString(), reason, promptTokens, completion, firstTokenMs, errorCode,
                reasoning.length() == 0 ? null : reasoning.toString(), cachedTokens, reasoningTokens,
                sideOutput == null ? List.of() : sideOutput.texts());
    }

    private void onUpstreamEnd() {
        upstreamEnded = true;
        endOfUpstream();
    }

    /** No more bytes will come: the answer is whole if the provider said why it finished, else it broke off. */
    private void endOfUpstream() {
        if (terminated) {
            return;
        }
        upstreamEnding = true;
        decoder.end(); // what is left after the last blank line, if anything: [DONE] without one still counts
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
        if (thinkTags != null) {
            thinkTags.end(this::onPiece);
            if (terminated) {
                return; // the held piece reached the answer limit
            }
        }
        terminated = true;
        chunks.close();
        cancelFirstTokenTimer();
        String reason = finishReason == null ? "stop" : finishReason;
        releaseHeldSurrogate();
        write(format.finished(reason));
        String status = "content_filter".equals(reason) ? StreamOutcome.CONTENT_FILTERED : StreamOutcome.COMPLETE;
        if (response != null && !upstreamEnded) {
            // let a well-behaved upstream end by itself so its connection is reused; cut it if it lingers. The
            // timer goes as soon as the upstream has ended: until then it holds this whole session in memory.
            long drain = vertx.setTimer(settings.drainMs(), t -> resetUpstream());
            response.handler(b -> { });
            response.exceptionHandler(t -> vertx.cancelTimer(drain));
            response.endHandler(v -> {
                upstreamEnded = true;
                vertx.cancelTimer(drain);
            });
            response.resume();
        }
        finish(outcome(status, reason, completionTokens, null));
        // a whole answer without content (e.g. filtered at once) is still an answer, not a provider failure
        primed.complete(this);
    }

    /**
     * The answer reached CHAT_MAX_ANSWER_BYTES: what still fits is relayed, the provider is cut off (no more tokens
     * to pay for), and the answer ends as a provider ends one at its max_tokens - finish_reason "length" - and is
     * stored so.
     */
    private void cutAtAnswerLimit(String content) {
        String fits = prefixWithin(content, settings.maxAnswerBytes() - answerBytes);
        if (!fits.isEmpty()) {
            answerBytes += utf8Length(fits);
            String relayed = withHeldSurrogate(fits);
            text.append(relayed);
            writeDelta(relayed);
        }
        releaseHeldSurrogate();
        finishReason = "length";
        terminated = true;
        cancelFirstTokenTimer();
        resetUpstream();
        write(format.finished(finishReason));
        finish(outcome(StreamOutcome.COMPLETE, finishReason, null, null));
        primed.complete(this);
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The longest prefix of {@code s} within {@code maxBytes} UTF-8 bytes, never splitting a character. */
    static String prefixWithin(String s, long maxBytes) {
        long n = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (n + len > maxBytes) {
                break;
            }
            n += len;
            i += Character.charCount(cp);
        }
        return s.substring(0, i);
    }

    private void onBroken(String code) {
        if (terminated) {
            return;
        }
        if (!primed.isDone()) {
            if (ChunkDecoder.PROVIDER_REJECTED.equals(code)) {
                // the request's fault, said in the stream before any output: a 400 like an HTTP one, no fallback
                terminated = true;
                cancelFirstTokenTimer();
                resetUpstream();
                primed.completeExceptionally(new RejectedInStream(chunks.rejection(provider.id())));
                return;
            }
            fail(ProviderFailure.badStream(provider.id(), code));
            return;
        }
        if (ChunkDecoder.PROVIDER_REJECTED.equals(code)) {
            code = ChunkDecoder.PROVIDER_STREAM_ERROR; // after output began it breaks the answer like any error event
        }
        terminated = true;
        resetUpstream();
        write(format.error(code, "The provider's stream broke off" + partialKept()));
        finish(outcome(StreamOutcome.INTERRUPTED, finishReason, completionTokens, code));
    }

    /** What an error event adds when the caller's partial answer is stored (the session API), and only then. */
    private String partialKept() {
        return format.keepsPartialAnswers() ? "; the partial answer was kept" : "";
    }

    /** The provider failed before its first content: nothing reached the client, the fallback may take over. */
    private void fail(ProviderFailure failure) {
        terminated = true;
        cancelFirstTokenTimer();
        resetUpstream();
        primed.completeExceptionally(failure);
    }

    /**
     * The client has not taken what was written for LLM_STREAM_IDLE_TIMEOUT_MS while the provider waited on it:
     * the client's fault, not the provider's. The provider is cut off and the answer stored as cancelled (neither
     * the breaker nor the provider's health counts it); the client's connection is closed.
     */
    private void onClientTooSlow() {
        terminated = true;
        resetUpstream();
        finish(outcome(StreamOutcome.CANCELLED, finishReason, completionTokens, "client_too_slow"));
        out.reset();
    }

    private void onClientGone() {
        if (terminated) {
            return;
        }
        terminated = true;
        cancelFirstTokenTimer();
        resetUpstream();
        finish(outcome(StreamOutcome.CANCELLED, finishReason, completionTokens, "client_closed"));
        // no fallback for a caller who left: the relay step finds the outcome and records it
        primed.complete(this);
    }

    /**
     * Nobody will attach this answer (the breaker step gave up on it as it came in, or the request failed before its
     * relay): the upstream request is reset and nothing is relayed or recorded. An answer already attached is left to
     * its relay. Call on the client's event loop.
     */
    public void abandon() {
        if (terminated || attached) {
            return;
        }
        terminated = true;
        cancelFirstTokenTimer();
        resetUpstream();
    }

    /** The gateway is shutting down and the grace period is over: end with an error, keep the partial answer. */
    void shutDown() {
        client.context().runOnContext(v -> {
            if (terminated) {
                return;
            }
            terminated = true;
            resetUpstream();
            write(format.error("shutting_down", "The gateway is shutting down" + partialKept()));
            finish(outcome(StreamOutcome.INTERRUPTED, finishReason, completionTokens, "shutting_down"));
        });
    }

    private void onTick() {
        if (terminated) {
            return;
        }
        long now = System.nanoTime();
        if (clientBlockedSinceNanos >= 0) {
            // the provider is paused because the client does not read: its silence is ours, not the provider's
            if (now - clientBlockedSinceNanos > settings.idleTimeoutMs() * 1_000_000) {
                onClientTooSlow();
            }
            return;
        }
        long idleNanos = settings.idleTimeoutMs() * 1_000_000;
        long silentNanos = now - lastUpstreamNanos;
        if (!upstreamEnded && silentNanos > idleNanos) {
            if (finishReason != null) {
                // the provider said why it finished and then went quiet without [DONE]: the answer is whole
                complete();
            } else {
                onBroken("stream_idle_timeout");
            }
            return;
        }
        if (!upstreamEnded && idleTimer < 0 && silentNanos + settings.tickMs() * 1_000_000 > idleNanos) {
            // the next tick would come after the deadline (up to a tick late): check at the deadline itself
            idleTimer = vertx.setTimer(Math.max(1, (idleNanos - silentNanos) / 1_000_000 + 1), t -> {
                idleTimer = -1;
                onTick();
            });
        }
        if (committed && now - lastWriteNanos > settings.keepAliveMs() * 1_000_000) {
            write(ClientEvents.KEEP_ALIVE);
        }
    }

    private void write(String event) {
        if (event == null) {
            return; // this caller's format has nothing to say now (a whole chat.completion is written at the end)
        }
        if (!attached) {
            held().appendString(event);
            return;
        }
        if (out.closed() || out.ended()) {
            return;
        }
        commit();
        if (batch != null) {
            batch.appendString(event);
            return;
        }
        send(Buffer.buffer(event));
    }

    /**
     * A piece of the answer: appended as bytes to the held events before the relay attached, to the read's batch
     * after (the hot path, one per token), or as the text of {@link #write} outside an upstream read.
     */
    private void writeDelta(String content) {
        if (!attached && held != null) {
            format.appendDelta(content, held);
            return;
        }
        if (!attached || batch == null) {
            // the first held event goes as text: a format with nothing to say (a whole completion) makes no buffer
            write(format.delta(content));
            return;
        }
        if (out.closed() || out.ended()) {
            return;
        }
        if (format.appendDelta(content, batch)) {
            commit();
        }
    }

    /** The held events' buffer, made at the first of them the size of the read they came in (a short answer's all). */
    private Buffer held() {
        if (held == null) {
            held = Buffer.buffer(readLength + 256);
        }
        return held;
    }

    /** The client's 200 and SSE headers, set once before the first event goes out (they are sent with it). */
    private void commit() {
        if (!committed) {
            committed = true;
            out.setStatusCode(200)
                    .putHeader(CONTENT_TYPE, EVENT_STREAM)
                    .putHeader(CACHE_CONTROL, NO_CACHE)
                    .putHeader(ACCEL_BUFFERING, NO)
                    .putHeader(PROVIDER, provider.id())
                    .putHeader(MODEL, model)
                    .setChunked(true);
        }
    }

    private void flushBatch() {
        Buffer events = batch;
        batch = null;
        if (events == null) {
            return;
        }
        lastBatchLength = Math.min(events.length(), MAX_BATCH_HINT);
        if (events.length() > 0 && !out.closed() && !out.ended()) {
            send(events);
        }
    }

    private void send(Buffer events) {
        lastWriteNanos = System.nanoTime();
        out.write(events);
        if (out.writeQueueFull() && response != null && !upstreamEnded) {
            response.pause();
            if (clientBlockedSinceNanos < 0) {
                clientBlockedSinceNanos = System.nanoTime();
            }
            out.drainHandler(v -> {
                clientBlockedSinceNanos = -1;
                lastUpstreamNanos = System.nanoTime();
                response.resume();
            });
        }
    }

    private void resetUpstream() {
        if (request != null && !upstreamEnded) {
            upstreamEnded = true;
            request.reset();
        }
    }

    private void cancelFirstTokenTimer() {
        if (firstTokenTimer >= 0) {
            vertx.cancelTimer(firstTokenTimer);
            firstTokenTimer = -1;
        }
    }

    private void finish(StreamOutcome outcome) {
        endedNanos = Math.max(1, System.nanoTime());
        flushBatch(); // what the client is owed goes out before anything that follows the outcome
        if (tickTimer >= 0) {
            vertx.cancelTimer(tickTimer);
        }
        if (idleTimer >= 0) {
            vertx.cancelTimer(idleTimer);
            idleTimer = -1;
        }
        if (attached) {
            live.remove(this);
            onFinish.accept(outcome);
        } else {
            heldOutcome = outcome;
        }
    }
}
