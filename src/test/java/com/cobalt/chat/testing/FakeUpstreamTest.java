package com.cobalt.chat.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class FakeUpstreamTest {

    private static final Duration WAIT = Duration.ofSeconds(2);

    private FakeUpstream upstream;
    private HttpClient client;

    @BeforeEach
    void setUp() {
        upstream = FakeUpstream.start();
        client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade headers in the recorded requests
                .connectTimeout(WAIT)
                .build();
    }

    @AfterEach
    void tearDown() {
        upstream.close();
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(upstream.baseUrl() + pathAndQuery)).timeout(WAIT);
    }

    @Test
    void recordsPostWithPathQueryHeadersAndBodyExactly() throws Exception {
        upstream.enqueue(Script.json(200, "{\"ok\":true}"));
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"héllo ✓\"}]}";

        HttpResponse<String> resp = client.send(request("/v1/chat/completions?api-version=2024-06-01&x=a%20b")
                        .header("Authorization", "Bearer sk-test")
                        .header("Content-Type", "application/json")
                        .header("X-Trace", "one")
                        .header("X-Trace", "two")
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.body()).isEqualTo("{\"ok\":true}");
        RecordedRequest r = upstream.takeRequest(WAIT);
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/v1/chat/completions");
        assertThat(r.query()).isEqualTo("api-version=2024-06-01&x=a%20b");
        assertThat(r.header("authorization")).isEqualTo("Bearer sk-test");
        assertThat(r.header("AUTHORIZATION")).isEqualTo("Bearer sk-test");
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.headers().get("x-trace")).containsExactly("one", "two");
        assertThat(r.headers()).containsKey("content-length").doesNotContainKey("Authorization");
        assertThat(r.header("missing")).isNull();
        assertThat(r.body()).isEqualTo(body);
        assertThat(upstream.requestCount()).isEqualTo(1);
        assertThat(upstream.requests()).containsExactly(r);
    }

    @Test
    void getWithoutQueryRecordsNullQueryAndEmptyBody() throws Exception {
        upstream.enqueue(Script.status(204));
        HttpResponse<String> resp = client.send(request("/v1/models").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).isEqualTo(204);
        RecordedRequest r = upstream.takeRequest(WAIT);
        assertThat(r.method()).isEqualTo("GET");
        assertThat(r.path()).isEqualTo("/v1/models");
        assertThat(r.query()).isNull();
        assertThat(r.body()).isEmpty();
    }

    @Test
    void sseChunksArriveInOrderWithExactBytes() throws Exception {
        String e1 = "data: {\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\n\n";
        String e2 = "data: {\"choices\":[{\"delta\":{\"content\":\"llo ✓\"}}]}\n\n";
        String e3 = "data: [DONE]\n\n";
        upstream.enqueue(Script.status(200).header("Content-Type", "text/event-stream")
                .chunk(e1).delay(Duration.ofMillis(150)).chunk(e2).chunk(e3));

        HttpResponse<InputStream> resp = client.send(request("/v1/chat/completions")
                .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true}")).build(),
                HttpResponse.BodyHandlers.ofInputStream());

        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.headers().firstValue("content-type")).hasValue("text/event-stream");
        assertThat(resp.headers().firstValue("transfer-encoding")).hasValue("chunked");
        try (InputStream in = resp.body()) {
            byte[] first = in.readNBytes(e1.getBytes(StandardCharsets.UTF_8).length);
            assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo(e1);
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(e2 + e3);
        }
        assertThat(upstream.disconnects()).isZero();
    }

    @Test
    void sseConvenienceAndKeepAliveReuseTheConnection() throws Exception {
        upstream.enqueue(Script.sse("data: a\n\n", "data: b\n\n"))
                .enqueue(Script.sse("data: c\n\n"));

        HttpResponse<String> first = client.send(request("/one").build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> second = client.send(request("/two").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(first.body()).isEqualTo("data: a\n\ndata: b\n\n");
        assertThat(second.body()).isEqualTo("data: c\n\n");
        assertThat(upstream.requests()).extracting(RecordedRequest::path).containsExactly("/one", "/two");
        assertThat(upstream.connections()).isEqualTo(1);
    }

    @Test
    void wireBytesAreExact() throws Exception {
        upstream.enqueue(Script.sse("data: ✓\n\n", "data: [DONE]\n\n"));
        String response = rawExchange("GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assertThat(response).isEqualTo("HTTP/1.1 200 OK\r\n"
                + "Content-Type: text/event-stream\r\n"
                + "Transfer-Encoding: chunked\r\n"
                + "\r\n"
                + "b\r\ndata: ✓\n\n\r\n" // "✓" is 3 bytes in UTF-8: 6 + 3 + 2 = 0xb
                + "e\r\ndata: [DONE]\n\n\r\n"
                + "0\r\n\r\n");
    }

    @Test
    void chunkedRequestBodyIsDecoded() throws Exception {
        upstream.enqueue(Script.json(201, "{}"));
        String response = rawExchange("POST /c?q HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
        assertThat(response).isEqualTo("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                + "Content-Length: 2\r\n\r\n{}");
        RecordedRequest r = upstream.takeRequest(WAIT);
        assertThat(r.body()).isEqualTo("hello world");
        assertThat(r.query()).isEqualTo("q");
    }

    @Test
    void jsonErrorScript() throws Exception {
        String error = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
        upstream.enqueue(Script.json(429, error).header("Retry-After", "2"));

        HttpResponse<String> resp = client.send(request("/v1/chat/completions")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(resp.statusCode()).isEqualTo(429);
        assertThat(resp.body()).isEqualTo(error);
        assertThat(resp.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(resp.headers().firstValue("retry-after")).hasValue("2");
        assertThat(resp.headers().firstValue("content-length")).hasValue(String.valueOf(error.length()));
    }

    @Test
    void emptyQueueAnswers500() throws Exception {
        HttpResponse<String> resp = client.send(request("/v1/chat/completions")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(resp.statusCode()).isEqualTo(500);
        assertThat(resp.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(resp.body()).isEqualTo("{\"error\":{\"message\":\"no script queued\",\"type\":\"fake_upstream\"}}");
        assertThat(upstream.requestCount()).isEqualTo(1);
    }

    @Test
    void cutMakesTheClientFailWithAnIncompleteBody() throws Exception {
        upstream.enqueue(Script.sse("data: one\n\n").cut());

        assertThatThrownBy(() -> client.send(request("/v1/chat/completions").build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);

        upstream.enqueue(Script.sse("data: one\n\n").cut());
        HttpResponse<InputStream> resp = client.send(request("/v1/chat/completions").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = resp.body()) {
            assertThat(new String(in.readNBytes(11), StandardCharsets.UTF_8)).isEqualTo("data: one\n\n");
            assertThatThrownBy(in::read).isInstanceOf(IOException.class);
        }
        assertThat(upstream.requestCount()).isEqualTo(2);
        assertThat(upstream.disconnects()).isZero(); // the server hung up, not the client
    }

    @Test
    void closeDelimitedBodyEndsWithTheConnection() throws Exception {
        upstream.enqueue(Script.sse("data: a\n\n", "data: b\n\n").closeDelimited());
        HttpResponse<String> resp = client.send(request("/s").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(resp.body()).isEqualTo("data: a\n\ndata: b\n\n");
        assertThat(resp.headers().firstValue("transfer-encoding")).isEmpty();
        assertThat(resp.headers().firstValue("content-length")).isEmpty();
        assertThat(resp.headers().firstValue("connection")).hasValue("close");
    }

    @Test
    void stallThenClientCancelIsADisconnect() throws Exception {
        upstream.enqueue(Script.sse("data: first\n\n").stall());

        HttpResponse<InputStream> resp = client.send(request("/v1/chat/completions").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        InputStream in = resp.body();
        assertThat(new String(in.readNBytes(13), StandardCharsets.UTF_8)).isEqualTo("data: first\n\n");
        assertThat(upstream.disconnects()).isZero();
        in.close(); // the client gives up on the stream: the JDK client closes the connection

        assertThat(upstream.awaitDisconnect(WAIT)).isTrue();
        assertThat(upstream.disconnects()).isEqualTo(1);
    }

    @Test
    void clientLeavingDuringADelayIsNoticedBeforeTheDelayEnds() throws Exception {
        upstream.enqueue(Script.sse("data: first\n\n").delay(Duration.ofSeconds(30)).chunk("data: late\n\n"));

        HttpResponse<InputStream> resp = client.send(request("/v1/chat/completions").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        InputStream in = resp.body();
        assertThat(in.readNBytes(13)).hasSize(13);
        in.close();

        assertThat(upstream.awaitDisconnect(WAIT)).isTrue();
    }

    @Test
    void noHeadersThenClientTimeoutIsADisconnect() {
        upstream.enqueue(Script.status(200).noHeaders());

        assertThatThrownBy(() -> client.send(request("/v1/chat/completions").timeout(Duration.ofMillis(200)).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(HttpTimeoutException.class);

        assertThat(upstream.awaitDisconnect(WAIT)).isTrue();
        assertThat(upstream.requestCount()).isEqualTo(1);
    }

    @Test
    void takeRequestTimesOutWithAssertionError() {
        assertThatThrownBy(() -> upstream.takeRequest(Duration.ofMillis(50))).isInstanceOf(AssertionError.class);
        assertThat(upstream.awaitDisconnect(Duration.ofMillis(20))).isFalse();
    }

    @Test
    void resetClearsQueueRequestsAndCounters() throws Exception {
        upstream.enqueue(Script.json(200, "{}")).enqueue(Script.json(201, "{}"));
        client.send(request("/a").build(), HttpResponse.BodyHandlers.ofString());
        upstream.reset();

        assertThat(upstream.requests()).isEmpty();
        assertThat(upstream.requestCount()).isZero();
        assertThat(upstream.disconnects()).isZero();
        HttpResponse<String> resp = client.send(request("/b").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).isEqualTo(500); // the queued 201 was dropped
        assertThat(upstream.takeRequest(WAIT).path()).isEqualTo("/b");
    }

    @Test
    void scriptBuilderRejectsContradictions() {
        assertThatThrownBy(() -> Script.status(200).chunk("a").body("b")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Script.status(200).body("a").chunk("b")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Script.status(200).cut().chunk("b")).isInstanceOf(IllegalStateException.class);
    }

    /** Sends raw bytes on a fresh connection and returns everything the server writes until it closes. */
    private String rawExchange(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), upstream.port())) {
            s.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            s.getInputStream().transferTo(all);
            return all.toString(StandardCharsets.UTF_8);
        }
    }
}
