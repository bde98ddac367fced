package com.cobalt.chat.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import com.cobalt.chat.testing.LogCapture;
import org.junit.jupiter.api.Test;

/**
 * A JWKS URL decides whose tokens are good: read over plain HTTP from another host, anyone on the network path could
 * hand in keys of their own. The gateway says so once, at start (not refused: an identity service inside a cluster
 * is often reached so); HTTPS and this machine's own addresses pass without a word. (Security probe: it was accepted
 * without one.)
 */
class JwksKeysTest {

    static final String WARNING = "CHAT_JWT_JWKS_URL %s is plain http:// to another host: anyone on the network path"
            + " could substitute the signing keys; use https://";

    @Test
    void plainHttpToAnotherHostIsWarnedOfOnce() {
        assertThat(warningsFor("http://idp.example.com:8080/realms/x/certs"))
                .containsExactly(String.format(WARNING, "http://idp.example.com:8080/realms/x/certs"));
        assertThat(warningsFor("HTTP://10.0.0.7/keys")).containsExactly(String.format(WARNING, "HTTP://10.0.0.7/keys"));
    }

    @Test
    void httpsAndThisMachineAreNot() {
        for (String url : List.of("https://idp.example.com/keys", "http://127.0.0.1:9999/keys",
                "http://localhost/keys", "http://[::1]:8080/keys", "http://127.1.2.3/keys")) {
            assertThat(warningsFor(url)).as(url).isEmpty();
        }
    }

    static List<String> warningsFor(String url) {
        try (LogCapture logs = LogCapture.start()) {
            new JwksKeys(url);
            return logs.lines(JwksKeys.class.getName()).stream().filter(l -> l.level().equals("WARN"))
                    .map(LogCapture.Line::message).toList();
        }
    }
}
