package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.FullDisk;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk of the embedded H2 fills up while the gateway runs. H2 then closes the database (every statement on the
 * pool's connections fails with SQLState 90098, "The database has been closed") while those connections still pass
 * the pool's validity check. Crash probe, 2026-12-05: from then on every database request was a 500 internal_error
 * logged as an unexpected failure, readiness stayed 200, and the gateway never served again - not even after the
 * disk had room - until it was restarted. Now: 503 database_unavailable with Retry-After, not ready, and serving
 * again by itself once there is room (a fresh connection opens the file again).
 */
class DiskFullTest {

    static final String H2_SETTINGS = ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=64;TRACE_LEVEL_FILE=0";

    @TempDir
    Path dir;

    @Test
    void aDatabaseClosedByAFullDiskAnswers503AndIsNotReadyAndServesAgainOnceThereIsRoom() throws Exception {
        String url = FullDisk.h2Url(dir.resolve("chat")) + H2_SETTINGS;
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway g = RunningGateway.sambanovaAt(upstream, Map.of("chat.db.url", url));
             LogCapture log = LogCapture.start()) {
            GatewayClient client = new GatewayClient(g);
            String token = Jwt.token("disk-user");
            String session = client.createSession(token);
            upstream.enqueue(Script.sse(Chunks.delta("Kept"), Chunks.finish("stop"), "data: [DONE]\n\n"));
            assertThat(client.chat(session, token, "before the disk filled").text()).isEqualTo("Kept");
            // H2 writes commits to its file in the background: put them there before the disk fills
            try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement s = c.createStatement()) {
                s.execute("CHECKPOINT");
            }

            FullDisk.fill();
            try {
                // writes go on until H2's background write fails and it closes the database
                List<HttpResponse<String>> refused = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (System.nanoTime() < deadline && !notReady(g)) {
                    HttpResponse<String> r = client.send("POST", "/api/v1/chat/sessions", token, "application/json",
                            "{}");
                    assertThat(r.statusCode()).as(r.body()).isIn(201, 503);
                    if (r.statusCode() == 503) {
                        refused.add(r);
                    }
                    LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
                }
                assertThat(notReady(g)).as("not ready while the database is closed").isTrue();
                HttpResponse<String> read = client.get("/api/v1/chat/sessions/" + session, token);
                refused.add(read);
                for (HttpResponse<String> r : refused) {
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                    assertThat(r.headers().firstValue("Retry-After")).hasValue("5");
                    assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"database_unavailable\","
                            + "\"message\":\"The database is unavailable; retry later\"}}");
                }
            } finally {
                FullDisk.free();
            }

            // room again: the gateway opens the file anew, by itself
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            HttpResponse<String> created;
            do {
                created = client.send("POST", "/api/v1/chat/sessions", token, "application/json", "{}");
                if (created.statusCode() == 201 && !notReady(g)) {
                    break;
                }
                assertThat(created.statusCode()).as(created.body()).isIn(201, 503);
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            } while (System.nanoTime() < deadline);
            assertThat(created.statusCode()).as("serves again once the disk has room").isEqualTo(201);
            assertThat(notReady(g)).as("ready again").isFalse();

            JsonNode messages = client.session(session, token).get("messages");
            assertThat(messages).hasSize(2);
            assertThat(messages.get(0).get("content").asText()).isEqualTo("before the disk filled");
            assertThat(messages.get(1).get("content").asText()).isEqualTo("Kept");
            assertThat(messages.get(1).get("status").asText()).isEqualTo("complete");
            upstream.enqueue(Script.sse(Chunks.delta("After"), Chunks.finish("stop"), "data: [DONE]\n\n"));
            assertThat(client.chat(session, token, "after").text()).isEqualTo("After");

            assertThat(log.lines()).extracting(LogCapture.Line::message)
                    .noneMatch(m -> m.startsWith("Unexpected failure"));
        }
    }

    private static boolean notReady(RunningGateway g) {
        return ReadinessTest.get(g.managementUrl() + "/observe/health/ready").statusCode() == 503;
    }
}
