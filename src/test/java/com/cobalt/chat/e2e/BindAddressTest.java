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
            assertThat(listening(log)).contains("Chat API listening on 0.0.0.0:" + g.port() + " ")
                    .doesNotContain("127.0.0.1");
        }
    }
}
