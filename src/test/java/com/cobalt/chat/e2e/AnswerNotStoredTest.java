package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * After the first byte the client's 200 is out: an answer that cannot be stored (its session was deleted while it
 * streamed, the database refuses the write) still ends the stream well-formed - the answer's events, then
 * {@code event: error} instead of {@code [DONE]}, because [DONE] promises the answer is in the session - keeps its
 * usage in the ledger, and writes its exchange log line.
 */
class AnswerNotStoredTest {

    static final String DB = "jdbc:h2:mem:not-stored-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.db.url", DB));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    @BeforeEach
    void clean() {
        upstream.reset();
    }

    @Test
    void aSessionDeletedWhileItsAnswerStreamsEndsTheStreamWithAnErrorAndKeepsTheUsageAndTheLogLine() throws Exception {
        CountDownLatch deleted = new CountDownLatch(1);
        upstream.enqueue(Script.sse(Chunks.delta("Hello "))
                .holdUntil(deleted)
                .chunk(Chunks.delta("world")).chunk(Chunks.finish("stop")).chunk(Chunks.usage(7, 2))
                .chunk(Chunks.done()));
        String user = "gone-" + UUID.randomUUID();
        String token = Jwt.token(user);
        String session = client.createSession(token);

        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<InputStream> live = client.openChat(session, token, "Say hello");
            assertThat(live.statusCode()).isEqualTo(200);
            try (InputStream in = live.body()) {
                assertThat(StreamBreakTest.readUntil(in, "data: {\"content\":\"Hello \",\"done\":false}\n\n"))
                        .isEqualTo("data: {\"content\":\"Hello \",\"done\":false}\n\n");
                assertThat(client.send("DELETE", "/api/v1/chat/sessions/" + session, token, null, null).statusCode())
                        .isEqualTo(204);
                deleted.countDown();

                assertThat(readToEnd(in)).isEqualTo("data: {\"content\":\"world\",\"done\":false}\n\n"
                        + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                        + "event: error\n"
                        + "data: {\"error\":{\"code\":\"session_deleted\",\"message\":\"The session was deleted while"
                        + " its answer streamed; the answer was not stored\"}}\n\n");
            }
            assertThat(usageRows(user)).containsExactly("sambanova|complete|7|2|" + session);
            JsonNode line = awaitLogLine(logs, session);
            assertThat(line.get("status").asText()).isEqualTo("complete");
            assertThat(line.get("stored").asBoolean()).isFalse();
            assertThat(line.get("prompt_tokens").asInt()).isEqualTo(7);
            assertThat(line.get("completion_tokens").asInt()).isEqualTo(2);
        }
        assertThat(client.get("/api/v1/chat/sessions/" + session, token).statusCode()).isEqualTo(404);
        assertThat(countRows("SELECT COUNT(*) FROM chat_message WHERE session_id = '" + session + "'")).isZero();
    }

    @Test
    void anAnswerTheDatabaseRefusesEndsTheStreamWithAnErrorAndKeepsTheUsageAndTheLogLine() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("Refused "), Chunks.delta("answer"), Chunks.finish("stop"),
                Chunks.usage(5, 3), Chunks.done()));
        String user = "refused-" + UUID.randomUUID();
        String token = Jwt.token(user);
        String session = client.createSession(token);

        execute("ALTER TABLE chat_message ADD CONSTRAINT test_no_answers CHECK (role <> 'assistant')");
        try (LogCapture logs = LogCapture.start()) {
            GatewayClient.Answer answer = withDeadline(() -> client.chat(session, token, "Answer me"));

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.body()).isEqualTo("data: {\"content\":\"Refused \",\"done\":false}\n\n"
                    + "data: {\"content\":\"answer\",\"done\":false}\n\n"
                    + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                    + "event: error\n"
                    + "data: {\"error\":{\"code\":\"answer_not_stored\",\"message\":\"The answer could not be"
                    + " stored; it is not in the session\"}}\n\n");
            assertThat(usageRows(user)).containsExactly("sambanova|complete|5|3|" + session);
            JsonNode line = awaitLogLine(logs, session);
            assertThat(line.get("status").asText()).isEqualTo("complete");
            assertThat(line.get("stored").asBoolean()).isFalse();
        } finally {
            execute("ALTER TABLE chat_message DROP CONSTRAINT test_no_answers");
        }
        JsonNode messages = client.session(session, token).get("messages");
        assertThat(messages).hasSize(1);
        assertThat(messages.get(0).get("role").asText()).isEqualTo("user");

        // the database takes answers again: the next one is stored and ends with [DONE]
        upstream.enqueue(Script.sse(Chunks.delta("Stored."), Chunks.finish("stop"), Chunks.usage(5, 1),
                Chunks.done()));
        GatewayClient.Answer next = withDeadline(() -> client.chat(session, token, "Again"));
        assertThat(next.body()).endsWith("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                + "data: [DONE]\n\n");
        JsonNode after = client.session(session, token).get("messages");
        assertThat(after).hasSize(3);
        assertThat(after.get(2).get("content").asText()).isEqualTo("Stored.");
        assertThat(after.get(2).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void anOpenAiStreamWhoseUsageTheDatabaseRefusesStillEndsWithDone() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("Plain."), Chunks.finish("stop"), Chunks.usage(4, 1), Chunks.done()));
        String token = Jwt.token("openai-" + UUID.randomUUID());

        execute("ALTER TABLE llm_usage ADD CONSTRAINT test_no_usage CHECK (prompt_tokens < 0)");
        try {
            HttpResponse<String> r = withDeadline(() -> client.send("POST", "/v1/chat/completions", token,
                    "application/json", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}"));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"content\":\"Plain.\"").endsWith("data: [DONE]\n\n");
        } finally {
            execute("ALTER TABLE llm_usage DROP CONSTRAINT test_no_usage");
        }
    }

    // ------------------------------------------------------------------------------- helpers

    interface Call<T> {
        T call() throws Exception;
    }

    /** A stream that never ends would hang the test: fail after 10 s instead. */
    static <T> T withDeadline(Call<T> call) throws Exception {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the stream did not end within 10 s");
        }
    }

    static String readToEnd(InputStream in) throws Exception {
        return withDeadline(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<broken: " + e.getClass().getSimpleName() + ">";
            }
        });
    }

    static JsonNode awaitLogLine(LogCapture logs, String session) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            for (LogCapture.Line l : logs.lines("cobalt.exchange")) {
                JsonNode n = GatewayClient.json(l.message());
                if (session.equals(n.path("session_id").asText())) {
                    return n;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no exchange log line for session " + session);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    static List<String> usageRows(String user) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            List<String> rows = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(DB, "sa", ""); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT provider, status, prompt_tokens, completion_tokens, session_id"
                         + " FROM llm_usage WHERE user_id = '" + user + "'")) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getInt(3) + "|" + rs.getInt(4)
                            + "|" + rs.getString(5));
                }
            }
            if (!rows.isEmpty() || System.nanoTime() > deadline) {
                return rows;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    static long countRows(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(DB, "sa", ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(DB, "sa", ""); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
