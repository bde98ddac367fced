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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
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
