package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import javax.sql.DataSource;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.store.NewSession;
import com.cobalt.chat.store.SessionContext;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TestClock;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A session chat on the shared limits in PostgreSQL whose session this instance holds a copy of: the context comes
 * from the copy without a round trip, and the admission's statement confirms it - one connection, one statement,
 * where the chat took two. Nothing the caller could see changes: a session gone or another user's is 404 and counts
 * nothing, a refusal is the same 429, and what another instance wrote meanwhile is in the history.
 */
class SessionConfirmedByAdmissionTest {

    final TestClock clock = new TestClock(Instant.parse("2026-12-04T20:00:00Z"));
    final List<AutoCloseable> resources = new ArrayList<>();
    /** Two messages a minute, one stream at a time. */
    final LimitRules rules = new LimitRules(2, 1000, 1);

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** One gateway instance on the shared database: its store, its ledger, its limits bean. */
    final class Instance {
        final CountingDataSource connections;
        final ChatStore store;
        final SharedLimitLedger ledger;
        final UserLimits limits;

        Instance(Database database) {
            connections = new CountingDataSource(database.dataSource());
            ledger = new SharedLimitLedger(connections, clock, rules, Duration.ofSeconds(60));
            resources.add(ledger);
            store = new ChatStore(connections, clock, 20, 1000, 16L << 20, ledger.slotsInChatDatabase());
            limits = new UserLimits(ledger, store, Runnable::run);
        }

        /** A new session of the user, read once, so that this instance holds a copy of it. */
        String knownSession(String user, String systemPrompt) {
            String session = store.createSession(user, new NewSession(null, systemPrompt)).id();
            assertThat(store.sessionContext(user, session).confirmed()).isTrue(); // from the database: copied
            return session;
        }

        /** One exchange of the session: the question and its answer, stored as chat-http stores them. */
        void chat(String user, String session, String question, String answer) {
            String exchangeId = UUID.randomUUID().toString();
            store.saveUserMessage(user, session, exchangeId, question);
            store.saveAnswer(new AnswerRecord(session, exchangeId, user, answer, "complete", "sambanova", "llama",
                    "stop", null, 12, 3, false, new BigDecimal("0.0000150000"), 40L, 90L, null));
        }
    }

    Database postgres() {
        Postgres.assumeAvailable();
        Postgres.Schema schema = Postgres.newSchema("session_by_admission");
        resources.add(schema);
        Database database = new Database(schema.url(), Postgres.USER, "", 4);
        resources.add(database);
        return database;
    }

    static Exchange exchange() {
        return new DefaultExchange(new DefaultCamelContext());
    }

    static long count(Database database, String sql) throws SQLException {
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aSessionThisInstanceKnowsIsReadAndAdmittedInOneStatement() {
        Database database = postgres();
        Instance here = new Instance(database);
        String session = here.knownSession("ada", "Answer briefly.");
        here.chat("ada", session, "Capital of France?", "Paris.");

        int before = here.connections.borrowed.get();
        SessionContext fromCopy = here.store.sessionContext("ada", session);
        assertThat(here.connections.borrowed.get()).isEqualTo(before); // nothing asked of the database
        assertThat(fromCopy.confirmed()).isFalse();
        assertThat(fromCopy.systemPrompt()).isEqualTo("Answer briefly.");
        // a route that skipped the admission step would build the provider's messages without the history
        assertThatThrownBy(fromCopy::history).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("admit-message");
        Exchange exchange = exchange();
        SessionContext confirmed = here.limits.admitToSession(exchange, "ada", fromCopy);

        assertThat(here.connections.borrowed.get()).isEqualTo(before + 1);
        assertThat(confirmed.confirmed()).isTrue();
        assertThat(confirmed.systemPrompt()).isEqualTo("Answer briefly.");
        assertThat(confirmed.history()).containsExactly(new ContextMessage("user", "Capital of France?"),
                new ContextMessage("assistant", "Paris."));
        String slot = exchange.getVariable(UserLimits.SLOT, String.class);
        assertThat(slot).isNotNull();
        LimitLedgerTest.assertRefusedForStreams(here.ledger, "ada"); // the slot is held
        here.limits.release(exchange);
        here.ledger.release(here.ledger.admit("ada").slot());
    }

    @Test
    void whatAnotherInstanceWroteMeanwhileIsReadInTheSameStatement() {
        Database database = postgres();
        Instance here = new Instance(database);
        Instance other = new Instance(database);
        String session = here.knownSession("ben", null);
        here.chat("ben", session, "One?", "Uno.");
        other.chat("ben", session, "Two?", "Dos.");

        SessionContext fromCopy = here.store.sessionContext("ben", session);
        assertThat(fromCopy.confirmed()).isFalse();
        int before = here.connections.borrowed.get();
        SessionContext confirmed = here.limits.admitToSession(exchange(), "ben", fromCopy);

        assertThat(here.connections.borrowed.get()).isEqualTo(before + 1);
        assertThat(confirmed.history()).containsExactly(new ContextMessage("user", "One?"),
                new ContextMessage("assistant", "Uno."), new ContextMessage("user", "Two?"),
                new ContextMessage("assistant", "Dos."));
        // the copy now holds the other instance's exchange too: the next chat reads nothing again
        SessionContext next = here.store.sessionContext("ben", session);
        assertThat(next.confirmed()).isFalse();
    }

    @Test
    void aSessionDeletedElsewhereIs404AndCountsNothing() throws SQLException {
        Database database = postgres();
        Instance here = new Instance(database);
        Instance other = new Instance(database);
        String session = here.knownSession("cy", null);
        here.chat("cy", session, "Still there?", "Yes.");
        SessionContext fromCopy = here.store.sessionContext("cy", session);
        other.store.deleteSession("cy", session);

        Exchange exchange = exchange();
        assertThatThrownBy(() -> here.limits.admitToSession(exchange, "cy", fromCopy))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("session_not_found");
                });

        assertThat(exchange.getVariable(UserLimits.SLOT)).isNull();
        assertThat(count(database, "SELECT COUNT(*) FROM user_request WHERE user_id = 'cy'")).isZero();
        assertThat(count(database, "SELECT COUNT(*) FROM active_stream WHERE user_id = 'cy'")).isZero();
        // the copy went with it: the next message asks the database, and gets its 404
        assertThatThrownBy(() -> here.store.sessionContext("cy", session))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("session_not_found"));
    }

    @Test
    void anotherUsersCallGetsThe404FromTheDatabaseNeverTheCopy() throws SQLException {
        Database database = postgres();
        Instance here = new Instance(database);
        String session = here.knownSession("dee", "Dee's own prompt");
        here.chat("dee", session, "Mine?", "Yours.");

        assertThatThrownBy(() -> here.store.sessionContext("eve", session))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("session_not_found"));
        assertThat(count(database, "SELECT COUNT(*) FROM user_request")).isZero();
    }

    @Test
    void aRefusalIsTheSame429AndTheCopyStaysUsable() throws SQLException {
        Database database = postgres();
        Instance here = new Instance(database);
        String session = here.knownSession("fay", null);
        here.chat("fay", session, "Hi?", "Hello.");

        Exchange first = exchange();
        here.limits.admitToSession(first, "fay", here.store.sessionContext("fay", session));
        SessionContext fromCopy = here.store.sessionContext("fay", session);
        assertThatThrownBy(() -> here.limits.admitToSession(exchange(), "fay", fromCopy))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(429);
                    assertThat(e.code()).isEqualTo("concurrent_streams_exceeded");
                });
        here.limits.release(first);
        here.limits.admitToSession(exchange(), "fay", fromCopy);
        // two a minute: the third is refused for the rate, counted twice so far
        assertThatThrownBy(() -> here.limits.admitToSession(exchange(), "fay", fromCopy))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(429);
                    assertThat(e.code()).isEqualTo("rate_limit_exceeded");
                });
        assertThat(count(database, "SELECT COUNT(*) FROM user_request WHERE user_id = 'fay'")).isEqualTo(2);
    }

    /** On the embedded database (and with the limits kept by the instance) every context is read as before. */
    @Test
    void elsewhereEveryContextIsReadFromTheDatabase() {
        Database database = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        resources.add(database);
        Instance here = new Instance(database);
        String session = here.knownSession("gus", null);
        here.chat("gus", session, "Q?", "A.");

        SessionContext context = here.store.sessionContext("gus", session);
        assertThat(context.confirmed()).isTrue();
        assertThat(here.limits.admitToSession(exchange(), "gus", context)).isSameAs(context);
    }

    /** Counts the connections a store and a ledger borrow: one per round trip of theirs. */
    static final class CountingDataSource implements DataSource {
        final DataSource pool;
        final AtomicInteger borrowed = new AtomicInteger();

        CountingDataSource(DataSource pool) {
            this.pool = pool;
        }

        @Override
        public Connection getConnection() throws SQLException {
            borrowed.incrementAndGet();
            return pool.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            borrowed.incrementAndGet();
            return pool.getConnection(username, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return pool.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            pool.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            pool.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return pool.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            return pool.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return iface.isInstance(this) ? iface.cast(this) : pool.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return iface.isInstance(this) || pool.isWrapperFor(iface);
        }
    }
}
