package com.cobalt.chat.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PfxOptions;

/**
 * A fake OpenAI-compatible provider over TLS, as the real ones are reached: Vert.x's HTTP server with a certificate
 * for localhost and 127.0.0.1 made by the JDK's keytool, offering by ALPN the protocols it is given (HTTP/2 and
 * HTTP/1.1, or HTTP/1.1 alone). Every POST gets the same streamed answer: the given SSE events ({@link Chunks}), then
 * {@code data: [DONE]}; a request whose last message contains {@code HOLD} gets the first event only and is held open
 * until the gateway resets it; one containing {@code BREAK} gets the first two events and then a reset of its stream;
 * one containing {@code FLOOD} gets ~9.6 MB of deltas, written as fast as flow control allows (see {@link #stalledFor()});
 * the first request containing {@code GOAWAY} gets an HTTP/2 GOAWAY that names no stream
 * as processed (the connection going away before the request was taken) instead of an answer. It records each request's protocol version and body, counts connections and the
 * requests the gateway reset (an HTTP/2 RST_STREAM, or the HTTP/1.1 connection closed).
 */
public final class TlsUpstream implements AutoCloseable {

    public static final String PASSWORD = "tls-upstream";

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final Path dir;
    private final List<String> events;
    private final HttpServer server;
    private final List<HttpVersion> versions = new ArrayList<>(); // guarded by this
    private final List<String> bodies = new ArrayList<>(); // guarded by this
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger resets = new AtomicInteger();
    private final AtomicInteger goAways = new AtomicInteger();
    private volatile long stalledSince = -1;

    private TlsUpstream(List<HttpVersion> alpn, List<String> events) {
        this.events = List.copyOf(events);
        try {
            dir = Files.createTempDirectory("tls-upstream-");
            keytool("-genkeypair", "-alias", "upstream", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-keystore", dir.resolve("upstream.p12").toString(), "-storetype", "PKCS12",
                    "-storepass", PASSWORD, "-keypass", PASSWORD);
            keytool("-exportcert", "-rfc", "-alias", "upstream", "-keystore", dir.resolve("upstream.p12").toString(),
                    "-storepass", PASSWORD, "-file", certificate().toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setSsl(true).setUseAlpn(true).setAlpnVersions(alpn)
                        .setKeyCertOptions(new PfxOptions().setPath(dir.resolve("upstream.p12").toString())
                                .setPassword(PASSWORD)))
                .connectionHandler(c -> connections.incrementAndGet())
                .requestHandler(this::answer);
        try {
            server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("cannot start the TLS upstream", e);
        }
    }

    /** Offers HTTP/2 and HTTP/1.1, as the providers' endpoints do. */
    public static TlsUpstream http2(List<String> events) {
        return new TlsUpstream(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1), events);
    }

    /** Offers HTTP/1.1 only. */
    public static TlsUpstream http1Only(List<String> events) {
        return new TlsUpstream(List.of(HttpVersion.HTTP_1_1), events);
    }

    private void answer(HttpServerRequest req) {
        req.body().onSuccess(body -> {
            String text = body.toString(StandardCharsets.UTF_8);
            synchronized (this) {
                versions.add(req.version());
                bodies.add(text);
            }
            if (text.contains("GOAWAY") && goAways.getAndIncrement() == 0) {
                // the provider shuts the connection down before it took this request: HTTP/2 GOAWAY naming no stream
                // as processed (a server going away, a connection rotated), so the client may send it again elsewhere
                req.connection().goAway(0, 0);
                return;
            }
            req.response().setStatusCode(200).putHeader("Content-Type", "text/event-stream");
            if (text.contains("FLOOD")) {
                // far more than the gateway relays to a client that does not read: written as the flow control allows,
                // counted as stalled once the gateway stops taking it
                flood(req.response(), 150);
                return;
            }
            if (text.contains("BREAK")) {
                // the provider gives up mid-answer: two events, then the stream is reset (HTTP/2 RST_STREAM; over
                // HTTP/1.1 the connection is closed)
                req.response().write(events.get(0));
                req.response().write(events.get(1)).onComplete(v -> req.response().reset());
                return;
            }
            if (text.contains("HOLD")) {
                java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean();
                Runnable reset = () -> {
                    if (counted.compareAndSet(false, true)) {
                        resets.incrementAndGet();
                    }
                };
                req.response().exceptionHandler(t -> reset.run()).closeHandler(v -> reset.run());
                req.exceptionHandler(t -> reset.run()); // HTTP/2: the stream's RST_STREAM
                req.response().write(events.get(0));
                return;
            }
            req.response().end(String.join("", events) + "data: [DONE]\n\n");
        });
    }

    private void flood(io.vertx.core.http.HttpServerResponse response, int left) {
        if (left == 0) {
            response.end(Chunks.finish("stop") + "data: [DONE]\n\n");
            return;
        }
        response.write(Chunks.delta(left == 150 ? "start" : "x".repeat(64_000)));
        if (response.writeQueueFull()) {
            stalledSince = System.nanoTime();
            response.drainHandler(v -> {
                stalledSince = -1;
                flood(response, left - 1);
            });
        } else {
            vertx.runOnContext(v -> flood(response, left - 1));
        }
    }

    /** How long a flooding answer has been waiting for the gateway to take more (HTTP/2 flow control); zero if not. */
    public Duration stalledFor() {
        long since = stalledSince;
        return since < 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The PEM certificate to trust (LLM_TRUSTED_CA_FILE). */
    public Path certificate() {
        return dir.resolve("upstream.pem");
    }

    /** The API base with the host name the certificate names. */
    public String baseUrl() {
        return "https://localhost:" + server.actualPort() + "/v1";
    }

    public synchronized List<HttpVersion> versions() {
        return List.copyOf(versions);
    }

    public synchronized List<String> bodies() {
        return List.copyOf(bodies);
    }

    public int connections() {
        return connections.get();
    }

    public int resets() {
        return resets.get();
    }

    /** Polls until the gateway has reset {@code n} held requests in all, or the deadline passes. */
    public boolean awaitResets(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (resets.get() < n) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        return true;
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing a test fixture
        }
    }
}
