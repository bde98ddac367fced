package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * With authentication off (the README's first command) both servers listen on loopback only, so the single user
 * "local" is not offered to the network; with authentication on they listen on every address unless told otherwise.
 */
class BindAddressTest {

    static String listening(LogCapture log) {
        return log.lines().stream().map(LogCapture.Line::message)
                .filter(m -> m.startsWith("Vert.x HttpServer started on ") || m.startsWith("Chat API listening on "))
                .reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void authOffListensOnLoopbackOnly() {
        try (LogCapture log = LogCapture.start();
             RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo", "chat.auth.disabled", "true"))) {
            assertThat(listening(log)).contains("Chat API listening on 127.0.0.1:" + g.port() + " ")
                    .contains("Vert.x HttpServer started on 127.0.0.1:" + g.managementUrl().replaceAll(".*:", ""))
                    .doesNotContain("0.0.0.0");
            // nor does any other start-up line say so (Camel's endpoint summary printed http://0.0.0.0:<port>/...)
            assertThat(log.lines()).extracting(LogCapture.Line::all).noneMatch(l -> l.contains("0.0.0.0"));
        }
    }

    @Test
    void authOnListensOnEveryAddress() {
        try (LogCapture log = LogCapture.start();
             RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo"))) {
            // the management port too; Camel's own server, where the routes are added before the chat port opens,
            // on a free port of the loopback only
            assertThat(listening(log)).contains("Chat API listening on 0.0.0.0:" + g.port() + " ")
                    .contains("Vert.x HttpServer started on 0.0.0.0:" + g.managementUrl().replaceAll(".*:", "") + "\n")
                    .containsPattern("Vert.x HttpServer started on 127\\.0\\.0\\.1:\\d+\n")
                    .doesNotContain("on 127.0.0.1:" + g.port());
        }
    }

    /** The status line and body of a GET with this Host header, over a raw socket (HTTP clients set Host themselves). */
    static String getWithHost(int port, String host) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /api/v1/chat/sessions HTTP/1.1\r\nHost: " + host
                    + "\r\nOrigin: http://" + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            return response.substring(0, response.indexOf("\r\n")) + " "
                    + response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    /**
     * With authentication off, a request addressed to another name than the loopback's is refused: a page on a
     * domain an attacker points at 127.0.0.1 (DNS rebinding) would otherwise be same-origin with the gateway and
     * could read and delete the local user's chats (black-box audit, 2026-12-04).
     */
    @Test
    void authOffAnswersOnlyRequestsAddressedToTheLoopback() throws Exception {
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo", "chat.auth.disabled", "true"))) {
            assertThat(getWithHost(g.port(), "attacker.example:" + g.port())).isEqualTo("HTTP/1.1 403 Forbidden "
                    + "{\"error\":{\"code\":\"forbidden_host\",\"message\":\"With authentication off the gateway"
                    + " answers only requests addressed to localhost, 127.0.0.1 or [::1]\"}}");
            assertThat(getWithHost(g.port(), "127.0.0.1.attacker.example")).startsWith("HTTP/1.1 403 ");
            for (String host : java.util.List.of("localhost:" + g.port(), "127.0.0.1:" + g.port(), "[::1]:" + g.port(),
                    "LOCALHOST")) {
                assertThat(getWithHost(g.port(), host)).as(host).startsWith("HTTP/1.1 200 OK {\"sessions\":[");
            }
        }
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo"))) {
            assertThat(getWithHost(g.port(), "chat.example.com")).as("auth on: any host, the token decides")
                    .startsWith("HTTP/1.1 401 ");
        }
    }
}
