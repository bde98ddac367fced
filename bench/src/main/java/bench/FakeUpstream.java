package bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A fake OpenAI-compatible upstream on 127.0.0.1 that streams a SambaNova-shaped SSE answer without blocking: the
 * 200 and its headers at once (or {@code h} ms later), then N content deltas each {@code d} ms apart (the first one
 * {@code d} ms after the headers), then the finish chunk, the trailing usage chunk ({@code choices: []}) and
 * {@code data: [DONE]}.
 *
 * <p>The shape of each answer is read from the last message's content, {@code bench id=<id> n=<N> d=<ms> [h=<ms>]},
 * so one
 * fake serves every scenario. The answer text is {@link #expectedText(String, int)}. For each id the fake keeps
 * when the request arrived and when each delta was written ({@link System#nanoTime()}, comparable with the client's
 * because both live in the bench's JVM).
 */
final class FakeUpstream {

    static final String API_KEY = "bench";

    /** When the request (body complete) arrived and when each delta was handed to the socket. */
    record Trace(long arrivalNanos, long[] deltaWriteNanos) {
    }

    private final Vertx vertx;
    private final Map<String, Trace> traces = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger maxActive = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private HttpServer server;

    FakeUpstream(Vertx vertx) {
        this.vertx = vertx;
    }

    int start() throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setAcceptBacklog(8192))
                .requestHandler(this::handle);
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    void stop() throws Exception {
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    Trace trace(String id) {
        return traces.get(id);
    }

    int active() {
        return active.get();
    }

    /** The highest number of answers streaming at the same time since the last reset. */
    int resetMaxActive() {
        return maxActive.getAndSet(active.get());
    }

    long requests() {
        return requests.get();
    }

    long rejected() {
        return rejected.get();
    }

    long cancelled() {
        return cancelled.get();
    }

    static String content(String id, int n, int delayMs, int headerDelayMs) {
        return "bench id=" + id + " n=" + n + " d=" + delayMs + (headerDelayMs > 0 ? " h=" + headerDelayMs : "");
    }

    static String deltaText(String id, int i) {
        return i == 0 ? id : " t" + i;
    }

    static String expectedText(String id, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(deltaText(id, i));
        }
        return sb.toString();
    }

    private void handle(HttpServerRequest req) {
        if (req.method() != io.vertx.core.http.HttpMethod.POST || !"/v1/chat/completions".equals(req.path())) {
            rejected.incrementAndGet();
            req.response().setStatusCode(404).putHeader("Content-Type", "application/json")
                    .end("{\"error\":{\"message\":\"not found\"}}");
            return;
        }
        req.body().onSuccess(body -> answer(req, body)).onFailure(t -> rejected.incrementAndGet());
    }

    private void answer(HttpServerRequest req, Buffer body) {
        long arrival = System.nanoTime();
        requests.incrementAndGet();
        HttpServerResponse resp = req.response();
        String id;
        int n;
        long delay;
        long headerDelay;
        try {
            if (!("Bearer " + API_KEY).equals(req.getHeader("Authorization"))) {
                throw new IllegalArgumentException("bad Authorization");
            }
            JsonObject json = body.toJsonObject();
            if (!Boolean.TRUE.equals(json.getBoolean("stream"))) {
                throw new IllegalArgumentException("stream is not true");
            }
            JsonArray messages = json.getJsonArray("messages");
            String last = messages.getJsonObject(messages.size() - 1).getString("content");
            Map<String, String> shape = new java.util.HashMap<>();
            for (String part : last.split(" ")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    shape.put(part.substring(0, eq), part.substring(eq + 1));
                }
            }
            id = shape.get("id");
            n = Integer.parseInt(shape.get("n"));
            delay = Long.parseLong(shape.get("d"));
            headerDelay = Long.parseLong(shape.getOrDefault("h", "0"));
            if (id == null || n < 1 || delay < 1) {
                throw new IllegalArgumentException("bad shape");
            }
        } catch (RuntimeException e) {
            rejected.incrementAndGet();
            resp.setStatusCode(400).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("error", new JsonObject().put("message", "bench fake: "
                            + e.getMessage())).encode());
            return;
        }
        long[] writes = new long[n];
        traces.put(id, new Trace(arrival, writes));
        int now = active.incrementAndGet();
        maxActive.accumulateAndGet(now, Math::max);
        resp.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache");
        Answer a = new Answer(resp, id, n, delay, writes);
        if (headerDelay > 0) {
            // a provider still queueing or prefilling: status and headers come late
            a.timer = vertx.setTimer(headerDelay, t -> {
                if (!a.over) {
                    resp.writeHead();
                    a.next();
                }
            });
        } else {
            resp.writeHead();
            a.next();
        }
    }

    /** One streaming answer; every step runs on the request's event loop. */
    private final class Answer {
        private final HttpServerResponse resp;
        private final String id;
        private final int n;
        private final long delay;
        private final long[] writes;
        private int index;
        private long timer = -1;
        private boolean over;

        Answer(HttpServerResponse resp, String id, int n, long delay, long[] writes) {
            this.resp = resp;
            this.id = id;
            this.n = n;
            this.delay = delay;
            this.writes = writes;
            resp.closeHandler(v -> {
                if (!over) {
                    over = true;
                    vertx.cancelTimer(timer);
                    cancelled.incrementAndGet();
                    active.decrementAndGet();
                }
            });
        }

        void next() {
            timer = vertx.setTimer(delay, t -> tick());
        }

        private void tick() {
            if (over) {
                return;
            }
            int i = index++;
            writes[i] = System.nanoTime();
            resp.write(delta(deltaText(id, i)));
            if (i < n - 1) {
                next();
                return;
            }
            over = true;
            resp.write(finish());
            resp.write(usage(n));
            resp.end("data: [DONE]\n\n");
            active.decrementAndGet();
        }
    }

    // SambaNova's chunk shapes (float created, logprobs, a trailing usage chunk with choices: [])

    private static String delta(String content) {
        return "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.123,"
                + "\"model\":\"bench\",\"system_fingerprint\":\"fastcoe\",\"choices\":[{\"index\":0,\"delta\":"
                + "{\"content\":" + io.vertx.core.json.Json.encode(content)
                + "},\"finish_reason\":null,\"logprobs\":null}]}\n\n";
    }

    private static String finish() {
        return "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.456,"
                + "\"model\":\"bench\",\"system_fingerprint\":\"fastcoe\",\"choices\":[{\"index\":0,\"delta\":{},"
                + "\"finish_reason\":\"stop\",\"logprobs\":null}]}\n\n";
    }

    private static String usage(int completion) {
        return "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.456,"
                + "\"model\":\"bench\",\"system_fingerprint\":\"fastcoe\",\"choices\":[],\"usage\":{\"prompt_tokens\":"
                + "12,\"completion_tokens\":" + completion + ",\"total_tokens\":" + (12 + completion)
                + ",\"time_to_first_token\":0.02,\"completion_tokens_per_sec\":50.0}}\n\n";
    }
}
