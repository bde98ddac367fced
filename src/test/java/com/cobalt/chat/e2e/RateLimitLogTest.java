package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A provider answering 429 is expected under load, not a fault: its 429s are logged at WARN once, then at most once
 * a minute per provider, never at ERROR. Each chat wrote its own WARN line before (a burst of four hundred chats
 * against a limiting provider and its fallback wrote over four hundred lines).
 */
class RateLimitLogTest {

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of());
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void aProvidersRepeated429sAreOneWarnLineNotOneAChat() {
        String token = Jwt.token("rate-limit-log-rita");
        try (LogCapture logs = LogCapture.start()) {
            for (int i = 0; i < 5; i++) {
                upstream.enqueue(Script.json(429, "{\"error\":{\"message\":\"Rate limit exceeded\","
                        + "\"type\":\"rate_limit\"}}"));
                HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
                assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
            }

            assertThat(upstream.requestCount()).isEqualTo(5);
            assertThat(logs.lines()).filteredOn(l -> l.level().equals("WARN") || l.level().equals("ERROR"))
                    .extracting(LogCapture.Line::message)
                    .containsExactly("Provider sambanova failed before its stream began: http_429");
        }
    }
}
