package bench;

import java.nio.file.Files;
import java.nio.file.Path;
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
    static final String TLS_PASSWORD = "bench-tls";

    /**
     * A key pair and self-signed certificate for localhost and 127.0.0.1 (the JDK's keytool), in {@code dir}:
     * fake.p12 for the fake, fake.pem (returned) for whoever must trust it.
     */
    static Path selfSignedCertificate(Path dir) throws Exception {
        Path ks = dir.resolve("fake.p12");
        Path pem = dir.resolve("fake.pem");
        Files.deleteIfExists(ks);
        Files.deleteIfExists(pem);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "fake", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "30", "-keystore", ks.toString(),
                "-storetype", "PKCS12", "-storepass", TLS_PASSWORD, "-keypass", TLS_PASSWORD);
        run(keytool, "-exportcert", "-rfc", "-alias", "fake", "-keystore", ks.toString(), "-storepass", TLS_PASSWORD,
                "-file", pem.toString());
        return pem;
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
    }

    /**
     * Runs the fake on its own: {@code java -cp bench/target/cobalt-chat-bench.jar bench.FakeUpstream [port]}, then
     * POST /v1/chat/completions with a last user message {@code bench id=x n=20 d=0 t=5 [h=0] [u=0]}.
     */
    public static void main(String[] args) throws Exception {
        Vertx v = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1));
        FakeUpstream f = new FakeUpstream(v);
        int port = f.start(args.length > 0 ? Integer.parseInt(args[0]) : 0);
        System.out.println("fake OpenAI-compatible upstream on http://127.0.0.1:" + port + "/v1 (key " + API_KEY + ")");
        if (args.length > 1) {
            System.out.println("and on https://localhost:" + f.startTls(java.nio.file.Path.of(args[1]), TLS_PASSWORD) + "/v1");
        }
    }

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
    private final AtomicLong http2Requests = new AtomicLong();
    private final AtomicLong tlsHttp1Requests = new AtomicLong();
    private HttpServer server;
    /**
     * How an answer whose deltas come all at once is written: false (the default), every SSE event in its own write,
     * so its own HTTP chunk, as OpenAI-compatible servers send them (vLLM, OpenAI, SambaNova); true, the whole answer
     * in one write and one HTTP chunk, as this fake did before fix 40 (bench/README.md).
     */
    private volatile boolean wholeAnswerInOneWrite;

    FakeUpstream(Vertx vertx) {
        this.vertx = vertx;
    }

    /** See {@link #wholeAnswerInOneWrite}: the bench's {@code --upstream-writes whole}. */
    void wholeAnswerInOneWrite(boolean whole) {
        this.wholeAnswerInOneWrite = whole;
    }

    int start() throws Exception {
        return start(0);
    }

    int start(int port) throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port)
                        .setAcceptBacklog(8192))
                .requestHandler(this::handle);
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    /**
     * The same fake on a second port over TLS, HTTP/2 and HTTP/1.1 offered by ALPN, as the providers' endpoints are;
     * its certificate is the PKCS#12 key store at {@code keyStore} (password {@code password}).
     */
    int startTls(java.nio.file.Path keyStore, String password) throws Exception {
        tlsServer = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setAcceptBacklog(8192).setSsl(true).setUseAlpn(true)
                        .setKeyCertOptions(new io.vertx.core.net.PfxOptions().setPath(keyStore.toString())
                                .setPassword(password)))
                .requestHandler(this::handle);
        tlsServer.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return tlsServer.actualPort();
    }

    private HttpServer tlsServer;

    void stop() throws Exception {
        if (tlsServer != null) {
            tlsServer.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    void clearTraces() {
        traces.clear();
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

    /** Requests that came over HTTP/2, and over HTTP/1.1 with TLS. */
    String tlsVersions() {
        return http2Requests.get() + " over HTTP/2, " + tlsHttp1Requests.get() + " over HTTP/1.1 with TLS";
    }

    long cancelled() {
        return cancelled.get();
    }

    static String content(String id, int n, int delayMs, int headerDelayMs) {
        return content(new Shape(n, -1, delayMs, headerDelayMs, true), id);
    }

    /**
     * The shape of one answer: n content deltas; the first one ttftMs after the headers (-1: the same as delayMs),
     * then one every delayMs (0: all at once, in one write); the headers headerDelayMs after the request; with or
     * without the trailing usage chunk.
     */
    record Shape(int n, int ttftMs, int delayMs, int headerDelayMs, boolean usage) {
        int firstTokenMs() {
            return ttftMs < 0 ? delayMs : ttftMs;
        }
    }

    static String content(Shape s, String id) {
        return "bench id=" + id + " n=" + s.n() + " d=" + s.delayMs()
                + (s.ttftMs() >= 0 ? " t=" + s.ttftMs() : "")
                + (s.headerDelayMs() > 0 ? " h=" + s.headerDelayMs() : "")
                + (s.usage() ? "" : " u=0");
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
        if (req.version() == io.vertx.core.http.HttpVersion.HTTP_2) {
            http2Requests.incrementAndGet();
        } else if (req.isSSL()) {
            tlsHttp1Requests.incrementAndGet();
        }
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
        long firstToken;
        boolean withUsage;
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
            firstToken = Long.parseLong(shape.getOrDefault("t", String.valueOf(delay)));
            withUsage = !"0".equals(shape.get("u"));
            if (id == null || n < 1 || delay < 0 || firstToken < 0) {
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
        Answer a = new Answer(resp, id, n, delay, firstToken, withUsage, writes);
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
        private final long firstToken;
        private final boolean withUsage;
        private final long[] writes;
        private int index;
        private long timer = -1;
        private boolean over;

        Answer(HttpServerResponse resp, String id, int n, long delay, long firstToken, boolean withUsage,
               long[] writes) {
            this.resp = resp;
            this.id = id;
            this.n = n;
            this.delay = delay;
            this.firstToken = firstToken;
            this.withUsage = withUsage;
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
            long wait = index == 0 ? firstToken : delay;
            if (wait <= 0) {
                tick();
            } else {
                timer = vertx.setTimer(wait, t -> tick());
            }
        }

        private void tick() {
            if (over) {
                return;
            }
            if (delay <= 0 && !wholeAnswerInOneWrite) {
                // no delay between chunks: every remaining event at once, each in its own write (its own HTTP chunk)
                long now = System.nanoTime();
                while (index < n) {
                    writes[index] = now;
                    resp.write(delta(deltaText(id, index++)));
                }
                over = true;
                resp.write(finish());
                if (withUsage) {
                    resp.write(usage(n));
                }
                resp.end("data: [DONE]\n\n");
                active.decrementAndGet();
                return;
            }
            if (delay <= 0) {
                // no delay between chunks: every remaining delta and the end in one write
                Buffer all = Buffer.buffer(64 * (n - index) + 512);
                long now = System.nanoTime();
                while (index < n) {
                    writes[index] = now;
                    all.appendString(delta(deltaText(id, index++)));
                }
                end(all);
                return;
            }
            int i = index++;
            writes[i] = System.nanoTime();
            if (i < n - 1) {
                resp.write(delta(deltaText(id, i)));
                next();
                return;
            }
            end(Buffer.buffer(delta(deltaText(id, i))));
        }

        private void end(Buffer tail) {
            over = true;
            tail.appendString(finish());
            if (withUsage) {
                tail.appendString(usage(n));
            }
            tail.appendString("data: [DONE]\n\n");
            resp.end(tail);
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
