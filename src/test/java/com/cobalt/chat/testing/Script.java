package com.cobalt.chat.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;

/**
 * One scripted answer of {@link FakeUpstream}, played byte for byte.
 *
 * <p>Playback order: [{@link #delayHeaders(Duration)}] - status line and headers (written and flushed at once)
 * - the steps ({@link #chunk}, {@link #body}, {@link #delay}) in the order they were added - the ending
 * (clean end by default, or {@link #cut()}, {@link #cutWithReset()}, {@link #stall()}).
 * {@link #header(String, String)} may be called at any point of the chain; headers are always sent first, in the
 * order they were added.
 *
 * <p>Framing, chosen when the script is played:
 * <ul>
 *   <li>{@link #closeDelimited()}: no Transfer-Encoding/Content-Length, {@code Connection: close} (unless set),
 *       bytes written raw, clean end = close the socket;</li>
 *   <li>a {@code Transfer-Encoding: chunked} header set by hand: chunked;</li>
 *   <li>a {@code Content-Length} header set by hand: bytes written raw, not checked against the length
 *       (lets a test send a Content-Length body slowly, or lie about its length);</li>
 *   <li>{@link #body(String)}: {@code Content-Length} of the body;</li>
 *   <li>{@link #chunk} steps, or an ending of cut/stall: {@code Transfer-Encoding: chunked}, each chunk() one HTTP
 *       chunk flushed at once, clean end {@code 0\r\n\r\n};</li>
 *   <li>nothing at all: {@code Content-Length: 0} (none for 1xx/204/304).</li>
 * </ul>
 * An empty chunk() is skipped (in chunked framing it would end the stream).
 *
 * <p>A script is not modified by playing it; the same instance may be enqueued more than once. Build it on one
 * thread before handing it to {@link FakeUpstream#enqueue(Script)}.
 */
public final class Script {

    enum End { CLEAN, CUT, CUT_RESET, STALL, NO_HEADERS }

    /** bytes != null: content to write; gate != null: wait for it; otherwise a pause of delayNanos. */
    record Step(byte[] bytes, long delayNanos, CountDownLatch gate) {
        Step(byte[] bytes, long delayNanos) {
            this(bytes, delayNanos, null);
        }

        boolean isDelay() {
            return bytes == null;
        }

        boolean isGate() {
            return gate != null;
        }
    }

    final int status;
    final List<String[]> headers = new ArrayList<>();
    final List<Step> steps = new ArrayList<>();
    boolean hasBody;
    boolean hasChunks;
    boolean closeDelimited;
    long headerDelayNanos;
    End end = End.CLEAN;

    private Script(int status) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status out of range: " + status);
        }
        this.status = status;
    }

    /** A script answering with this status code. */
    public static Script status(int code) {
        return new Script(code);
    }

    /** 200, {@code Content-Type: text/event-stream}, each argument one chunk (sent as given, so include the
     * {@code data: ...\n\n} framing yourself), then a clean end. */
    public static Script sse(String... events) {
        Script s = status(200).header("Content-Type", "text/event-stream");
        for (String e : events) {
            s.chunk(e);
        }
        return s;
    }

    /** status + {@code Content-Type: application/json} + the body with Content-Length. */
    public static Script json(int status, String body) {
        return status(status).header("Content-Type", "application/json").body(body);
    }

    /** A response header; headers are sent in the order added, repeated names allowed. */
    public Script header(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        headers.add(new String[] {name, value});
        return this;
    }

    /** A piece of the body: its UTF-8 bytes are written and flushed as they are (one HTTP chunk when chunked). */
    public Script chunk(String text) {
        return chunk(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A piece of the body, written and flushed as it is (one HTTP chunk when chunked). */
    public Script chunk(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        checkOpen("chunk()");
        if (hasBody) {
            throw new IllegalStateException("chunk() cannot be combined with body()");
        }
        hasChunks = true;
        steps.add(new Step(bytes.clone(), 0));
        return this;
    }

    /** Pause before the next step (or before the ending). Delays are watched: a client going away meanwhile is
     * noticed at once and counted as a disconnect. */
    public Script delay(Duration d) {
        checkOpen("delay()");
        steps.add(new Step(null, nanos(d)));
        return this;
    }

    /** Pause before the next step until the test counts {@code gate} down (a hold that needs no guessed duration).
     * Watched for disconnects like {@link #delay}. */
    public Script holdUntil(CountDownLatch gate) {
        Objects.requireNonNull(gate, "gate");
        checkOpen("holdUntil()");
        steps.add(new Step(null, 0, gate));
        return this;
    }

    /** Pause before the status line (time to first byte). Watched for disconnects like {@link #delay}. */
    public Script delayHeaders(Duration d) {
        headerDelayNanos = nanos(d);
        return this;
    }

    /** The whole body with a Content-Length (UTF-8). Excludes chunk(); at most once. */
    public Script body(String text) {
        Objects.requireNonNull(text, "text");
        checkOpen("body()");
        if (hasChunks) {
            throw new IllegalStateException("body() cannot be combined with chunk()");
        }
        if (hasBody) {
            throw new IllegalStateException("body() already set");
        }
        hasBody = true;
        steps.add(new Step(text.getBytes(StandardCharsets.UTF_8), 0));
        return this;
    }

    /** Close-delimited framing: no Transfer-Encoding/Content-Length, {@code Connection: close}, bytes raw,
     * clean end = close the socket. */
    public Script closeDelimited() {
        closeDelimited = true;
        return this;
    }

    /** After the steps so far: close the connection abruptly, without the terminating chunk (FIN after the data
     * already written). With {@link #closeDelimited()} a FIN would be a clean end, so there it is a TCP reset. */
    public Script cut() {
        return ending(End.CUT, "cut()");
    }

    /** After the steps so far: reset the connection (SO_LINGER 0 then close, the peer sees a TCP RST). */
    public Script cutWithReset() {
        return ending(End.CUT_RESET, "cutWithReset()");
    }

    /** After the steps so far: write nothing more and keep the socket open until the client goes away (counted as
     * a disconnect) or the server is closed. */
    public Script stall() {
        return ending(End.STALL, "stall()");
    }

    /** Read the request, then never answer (not even a status line) until the client goes away (counted as a
     * disconnect) or the server is closed. */
    public Script noHeaders() {
        return ending(End.NO_HEADERS, "noHeaders()");
    }

    private Script ending(End e, String what) {
        checkOpen(what);
        end = e;
        return this;
    }

    private void checkOpen(String what) {
        if (end != End.CLEAN) {
            throw new IllegalStateException(what + " after " + end.name().toLowerCase(Locale.ROOT) + "()");
        }
    }

    private static long nanos(Duration d) {
        Objects.requireNonNull(d, "duration");
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative delay: " + d);
        }
        return d.toNanos();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Script[").append(status);
        for (String[] h : headers) {
            sb.append(", ").append(h[0]).append(": ").append(h[1]);
        }
        for (Step st : steps) {
            if (st.isGate()) {
                sb.append(", hold");
            } else if (st.isDelay()) {
                sb.append(", delay ").append(Duration.ofNanos(st.delayNanos()));
            } else {
                String text = new String(st.bytes(), StandardCharsets.UTF_8);
                sb.append(hasBody ? ", body " : ", chunk ")
                        .append(text.length() > 40 ? text.substring(0, 40) + "..." : text)
                        .append(" (").append(st.bytes().length).append(" bytes)");
            }
        }
        if (closeDelimited) {
            sb.append(", close-delimited");
        }
        return sb.append(", ").append(end.name().toLowerCase(Locale.ROOT)).append(']').toString();
    }
}
