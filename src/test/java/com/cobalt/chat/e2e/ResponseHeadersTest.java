package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A response carries only headers the gateway itself sets: headers of the request (which every route's message
 * starts out with) never come back, the request id is always there and sanitised, every response is
 * {@code X-Content-Type-Options: nosniff} and every JSON answer {@code Cache-Control: no-store}.
 */
class ResponseHeadersTest {

    /** Headers a caller might send hoping to see them in the answer. */
    static final Map<String, String> HOSTILE = Map.of(
            "Location", "https://evil.example/",
            "Cache-Control", "public, max-age=31536000",
            "WWW-Authenticate", "Basic realm=\"evil\"",
            "Retry-After", "9999",
            "X-RateLimit-Limit", "7",
            "X-RateLimit-Remaining", "6",
            "X-Cobalt-Provider", "evil",
            "X-Cobalt-Model", "evil",
            "X-Request-Id", "junk id <script>");
    /** The JSON answers' headers, all of them. */
    static final Set<String> JSON_HEADERS =
            Set.of("cache-control", "content-length", "content-type", "x-content-type-options", "x-request-id");

    static RunningGateway gateway;
    static GatewayClient client;
    static String token;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
        token = Jwt.token("headers-" + UUID.randomUUID());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static HttpResponse<String> send(String method, String path, String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                .timeout(Duration.ofSeconds(30));
        HOSTILE.forEach(b::header);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<String> names(HttpHeaders headers) {
        return new TreeSet<>(headers.map().keySet().stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList());
    }

    static void assertOnlyGatewayHeaders(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(names(r.headers())).as(r.uri().toString()).isEqualTo(JSON_HEADERS);
        assertThat(r.headers().allValues("Content-Type")).containsExactly("application/json");
        assertThat(r.headers().allValues("Cache-Control")).containsExactly("no-store");
        assertThat(r.headers().allValues("X-Content-Type-Options")).containsExactly("nosniff");
        assertThat(r.headers().allValues("X-Request-Id")).hasSize(1);
        assertThat(UUID.fromString(r.headers().firstValue("X-Request-Id").orElseThrow()).version()).isEqualTo(4);
    }

    @Test
    void jsonAnswersOfTheSessionApiEchoNoRequestHeader() {
        assertOnlyGatewayHeaders(send("GET", "/api/v1/chat/sessions", token, null), 200);
        assertOnlyGatewayHeaders(send("GET", "/api/v1/models", token, null), 200);
        assertOnlyGatewayHeaders(send("GET", "/api/v1/usage", token, null), 200);
        String session = client.createSession(token);
        assertOnlyGatewayHeaders(send("GET", "/api/v1/chat/sessions/" + session, token, null), 200);
        assertOnlyGatewayHeaders(send("POST", "/api/v1/chat/sessions", token, "{\"title\":\"h\"}"), 201);
    }

    @Test
    void theOpenAiApiEchoesNoRequestHeader() {
        assertOnlyGatewayHeaders(send("GET", "/v1/models", token, null), 200);
        assertOnlyGatewayHeaders(send("GET", "/v1/models/cobalt-demo", token, null), 200);
        assertOnlyGatewayHeaders(send("GET", "/v1/models/nope", token, null), 404);
    }

    @Test
    void errorAnswersEchoNoRequestHeaderAndKeepTheirOwn() {
        assertOnlyGatewayHeaders(send("GET", "/api/v1/chat/sessions/" + UUID.randomUUID(), token, null), 404);
        assertOnlyGatewayHeaders(send("GET", "/api/v1/nope", token, null), 404);
        // a 405 adds the one header of its own, the resource's methods (RFC 9110)
        HttpResponse<String> wrongMethod = send("PUT", "/api/v1/chat/sessions", token, "{}");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        Set<String> withAllow = new TreeSet<>(JSON_HEADERS);
        withAllow.add("allow");
        assertThat(names(wrongMethod.headers())).isEqualTo(withAllow);
        assertThat(wrongMethod.headers().allValues("Allow")).containsExactly("GET, HEAD, POST");
        assertOnlyGatewayHeaders(send("POST", "/api/v1/chat/sessions", token, "{bad"), 400);

        HttpResponse<String> unauthorized = send("GET", "/api/v1/chat/sessions", null, null);
        assertThat(unauthorized.statusCode()).isEqualTo(401);
        assertThat(unauthorized.headers().allValues("WWW-Authenticate")).containsExactly("Bearer");
        assertThat(unauthorized.headers().allValues("Cache-Control")).containsExactly("no-store");
        assertThat(unauthorized.headers().allValues("X-Content-Type-Options")).containsExactly("nosniff");
        assertThat(unauthorized.headers().firstValue("Location")).isEmpty();
        assertThat(unauthorized.headers().firstValue("Retry-After")).isEmpty();
    }

    @Test
    void aStreamedAnswerIsNosniffAndEchoesNothing() {
        String session = client.createSession(token);
        HttpResponse<String> r = send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "{\"content\":\"hi\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().allValues("Content-Type")).containsExactly("text/event-stream; charset=utf-8");
        assertThat(r.headers().allValues("X-Content-Type-Options")).containsExactly("nosniff");
        assertThat(r.headers().allValues("X-Cobalt-Provider")).containsExactly("demo");
        assertThat(r.headers().allValues("X-Cobalt-Model")).containsExactly("cobalt-demo");
        assertThat(r.headers().allValues("X-RateLimit-Limit")).containsExactly("100000");
        assertThat(r.headers().firstValue("Location")).isEmpty();
        assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
    }

    /**
     * The management port answers its router's errors in JSON too, and HEAD where GET is (black-box probe,
     * 2026-12-05: an unknown path was Vert.x's HTML page, a wrong method an empty 405, HEAD a 405).
     */
    @Test
    void theManagementPortsErrorsAreJsonAndHeadWorks() throws Exception {
        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl() + "/nope"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(unknown.body()).isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"No such resource\"}}");

        HttpResponse<String> wrongMethod = http.send(HttpRequest.newBuilder(
                URI.create(gateway.managementUrl() + "/observe/health/ready"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.body()).isEqualTo(
                "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"Method not allowed on this resource\"}}");
        assertThat(wrongMethod.headers().allValues("Allow")).containsExactly("GET, HEAD");

        HttpResponse<String> head = http.send(HttpRequest.newBuilder(
                URI.create(gateway.managementUrl() + "/observe/health/ready"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    /**
     * The management port reads requests as strictly as the chat port: a Host Vert.x cannot parse is a JSON 400 and
     * the connection closes. One holding a '%' was never answered there (its connection held open), the others got
     * a plain-text "Bad Request" with an ERROR logged per request (black-box probe, 2026-12-05).
     */
    @Test
    void theManagementPortRefusesAHostThatIsNotAHostAndPortAsJson() throws Exception {
        int port = Integer.parseInt(gateway.managementUrl().substring(gateway.managementUrl().lastIndexOf(':') + 1));
        for (String host : new String[] {"a%41b", "a b"}) {
            assertJsonRefusal(rawOf(port, "GET /observe/health/live HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), 400,
                    "{\"error\":{\"code\":\"invalid_request\",\"message\":\"The Host header is not a valid host and"
                            + " port\"}}");
        }
        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create(gateway.managementUrl()
                + "/observe/health/live")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(live.statusCode()).isEqualTo(200);
    }

    @Test
    void aSaneCallerRequestIdIsKeptOnce() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/api/v1/chat/sessions"))
                .header("Authorization", "Bearer " + token).header("X-Request-Id", "caller-1.2:3").GET().build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().allValues("X-Request-Id")).containsExactly("caller-1.2:3");
    }

    /** A folded header is refused (obs-fold, StrictHttpTest); the refusal's request id is the gateway's own. */
    @Test
    void aFoldedRequestIdWithCrLfIsRefusedWithARequestIdOfItsOwn() throws Exception {
        String answer = raw("GET /api/v1/chat/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                + "\r\nX-Request-Id: xyz\r\n qrs\r\nConnection: close\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n").endsWith("\r\n\r\n"
                + "{\"error\":{\"code\":\"invalid_request\",\"message\":\"A header line may not be folded onto the"
                + " next (obs-fold)\"}}");
        String head = answer.substring(0, answer.indexOf("\r\n\r\n"));
        String requestId = head.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("x-request-id:"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).reduce((a, b) -> a + "|" + b).orElseThrow();
        assertThat(UUID.fromString(requestId).version()).isEqualTo(4);
        // letters no UUID holds: "abc" and "def" were here, and a fresh UUID held "abce" once (CI 2026-12-05)
        assertThat(head).doesNotContain("xyz").doesNotContain("qrs");
    }

    /**
     * What HTTP/1.x's decoder cannot take is a JSON error with its request id and nosniff, like every other
     * refusal, and the connection closes (helper audit, 2026-12-04: these were bare HTTP/1.0 replies, no body).
     */
    @Test
    void requestsTheDecoderRefusesAreJsonErrorsWithARequestId() throws Exception {
        assertRawRefusal("GET /api/v1/chat/sessions/" + "x".repeat(5_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                "{\"error\":{\"code\":\"uri_too_long\",\"message\":\"The request line is longer than the gateway"
                        + " accepts\"}}");
        assertRawRefusal("GET /api/v1/chat/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                        + "y".repeat(14_000) + "\r\n\r\n", 431,
                "{\"error\":{\"code\":\"headers_too_large\",\"message\":\"The request headers are larger than the"
                        + " gateway accepts\"}}");
        assertRawRefusal("HELLO WORLD\r\n\r\n", 400,
                "{\"error\":{\"code\":\"invalid_request\",\"message\":\"The request is not valid HTTP\"}}");
    }

    /**
     * A request target that is not a path - the asterisk form of OPTIONS, the authority form of CONNECT - is a JSON
     * 404 with a request id like every other answer; the router failed it before the handler that adds the id ran
     * (black-box probe, 2026-12-05).
     */
    @Test
    void aTargetThatIsNotAPathIsAJson404WithARequestId() throws Exception {
        for (String request : new String[] {"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n"}) {
            String answer = raw(request);
            assertThat(answer).as(request).startsWith("HTTP/1.1 404 Not Found\r\n");
            String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
            assertThat(head).as(request).contains("\r\ncontent-type: application/json")
                    .contains("\r\nx-content-type-options: nosniff").containsPattern("\r\nx-request-id: [0-9a-f-]{36}");
            assertThat(answer).as(request).endsWith("{\"error\":{\"code\":\"not_found\",\"message\":\"No such resource\"}}");
        }
    }

    static void assertRawRefusal(String request, int status, String body) throws IOException {
        assertJsonRefusal(raw(request), status, body);
    }

    /**
     * A refusal read off a raw socket: the status, JSON with nosniff and a fresh v4 request id, the connection
     * closed after it, and exactly {@code body}.
     */
    static void assertJsonRefusal(String answer, int status, String body) {
        assertThat(answer).startsWith("HTTP/1.");
        assertThat(answer.substring(9, 12)).isEqualTo(String.valueOf(status));
        String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
        assertThat(head).contains("\r\ncontent-type: application/json").contains("\r\nx-content-type-options: nosniff")
                .contains("\r\nconnection: close");
        String requestId = head.lines().filter(l -> l.startsWith("x-request-id:"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElseThrow();
        assertThat(UUID.fromString(requestId).version()).isEqualTo(4);
        assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4)).isEqualTo(body);
    }

    static String raw(String request) throws IOException {
        return raw(gateway, request);
    }

    /** Sends the bytes as they are to {@code g}'s chat port and reads until the gateway closes the connection. */
    static String raw(RunningGateway g, String request) throws IOException {
        return rawOf(g.port(), request);
    }

    static String rawOf(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            in.transferTo(buffer);
            return buffer.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
