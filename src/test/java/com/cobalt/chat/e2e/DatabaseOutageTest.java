package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * The shared database goes away (a restart, a failover, a network cut): requests get a prompt 503
 * database_unavailable with Retry-After, within CHAT_DB_CONNECTION_TIMEOUT_MS, not a 500 after Hikari's 30 s; and the
 * gateway serves again once the database is back (black-box audit, 2026-12-04). PostgreSQL through a TCP proxy the
 * test cuts.
 */
class DatabaseOutageTest {

    @Test
    void withTheDatabaseOutOfReachRequestsGetA503DatabaseUnavailableAtOnceAndServeAgainWhenItIsBack() {
        Postgres.assumeAvailable();
        URI real = URI.create(Postgres.URL.substring("jdbc:".length()));
        try (Postgres.Schema schema = Postgres.newSchema("outage");
             TcpProxy proxy = TcpProxy.to(real.getHost(), real.getPort() < 0 ? 5432 : real.getPort())) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("llm.provider", "demo");
            p.put("chat.db.url", schema.url().replace(real.getHost() + ":" + (real.getPort() < 0 ? 5432
                    : real.getPort()), "127.0.0.1:" + proxy.port()));
            p.put("chat.db.user", Postgres.USER);
            p.put("chat.db.password", "");
            p.put("chat.db.connection-timeout-ms", "500");
            try (RunningGateway gateway = RunningGateway.start(p); LogCapture log = LogCapture.start()) {
                GatewayClient client = new GatewayClient(gateway);
                String token = Jwt.token("outage-user");
                assertThat(client.createSession(token)).isNotBlank();

                proxy.cut();
                long started = System.nanoTime();
                HttpResponse<String> refused = client.send("POST", "/api/v1/chat/sessions", token,
                        "application/json", "{}");
                long tookMs = (System.nanoTime() - started) / 1_000_000;

                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
                assertThat(refused.body()).isEqualTo("{\"error\":{\"code\":\"database_unavailable\","
                        + "\"message\":\"The database is unavailable; retry later\"}}");
                assertThat(tookMs).as("answered within the connection timeout, not Hikari's 30 s").isLessThan(5000);
                String requestId = refused.headers().firstValue("X-Request-Id").orElseThrow();
                assertThat(log.lines()).extracting(LogCapture.Line::message)
                        .anyMatch(m -> m.startsWith("Request " + requestId + ": the database is unavailable ("));
                assertThat(log.lines()).noneMatch(l -> l.level().equals("ERROR"));

                proxy.restore();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                HttpResponse<String> again;
                do {
                    again = client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}");
                    if (again.statusCode() == 201) {
                        break;
                    }
                    LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
                } while (System.nanoTime() < deadline);
                assertThat(again.statusCode()).as("serves again once the database is back").isEqualTo(201);
            }
        }
    }

    /**
     * A database restart drops every connection; the pool still holds them and hands one out as alive (it checks a
     * connection only after it idled 500 ms). The statement on it fails, and is tried once more on a fresh one: the
     * request succeeds (black-box audit, 2026-12-04: session creates got 500 and answers the client had were lost).
     */
    @Test
    void aConnectionTheDatabaseDroppedIsReplacedAndTheRequestSucceeds() {
        Postgres.assumeAvailable();
        URI real = URI.create(Postgres.URL.substring("jdbc:".length()));
        int realPort = real.getPort() < 0 ? 5432 : real.getPort();
        try (Postgres.Schema schema = Postgres.newSchema("dropped");
             TcpProxy proxy = TcpProxy.to(real.getHost(), realPort)) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("llm.provider", "demo");
            p.put("chat.db.url", schema.url().replace(real.getHost() + ":" + realPort, "127.0.0.1:" + proxy.port()));
            p.put("chat.db.user", Postgres.USER);
            p.put("chat.db.password", "");
            p.put("chat.db.pool-size", "2");
            try (RunningGateway gateway = RunningGateway.start(p)) {
                GatewayClient client = new GatewayClient(gateway);
                String token = Jwt.token("dropped-user");
                for (int round = 0; round < 5; round++) {
                    String session = client.createSession(token);

                    proxy.cut();
                    proxy.restore();
                    HttpResponse<String> next = client.send("POST", "/api/v1/chat/sessions/" + session
                            + "/messages", token, "application/json", "{\"content\":\"Still there?\"}");

                    assertThat(next.statusCode()).as("round %d: %s", round, next.body()).isEqualTo(200);
                }
            }
        }
    }
}
