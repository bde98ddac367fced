package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * The database is out of reach when answers end (a restart, a failover, a network cut longer than
 * CHAT_DB_CONNECTION_TIMEOUT_MS): their usage - what the providers billed - waits in memory and is written once the
 * database is back. Before, a /v1 answer's usage row and a session answer's were lost with the outage (black-box
 * soak's left item: "an answer finished during a database outage is not stored"), and the usage report never counted
 * them. PostgreSQL through a TCP proxy the test cuts.
 */
class UsageBacklogTest {

    private static final URI DATABASE = URI.create(Postgres.URL.substring("jdbc:".length()));

    @Test
    void usageRowsOfAnswersThatEndedWhileTheDatabaseWasOutOfReachAreWrittenWhenItIsBackReplacingAnEstimate()
            throws Exception {
        Postgres.assumeAvailable();
        int port = DATABASE.getPort() < 0 ? 5432 : DATABASE.getPort();
        try (Postgres.Schema schema = Postgres.newSchema("usage_backlog");
             TcpProxy proxy = TcpProxy.to(DATABASE.getHost(), port);
             Database db = new Database(schema.url().replace(DATABASE.getHost() + ":" + port,
                     "127.0.0.1:" + proxy.port()), Postgres.USER, "", 2, 300)) {
            ChatStore store = new ChatStore(db.dataSource(),
                    Clock.fixed(Instant.parse("2026-12-05T19:00:00Z"), ZoneOffset.UTC));
            String user = "u-" + UUID.randomUUID();
            SessionView session = store.createSession(user, new NewSession(null, null));
            String exchangeId = UUID.randomUUID().toString();
            store.saveUserMessage(user, session.id(), exchangeId, "Question");
            String sessionAnswerId = RowIds.next();

            proxy.cut();
            // a /v1 answer: nothing but its usage to keep, and that is kept, so the answer ends as usual
            ChatStore.SavedAnswer v1 = store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user,
                    "Whole answer", "complete", "sambanova", "m", "stop", null, 12, 4, false, new BigDecimal("0.001"),
                    5L, 9L, null), null, false);
            assertThat(v1.stored()).isTrue();
            // a session answer (checkpointed while it streamed): its message is not stored - the client is told - but
            // its usage waits too
            assertThatThrownBy(() -> store.saveAnswer(new AnswerRecord(session.id(), exchangeId, user, "Streamed answer",
                    "complete", "sambanova", "m", "stop", null, 30, 7, false, new BigDecimal("0.002"), 5L, 9L, null),
                    sessionAnswerId, true)).isInstanceOf(ChatStore.StorageException.class);
            assertThat(store.usageBacklog().waiting()).isEqualTo(2);
            // meanwhile another instance swept the answer its lease let go of, with an estimate under its id
            try (Connection c = DriverManager.getConnection(schema.url(), Postgres.USER, "");
                 PreparedStatement ps = c.prepareStatement(ChatStore.INSERT_USAGE)) {
                Object[] values = {sessionAnswerId, user, session.id(), "sambanova", "m", "interrupted", 25, 3, true,
                        new BigDecimal("0.0015"), null, null, null, OffsetDateTime.parse("2026-12-05T19:00:05Z")};
                for (int i = 0; i < values.length; i++) {
                    ps.setObject(i + 1, values[i]);
                }
                ps.executeUpdate();
            }

            proxy.restore();
            // a write on a connection the cut caught mid-handshake waits for its socket timeout (30 s) at worst
            long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
            while (store.usageBacklog().waiting() > 0) {
                assertThat(System.nanoTime()).as("written once the database is back").isLessThan(deadline);
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }

            assertThat(usageRows(schema, user)).containsExactlyInAnyOrder(
                    "null complete 12 4 false 0.001",
                    session.id() + " complete 30 7 false 0.002");
            assertThat(store.usageBacklog().dropped()).isZero();
            store.usageBacklog().close();
        }
    }

    private static List<String> usageRows(Postgres.Schema schema, String user) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(schema.url(), Postgres.USER, "");
             PreparedStatement ps = c.prepareStatement("SELECT session_id, status, prompt_tokens, completion_tokens,"
                     + " tokens_estimated, cost_usd FROM llm_usage WHERE user_id = ?")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getInt(3) + " " + rs.getInt(4) + " "
                            + rs.getBoolean(5) + " " + rs.getBigDecimal(6).stripTrailingZeros().toPlainString());
                }
            }
        }
        return rows;
    }
}
