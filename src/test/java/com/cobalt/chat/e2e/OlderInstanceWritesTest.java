package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * A rolling upgrade from a version before V17 (session history versions) has old and new instances on one PostgreSQL
 * database. An old instance stores an exchange with the statements it always ran - the message rows and the session's
 * touch, without history_version - and a new instance that holds a copy of the session's history must not send its
 * next chat's context without that exchange.
 */
class OlderInstanceWritesTest {

    static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void anExchangeAnOlderInstanceStoredIsInTheContextOfTheNextChatOnANewOne() throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("older_writer");
             FakeUpstream upstream = FakeUpstream.start();
             RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.db.url", schema.url(),
                     "chat.db.user", Postgres.USER))) {
            GatewayClient client = new GatewayClient(gateway);
            String user = "older-" + UUID.randomUUID();
            String token = Jwt.token(user);
            String session = client.createSession(token, "{\"title\":\"upgrade\"}");
            upstream.enqueue(answer("first answer"));
            assertThat(client.chat(session, token, "first question").status()).isEqualTo(200);
            upstream.takeRequest(WAIT);

            storedByAnOlderInstance(schema, session, user, "asked on the old instance", "answered on the old instance");

            upstream.enqueue(answer("third answer"));
            assertThat(client.chat(session, token, "third question").status()).isEqualTo(200);
            JsonNode messages = GatewayClient.json(upstream.takeRequest(WAIT).body()).get("messages");
            List<String> context = new ArrayList<>();
            messages.forEach(m -> context.add(m.get("content").asText()));
            assertThat(context).containsExactly("first question", "first answer", "asked on the old instance",
                    "answered on the old instance", "third question");
        }
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(3, 2), Chunks.done());
    }

    /** What a pre-V17 instance ran for an exchange: each message with the session's touch, no history_version. */
    static void storedByAnOlderInstance(Postgres.Schema schema, String session, String user, String question,
            String answer) throws SQLException {
        String exchange = UUID.randomUUID().toString();
        try (Connection c = DriverManager.getConnection(schema.url(), Postgres.USER, "")) {
            for (String[] m : new String[][] {{"user", question}, {"assistant", answer}}) {
                OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_message (id, session_id,"
                        + " exchange_id, user_id, role, content, status, created_at) VALUES (?, ?, ?, ?, ?, ?,"
                        + " 'complete', ?)")) {
                    ps.setString(1, UUID.randomUUID().toString());
                    ps.setString(2, session);
                    ps.setString(3, exchange);
                    ps.setString(4, user);
                    ps.setString(5, m[0]);
                    ps.setString(6, m[1]);
                    ps.setObject(7, now);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE chat_session SET updated_at = GREATEST(updated_at, ?) WHERE id = ?")) {
                    ps.setObject(1, now);
                    ps.setString(2, session);
                    ps.executeUpdate();
                }
            }
        }
    }
}
