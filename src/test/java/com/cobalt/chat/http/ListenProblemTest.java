package com.cobalt.chat.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

/**
 * Why the chat port could not be listened on names the setting to mend, from the exceptions the JDK really throws:
 * a host that is not this machine's and a name that does not resolve were both reported as HTTP_PORT's (black-box
 * probe, 2026-12-05).
 */
class ListenProblemTest {

    @Test
    void aBusyPortIsHttpPorts() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket second = new ServerSocket()) {
            Throwable busy = catchThrowable(() -> second.bind(held.getLocalSocketAddress()));

            assertThat(AsyncPlatformHttpEngine.listenProblem("127.0.0.1", held.getLocalPort(), busy)).isEqualTo(
                    "HTTP_PORT=" + held.getLocalPort() + ": cannot listen on 127.0.0.1:" + held.getLocalPort()
                            + " (the port is already in use)");
        }
    }

    @Test
    void anAddressThisMachineDoesNotHaveIsHttpHosts() throws Exception {
        try (ServerSocket socket = new ServerSocket()) {
            // TEST-NET-1 (RFC 5737): never an address of this machine
            Throwable foreign = catchThrowable(() -> socket.bind(new InetSocketAddress("192.0.2.1", 0)));

            assertThat(AsyncPlatformHttpEngine.listenProblem("192.0.2.1", 8080, foreign))
                    .isEqualTo("HTTP_HOST=192.0.2.1: not an address of this machine");
        }
    }

    @Test
    void aNameThatDoesNotResolveIsHttpHosts() {
        Throwable unknown = catchThrowable(() -> InetAddress.getByName("no-such-host.invalid"));

        assertThat(AsyncPlatformHttpEngine.listenProblem("no-such-host.invalid", 8080, unknown))
                .isEqualTo("HTTP_HOST=no-such-host.invalid: the name does not resolve to an address");
    }
}
