package com.cobalt.chat.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * The test gateway's start when a port it found free was taken before it bound it (a CI run once failed a whole
 * test class with "gateway failed to start" and no reason): it starts again on other ports, and a failure that
 * persists says why.
 */
class RunningGatewayTest {

    @Test
    void aPortTakenBeforeTheGatewayBindsItIsReplacedByAnother() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            AtomicInteger draws = new AtomicInteger();
            try (RunningGateway gateway = RunningGateway.start(Map.of("llm.provider", "demo"), Map.of(),
                    () -> draws.getAndIncrement() == 0 ? taken.getLocalPort() : RunningGateway.freePort())) {
                assertThat(gateway.port()).isNotEqualTo(taken.getLocalPort());
                assertThat(new GatewayClient(gateway).send("GET", "/api/v1/models", Jwt.token("port-pat"), null, null).statusCode())
                        .isEqualTo(200);
                assertThat(draws.get()).as("two ports for the failed start, two for the second").isEqualTo(4);
            }
        }
    }

    @Test
    void aPortThatStaysTakenFailsTheStartSayingSo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            AtomicInteger draws = new AtomicInteger();
            assertThatThrownBy(() -> RunningGateway.start(Map.of("llm.provider", "demo"), Map.of(),
                    () -> draws.getAndIncrement() % 2 == 0 ? taken.getLocalPort() : RunningGateway.freePort()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("gateway failed to start")
                    .hasMessageContaining("HTTP_PORT=" + taken.getLocalPort())
                    .hasMessageContaining("(the port is already in use)");
            assertThat(draws.get()).as("three attempts").isEqualTo(6);
        }
    }
}
