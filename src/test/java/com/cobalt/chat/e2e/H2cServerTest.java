package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;

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
}
