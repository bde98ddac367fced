package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.H2cSocket;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chat port with cleartext HTTP/2 on (HTTP_H2C_ENABLED), spoken frame by frame over a plain socket
 * ({@link H2cSocket}): what an HTTP/2 client library will not send. The request timeout is 1 s and the idle one 2 s.
 */
class H2cServerTest {

    static final String SESSIONS = "/api/v1/chat/sessions";

    static RunningGateway gateway;
    static String token;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "http.h2c-enabled", "true",
                "http.request-timeout-seconds", "1", "http.idle-connection-timeout-seconds", "2"));
        token = Jwt.token("h2c-" + UUID.randomUUID());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").scheme("http").path(path)
                .add("authorization", "Bearer " + token);
    }

    /**
     * RFC 9113 8.3.1: a request of the http or https scheme carries :authority or Host. One with neither was answered
     * by Vert.x with a plain-text "Bad Request" (no JSON, no request id); it is the JSON 400 an HTTP/1.1 request
     * without Host gets, on its own stream, and the connection's next stream is answered.
     */
    @Test
    void anHttp2RequestWithNeitherAuthorityNorHostIsAJson400OnItsStream() throws Exception {
        try (H2cSocket h2 = new H2cSocket(gateway.port())) {
            // in one write, as clients send them: the preface, SETTINGS and the first request
            java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
            first.writeBytes(H2cSocket.PREFACE);
            first.writeBytes(H2cSocket.frame(H2cSocket.SETTINGS, 0, 0, new byte[0]));
            first.writeBytes(h2.headers(1, get(SESSIONS), true));
            h2.send(first.toByteArray());

            Http2Headers answer = h2.decode(h2.next(H2cSocket.HEADERS));
            assertThat(answer.status()).hasToString("400");
            assertThat(answer.get("content-type")).hasToString("application/json");
            assertThat(answer.get("x-request-id")).isNotEmpty();
            H2cSocket.Frame body = h2.next(H2cSocket.DATA);
            assertThat(body.streamId()).isEqualTo(1);
            assertThat(body.text()).isEqualTo("{\"error\":{\"code\":\"invalid_request\",\"message\":\"An HTTP/2 request"
                    + " must have an :authority or a Host header\"}}");

            h2.send(h2.headers(3, get(SESSIONS).authority("localhost"), true));
            H2cSocket.Frame next = h2.next(H2cSocket.HEADERS);
            assertThat(next.streamId()).isEqualTo(3);
            assertThat(h2.decode(next).status()).hasToString("200");
        }
    }

    // --- the first request of an HTTP/1.1 connection: framed as on the default server ---

    /**
     * The first HTTP/1.1 request of a connection is framed as strictly as every later one, and as on the default
     * server (StrictHttpTest): Vert.x read its head itself to tell an h2c upgrade from a plain request, and took a
     * request with no Host (a plain-text 400), two Hosts, a folded line, Content-Length with Transfer-Encoding, a
     * transfer coding other than chunked or two Authorization headers; a Host with a '%' was never answered and held
     * its connection.
     */
    @Test
    void theFirstHttp11RequestOfAConnectionIsFramedStrictly() throws IOException {
        String get = "GET " + SESSIONS + " HTTP/1.1\r\n";
        String auth = "Authorization: Bearer " + token + "\r\n";
        String post = "POST " + SESSIONS + " HTTP/1.1\r\nHost: localhost\r\n" + auth
                + "Content-Type: application/json\r\n";
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put(get + auth + "\r\n", "An HTTP/1.1 request must have exactly one Host header");
        refused.put(get + "Host: a\r\nHost: b\r\n" + auth + "\r\n", "An HTTP/1.1 request must have exactly one Host header");
        refused.put(get + "Host: a%41b\r\n" + auth + "\r\n", "The Host header is not a valid host and port");
        refused.put(get + "Host: localhost\r\nAuthorization: Bearer\r\n " + token + "\r\n\r\n",
                "A header line may not be folded onto the next (obs-fold)");
        refused.put(post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "A request may not have both Content-Length and Transfer-Encoding");
        refused.put(post + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "Transfer-Encoding must be chunked");
        refused.put(get + "Host: localhost\r\n" + auth + auth + "\r\n", "A request may carry one Authorization header");
        for (Map.Entry<String, String> request : refused.entrySet()) {
            StrictHttpTest.Raw r = StrictHttpTest.exchange(gateway, request.getKey());

            assertThat(r.status()).as(request.getKey()).isEqualTo("HTTP/1.1 400 Bad Request");
            assertThat(r.body()).as(request.getKey()).isEqualTo("{\"error\":{\"code\":\"invalid_request\","
                    + "\"message\":\"" + request.getValue() + "\"}}");
            assertThat(r.header("x-request-id")).as(request.getKey()).isNotBlank();
            assertThat(r.closedAfter()).as(request.getKey()).isTrue();
        }
        // and a request of another version than 1.1 and 1.0 is the JSON 505 (it was Vert.x's bare 501)
        StrictHttpTest.Raw old = StrictHttpTest.exchange(gateway, "GET " + SESSIONS + " HTTP/1.2\r\nHost: x\r\n\r\n");
        assertThat(old.status()).endsWith(" 505 HTTP Version Not Supported");
        // a well-formed first request, its body sent with its head, is still answered (and an upgrade still works)
        String body = "{\"title\":\"first\"}";
        StrictHttpTest.Raw created = StrictHttpTest.exchange(gateway, post + "Content-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(created.status()).isEqualTo("HTTP/1.1 201 Created");
        StrictHttpTest.Raw upgraded = StrictHttpTest.exchange(gateway, get + "Host: localhost\r\n" + auth
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
                true);
        assertThat(upgraded.status()).isEqualTo("HTTP/1.1 101 Switching Protocols");
    }

    // --- connections that send too little ---

    /**
     * A connection that sends nothing closes after the idle timeout, and one that sends half a request head - HTTP/1.1,
     * or the first bytes of the HTTP/2 preface - gets the JSON 408 after the request timeout, as on the default server.
     * With h2c on, nothing timed a connection before its first request head was whole: each stayed open for as long
     * as the client liked (black-box probe with 2 s and 3 s timeouts: all still open after 13 s).
     */
    @Test
    void aConnectionThatSendsNothingOrHalfAHeadIsClosedInTime() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gateway.port())) {
            s.setSoTimeout(10_000);
            long opened = System.nanoTime();
            assertThat(s.getInputStream().read()).as("nothing, then the close").isEqualTo(-1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened)).isBetween(1_500L, 9_000L);
        }
        for (String half : new String[] {"GET " + SESSIONS + " HTTP/1.1\r\nHost: localhost\r\n",
                "PRI * HTTP/2.0\r\n", "P"}) {
            long started = System.nanoTime();
            String answer = ResponseHeadersTest.raw(gateway, half);
            RequestTimeoutsTest.assertTimedOut(answer, started);
        }
    }

    /**
     * Over HTTP/2 with prior knowledge, a header block that stops half way - a HEADERS frame without END_HEADERS and
     * no CONTINUATION, or a HEADERS frame cut short - closes the connection after the request timeout: a GOAWAY (no
     * error; its last stream is the last one taken, so the client knows the cut request was not) whose debug data is
     * the JSON 408, since no stream exists to answer on. It held the connection for as long as the client liked.
     */
    @Test
    void anHttp2HeaderBlockThatStopsHalfWayClosesTheConnectionWithAGoAway() throws Exception {
        for (boolean cutFrame : new boolean[] {false, true}) {
            try (H2cSocket h2 = new H2cSocket(gateway.port())) {
                h2.start();
                byte[] block = h2.block(1, get(SESSIONS).authority("localhost"));
                byte[] frame = H2cSocket.frame(H2cSocket.HEADERS, cutFrame ? H2cSocket.END_HEADERS : 0, 1, block);
                long started = System.nanoTime();
                h2.send(cutFrame ? java.util.Arrays.copyOf(frame, 12) : frame);

                List<H2cSocket.Frame> frames = h2.readToClose();
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                assertThat(waited).as("after the 1 s request timeout").isBetween(900L, 9_000L);
                H2cSocket.Frame goAway = frames.get(frames.size() - 1);
                assertThat(goAway.type()).as(frames.toString()).isEqualTo(H2cSocket.GOAWAY);
                assertThat(goAway.errorCode()).isZero();
                assertThat(goAway.debugData()).isEqualTo(RequestTimeoutsTest.TIMED_OUT);
                assertThat(frames).noneMatch(f -> f.type() == H2cSocket.HEADERS);
            }
        }
    }

    /**
     * An HTTP/2 connection with no stream open closes after the idle timeout (2 s here) with a GOAWAY, whether it sent
     * the preface alone or was left idle after its requests were answered; a PING does not keep it open. It stayed open
     * forever.
     */
    @Test
    void anIdleHttp2ConnectionIsClosedWithAGoAway() throws Exception {
        try (H2cSocket h2 = new H2cSocket(gateway.port())) {
            long started = System.nanoTime();
            h2.send(H2cSocket.PREFACE);
            List<H2cSocket.Frame> frames = h2.readToClose();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(1_500L, 9_000L);
            assertThat(frames.get(frames.size() - 1).type()).isEqualTo(H2cSocket.GOAWAY);
            assertThat(frames.get(frames.size() - 1).errorCode()).isZero();
        }
        try (H2cSocket h2 = new H2cSocket(gateway.port())) {
            h2.start();
            h2.send(h2.headers(1, get(SESSIONS).authority("localhost"), true));
            H2cSocket.Frame answer = h2.next(H2cSocket.HEADERS);
            assertThat(h2.decode(answer).status()).hasToString("200");
            long answered = System.nanoTime();
            h2.send(H2cSocket.frame(6, 0, 0, new byte[8])); // a PING: not a request

            List<H2cSocket.Frame> frames = h2.readToClose();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered)).isBetween(1_500L, 9_000L);
            H2cSocket.Frame goAway = frames.get(frames.size() - 1);
            assertThat(goAway.type()).isEqualTo(H2cSocket.GOAWAY);
            assertThat(goAway.errorCode()).isZero();
            assertThat(goAway.payload()[3]).as("last stream: the one answered").isEqualTo((byte) 1);
        }
    }

    /** A connection made HTTP/2 by an h2c upgrade closes when idle too, with a GOAWAY, once its upgrade request is answered. */
    @Test
    void anIdleConnectionUpgradedToHttp2IsClosedWithAGoAway() throws Exception {
        try (H2cSocket h2 = new H2cSocket(gateway.port())) {
            h2.send(("GET " + SESSIONS + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(h2.readLine()).isEqualTo("HTTP/1.1 101 Switching Protocols");
            while (!h2.readLine().isEmpty()) {
                // the 101's headers
            }
            h2.start();
            H2cSocket.Frame answer = h2.next(H2cSocket.HEADERS);
            assertThat(answer.streamId()).isEqualTo(1);
            assertThat(h2.decode(answer).status()).hasToString("200");
            long answered = System.nanoTime();

            List<H2cSocket.Frame> frames = h2.readToClose();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered)).isBetween(1_500L, 9_000L);
            H2cSocket.Frame goAway = frames.get(frames.size() - 1);
            assertThat(goAway.type()).as(frames.toString()).isEqualTo(H2cSocket.GOAWAY);
            assertThat(goAway.errorCode()).isZero();
        }
    }
}
