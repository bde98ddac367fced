package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The user's message is written while the provider is asked (chat-enrich-session starts the write, chat-http's
 * await-user-message holds the answer until it is done). The test holds the write back with a row lock of its own on
 * the session, so what happens while the write waits is observed, not raced: the provider already has the request,
 * the client has nothing yet; and a write that then fails (the session deleted under it) answers the client with the
 * write's error while the provider's answer is cancelled unread.
 */
class UserMessageBesideProviderTest {

    // a lock timeout far above the time the test holds its locks: the gateway's write waits, never times out
    static final String DB = "jdbc:h2:mem:beside-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=30000";

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        // one stream at a time per user: a request that kept its slot would make the user's next message a 429
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.db.url", DB, "chat.max-concurrent-streams", "1"));
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
    void theProviderIsAskedWhileTheMessageIsWrittenAndTheAnswerIsRelayedOnlyOnceItIsStored() throws Exception {
        upstream.enqueue(Script.sse(Chunks.delta("Paris."), Chunks.finish("stop"), Chunks.usage(9, 2), Chunks.done()));
        String token = Jwt.token("beside-" + UUID.randomUUID());
        String session = client.createSession(token);

        CompletableFuture<GatewayClient.Answer> answer;
        try (Connection lock = DriverManager.getConnection(DB, "sa", "")) {
            lock.setAutoCommit(false);
            lockSession(lock, session);

            answer = CompletableFuture.supplyAsync(() -> client.chat(session, token, "Capital of France?"));

            // the provider has the request while the message's write waits for the test's lock
            RecordedRequest asked = upstream.takeRequest(Duration.ofSeconds(10));
            assertThat(asked.body()).contains("\"content\":\"Capital of France?\"");
            assertThat(answer).as("nothing reaches the client before its message is stored").isNotDone();
            assertThat(messages(session)).isEmpty();
            lock.commit();
        }

        GatewayClient.Answer done = answer.get(10, TimeUnit.SECONDS);
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.body()).isEqualTo("data: {\"content\":\"Paris.\",\"done\":false}\n\n"
                + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                + "data: [DONE]\n\n");
        assertThat(messages(session)).containsExactly("user|complete|Capital of France?", "assistant|complete|Paris.");
    }

    @Test
    void aMessageThatCannotBeStoredFailsTheRequestAndTheProvidersAnswerIsCancelledUnread() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        upstream.enqueue(Script.sse(Chunks.delta("Unread ")).holdUntil(never).chunk(Chunks.delta("answer"))
                .chunk(Chunks.finish("stop")).chunk(Chunks.done()));
        String token = Jwt.token("deleted-" + UUID.randomUUID());
        String session = client.createSession(token);
        try {
            CompletableFuture<GatewayClient.Answer> answer;
            try (Connection delete = DriverManager.getConnection(DB, "sa", "")) {
                delete.setAutoCommit(false);
                // the session goes in a transaction the gateway's write has to wait for: when it commits, the write
                // finds no session
                try (PreparedStatement s = delete.prepareStatement("DELETE FROM chat_session WHERE id = ?")) {
                    s.setString(1, session);
                    assertThat(s.executeUpdate()).isEqualTo(1);
                }

                answer = CompletableFuture.supplyAsync(() -> client.chat(session, token, "Anyone there?"));

                upstream.takeRequest(Duration.ofSeconds(10));
                assertThat(answer).isNotDone();
                delete.commit();
            }

            GatewayClient.Answer failed = answer.get(10, TimeUnit.SECONDS);
            assertThat(failed.status()).isEqualTo(404);
            assertThat(failed.contentType()).startsWith("application/json");
            assertThat(failed.body()).isEqualTo("{\"error\":{\"code\":\"session_not_found\",\"message\":\"No such session\"}}");
            assertThat(upstream.awaitDisconnect(Duration.ofSeconds(10)))
                    .as("the provider's answer is cancelled, not left open").isTrue();
            assertThat(messages(session)).isEmpty();
        } finally {
            never.countDown();
        }

        // the failed request gave its stream slot back: the same user chats on in a new session
        upstream.enqueue(Script.sse(Chunks.delta("Here."), Chunks.finish("stop"), Chunks.done()));
        String next = client.createSession(token);
        GatewayClient.Answer again = client.chat(next, token, "Now?");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body()).endsWith("data: [DONE]\n\n");
    }

    /** Holds a row lock on the session until the connection's transaction ends: the gateway's write waits for it. */
    private static void lockSession(Connection c, String session) throws Exception {
        try (PreparedStatement s = c.prepareStatement("SELECT id FROM chat_session WHERE id = ? FOR UPDATE")) {
            s.setString(1, session);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    /** The session's messages as role|status|content, in order, as committed. */
    private static List<String> messages(String session) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(DB, "sa", "");
             PreparedStatement s = c.prepareStatement(
                     "SELECT role, status, content FROM chat_message WHERE session_id = ? ORDER BY seq")) {
            s.setString(1, session);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3));
                }
            }
        }
        return rows;
    }
}
