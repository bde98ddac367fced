package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A balancer's kept-alive connections while the gateway shuts down. Each answer given from the signal on says
 * {@code Connection: close} and its connection closes right after it, as does a stream's connection when the stream
 * ends within the grace: the balancer sends its next request elsewhere. Before, the 503 {@code shutting_down} kept the
 * connection open, and the servers closed every connection only at the end of the stop, so a request the balancer sent
 * on one at that moment got no answer at all - a 502 at haproxy in a rolling restart (black-box probe, 2026-12-05).
 *
 * <p>A chat whose provider never sends its first token holds the stop for the whole grace (5 s) and then gets 503:
 * each close here must come before that, i.e. from the answer, not from the end of the stop.
 */
@Timeout(60)
class DrainConnectionsTest {

    FakeUpstream upstream;
    RunningGateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void fromTheSignalOnEachAnswerClosesItsKeptAliveConnection() throws Exception {
        upstream = FakeUpstream.start();
        // a stream that ends within the grace, then a provider that never sends its first token
        upstream.enqueue(Script.sse(Chunks.delta("Before")).delay(Duration.ofMillis(1500))
                .chunk(Chunks.delta(" after")).chunk(Chunks.finish("stop")).chunk(Chunks.done()));
        upstream.enqueue(Script.sse().stall());
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "5"));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("drained-dora");

        try (Socket kept = open(); Socket streaming = open()) {
            // a kept-alive connection, as a balancer's pool holds it
            send(kept, get(token));
            Answer first = Answer.read(kept.getInputStream());
            assertThat(first.head).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(first.connection()).as(first.head).isNull();

            // a stream under way at the signal
            String chat = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
            send(streaming, "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + chat.length() + "\r\n\r\n" + chat);
            String streamHead = Answer.head(streaming.getInputStream());
            assertThat(streamHead).startsWith("HTTP/1.1 200 OK\r\n");
            upstream.takeRequest(Duration.ofSeconds(10));

            CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> client.send("POST",
                    "/v1/chat/completions", token, "application/json", chat));
            upstream.takeRequest(Duration.ofSeconds(10));
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);
            awaitShuttingDown(token);

            // (a) a request on the kept connection: 503, Connection: close, and the connection closes after it
            send(kept, get(token));
            Answer refused = Answer.read(kept.getInputStream());
            assertThat(refused.head).startsWith("HTTP/1.1 503 Service Unavailable\r\n");
            assertThat(refused.connection()).as(refused.head).isEqualTo("close");
            assertThat(kept.getInputStream().read()).as("the connection closes after the 503").isEqualTo(-1);
            assertThat(held).as("closed by the answer, not by the end of the stop").isNotDone();

            // (b) the stream ends whole within the grace, and its connection closes after its last chunk
            String rest = readToClose(streaming.getInputStream());
            assertThat(rest).contains("data: [DONE]\n\n").endsWith("0\r\n\r\n");
            assertThat(held).as("closed after the stream, not at the end of the stop").isNotDone();

            HttpResponse<String> late = held.get(20, TimeUnit.SECONDS);
            assertThat(late.statusCode()).as(late.body()).isEqualTo(503);
            stopped.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * With cleartext HTTP/2 on, an HTTP/1.1 connection is drained as with it off: from the signal its answer says
     * Connection: close and the connection closes after it. It stayed open, kept-alive, without a word (the HTTP/1.x
     * handlers that do this were left out with h2c on), and a balancer kept sending it requests until the stop.
     */
    @Test
    void withH2cOnAnHttp11ConnectionIsClosedAfterItsAnswerFromTheSignalOn() throws Exception {
        upstream = FakeUpstream.start();
        upstream.enqueue(Script.sse().stall());
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "5",
                "http.h2c-enabled", "true"));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("drained-h2c-http11-dora");

        try (Socket kept = open()) {
            send(kept, get(token));
            Answer first = Answer.read(kept.getInputStream());
            assertThat(first.head).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(first.connection()).as(first.head).isNull();

            String chat = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
            CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> client.send("POST",
                    "/v1/chat/completions", token, "application/json", chat));
            upstream.takeRequest(Duration.ofSeconds(10));
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);
            awaitShuttingDown(token);

            send(kept, get(token));
            Answer refused = Answer.read(kept.getInputStream());
            assertThat(refused.head).startsWith("HTTP/1.1 503 Service Unavailable\r\n");
            assertThat(refused.connection()).as(refused.head).isEqualTo("close");
            assertThat(kept.getInputStream().read()).as("the connection closes after the 503").isEqualTo(-1);
            assertThat(held).as("closed by the answer, not by the end of the stop").isNotDone();

            HttpResponse<String> late = held.get(20, TimeUnit.SECONDS);
            assertThat(late.statusCode()).as(late.body()).isEqualTo(503);
            stopped.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * With cleartext HTTP/2 on, the drain tells each HTTP/2 connection to go away (black-box probe: it did nothing for
     * them - HTTP/2 has no Connection: close - and a balancer kept opening streams on them). A client of Vert.x over
     * h2c with prior knowledge has a stream under way at the signal: it gets a GOAWAY (NO_ERROR, naming that stream
     * as the last one taken) while the stream is still open, the stream ends whole, and the connection closes after
     * it - before the end of the stop, which a second chat, held before its first token, keeps waiting.
     */
    @Test
    void fromTheSignalOnEachHttp2ConnectionGetsAGoAwayAndClosesAfterItsStreams() throws Exception {
        upstream = FakeUpstream.start();
        CountDownLatch release = new CountDownLatch(1);
        upstream.enqueue(Script.sse(Chunks.delta("Before")).holdUntil(release).chunk(Chunks.delta(" after"))
                .chunk(Chunks.finish("stop")).chunk(Chunks.done()));
        upstream.enqueue(Script.sse().stall());
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.shutdown-grace-seconds", "10",
                "http.h2c-enabled", "true"));
        String token = Jwt.token("drained-h2-hana");
        Vertx vertx = Vertx.vertx();
        try {
            HttpClient h2 = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false).setDefaultHost("127.0.0.1").setDefaultPort(gateway.port()));
            String chat = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
            StringBuffer body = new StringBuffer();
            CountDownLatch firstDelta = new CountDownLatch(1);
            CompletableFuture<Void> ended = new CompletableFuture<>();
            CompletableFuture<GoAway> goAway = new CompletableFuture<>();
            CompletableFuture<Boolean> closedAfterEnd = new CompletableFuture<>();
            HttpClientRequest request = h2.request(new RequestOptions().setMethod(HttpMethod.POST)
                    .setURI("/v1/chat/completions").putHeader("Authorization", "Bearer " + token)
                    .putHeader("Content-Type", "application/json"))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpConnection connection = request.connection();
            connection.goAwayHandler(g -> goAway.complete(new GoAway(g.getErrorCode(), g.getLastStreamId(),
                    ended.isDone())));
            connection.closeHandler(v -> closedAfterEnd.complete(ended.isDone()));
            // the handlers are set as the response arrives, on the connection's loop: no chunk goes by unread
            CompletableFuture<HttpClientResponse> answered = new CompletableFuture<>();
            request.response().onSuccess(response -> {
                response.handler(chunk -> {
                    body.append(chunk.toString(StandardCharsets.UTF_8));
                    if (body.indexOf("Before") >= 0) {
                        firstDelta.countDown();
                    }
                });
                response.endHandler(v -> ended.complete(null));
                answered.complete(response);
            }).onFailure(answered::completeExceptionally);
            request.end(chat);
            HttpClientResponse response = answered.get(10, TimeUnit.SECONDS);
            assertThat(response.version()).isEqualTo(HttpVersion.HTTP_2);
            assertThat(response.statusCode()).as(body::toString).isEqualTo(200);
            assertThat(firstDelta.await(10, TimeUnit.SECONDS)).isTrue();

            // a second chat on a connection of its own, held before its first token: it keeps the stop waiting for
            // the whole grace
            HttpClient other = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false).setDefaultHost("127.0.0.1").setDefaultPort(gateway.port()));
            CompletableFuture<Integer> held = other.request(new RequestOptions().setMethod(HttpMethod.POST)
                            .setURI("/v1/chat/completions").putHeader("Authorization", "Bearer " + token)
                            .putHeader("Content-Type", "application/json"))
                    .compose(r -> r.send(chat)).map(HttpClientResponse::statusCode)
                    .toCompletionStage().toCompletableFuture();
            upstream.takeRequest(Duration.ofSeconds(10));
            upstream.takeRequest(Duration.ofSeconds(10));
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);

            GoAway sent = goAway.get(10, TimeUnit.SECONDS);
            assertThat(sent).as("at the signal, while the stream is still under way")
                    .isEqualTo(new GoAway(0, request.streamId(), false));

            release.countDown();
            ended.get(10, TimeUnit.SECONDS);
            assertThat(body.toString()).contains("\"content\":\" after\"").endsWith("data: [DONE]\n\n");
            assertThat(closedAfterEnd.get(10, TimeUnit.SECONDS)).as("closed after its stream ended").isTrue();
            assertThat(held).as("closed after its streams, not at the end of the stop").isNotDone();

            assertThat(held.get(20, TimeUnit.SECONDS)).isEqualTo(503);
            stopped.get(30, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** What the client saw of a GOAWAY, and whether its stream had ended by then. */
    record GoAway(long errorCode, int lastStreamId, boolean streamEnded) {
    }

    /** Until a new connection's request gets the shutdown's 503. */
    private void awaitShuttingDown(String token) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket probe = open()) {
                send(probe, get(token));
                if (Answer.read(probe.getInputStream()).head.startsWith("HTTP/1.1 503 ")) {
                    return;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("the gateway did not start refusing within 10 s");
    }

    private Socket open() throws IOException {
        Socket s = new Socket("127.0.0.1", gateway.port());
        s.setSoTimeout(15_000);
        return s;
    }

    private static String get(String token) {
        return "GET /api/v1/chat/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    }

    private static void send(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readToClose(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        return buffer.toString(StandardCharsets.UTF_8);
    }

    /** A response with a Content-Length: its head and body. */
    record Answer(String head, String body) {

        static Answer read(InputStream in) throws IOException {
            String head = head(in);
            String length = header(head, "content-length");
            assertThat(length).as(head).isNotNull();
            byte[] body = in.readNBytes(Integer.parseInt(length));
            return new Answer(head, new String(body, StandardCharsets.UTF_8));
        }

        static String head(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("the connection closed before a whole head: " + head);
                }
                head.write(b);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        String connection() {
            return header(head, "connection");
        }

        static String header(String head, String name) {
            return head.lines().filter(l -> l.toLowerCase(Locale.ROOT).startsWith(name + ":"))
                    .map(l -> l.substring(name.length() + 1).trim()).findFirst().orElse(null);
        }
    }
}
