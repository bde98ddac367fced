package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.testing.Postgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A chat's history from this instance's copy (SessionHistoryCache): used while nobody else wrote to the session, never
 * when someone did, and always the context the database gives. Two ChatStores on one database are two instances; a
 * store with no copies ({@code historyCacheBytes} 0) reads the database every time and is the reference. A copy is
 * seen at work by changing a stored text behind the stores' backs (no version change): the instance with a current
 * copy still sends the text it copied, the reference sends the changed one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionHistoryCacheTest {

    static final int CONTEXT = 6;

    Database h2;
    Database postgres;
    Postgres.Schema pgSchema;

    @BeforeAll
    void open() {
        h2 = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 8);
        if (Postgres.available()) {
            pgSchema = Postgres.newSchema("history_cache_test");
            postgres = new Database(pgSchema.url(), Postgres.USER, "", 8);
        }
    }

    @AfterAll
    void close() {
        h2.close();
        if (postgres != null) {
            postgres.close();
            pgSchema.close();
        }
    }

    Stream<String> databaseNames() {
        return Stream.of("h2", "postgres");
    }

    Database database(String db) {
        if (db.equals("postgres")) {
            Postgres.assumeAvailable();
            return postgres;
        }
        return h2;
    }

    ChatStore instance(String db) {
        return new ChatStore(database(db).dataSource(), Clock.systemUTC(), CONTEXT, 1000, 16L << 20);
    }

    ChatStore withoutCopies(String db) {
        return new ChatStore(database(db).dataSource(), Clock.systemUTC(), CONTEXT, 1000, 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void whileNobodyElseWroteTheHistoryComesFromTheCopy(String db) throws Exception {
        ChatStore a = instance(db);
        ChatStore reference = withoutCopies(db);
        String user = "u-" + UUID.randomUUID();
        String session = a.createSession(user, new NewSession("t", "Be brief.")).id();
        exchange(a, user, session, "q1", "a1", "complete");
        exchange(a, user, session, "q2", "a2", "complete");
        assertThat(texts(a.sessionContext(user, session))).containsExactly("q1", "a1", "q2", "a2");

        changeBehindTheStoresBacks(db, session, "a1", "changed");

        assertThat(texts(reference.sessionContext(user, session))).containsExactly("q1", "changed", "q2", "a2");
        assertThat(texts(a.sessionContext(user, session))).containsExactly("q1", "a1", "q2", "a2");
        assertThat(a.sessionContext(user, session).systemPrompt()).isEqualTo("Be brief.");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aMessageAnotherInstanceStoredIsNeverMissed(String db) throws Exception {
        ChatStore a = instance(db);
        ChatStore b = instance(db);
        ChatStore reference = withoutCopies(db);
        String user = "u-" + UUID.randomUUID();
        String session = a.createSession(user, new NewSession("t", null)).id();
        exchange(a, user, session, "q1", "a1", "complete");
        assertThat(texts(a.sessionContext(user, session))).containsExactly("q1", "a1");
        assertThat(texts(b.sessionContext(user, session))).containsExactly("q1", "a1");

        exchange(b, user, session, "q2", "a2", "complete");
        changeBehindTheStoresBacks(db, session, "a1", "changed");

        // a's copy is a version behind: a reads the database again
        assertThat(texts(a.sessionContext(user, session))).containsExactly("q1", "changed", "q2", "a2");
        // b chats while a's copy is current: a's next write finds the version moved by two and drops the copy
        exchange(b, user, session, "q3", "a3", "complete");
        exchange(a, user, session, "q4", "a4", "complete");
        assertThat(texts(a.sessionContext(user, session))).isEqualTo(texts(reference.sessionContext(user, session)))
                .containsExactly("q2", "a2", "q3", "a3", "q4", "a4");
        // a question through b, a whole exchange through a, then b's answer to its question
        String exchange = UUID.randomUUID().toString();
        b.saveUserMessage(user, session, exchange, "q5");
        exchange(a, user, session, "q6", "a6", "complete");
        answer(b, user, session, exchange, "a5", "complete");
        assertThat(texts(a.sessionContext(user, session))).isEqualTo(texts(reference.sessionContext(user, session)))
                .containsExactly("q4", "a4", "q5", "a5", "q6", "a6");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aSessionDeletedElsewhereIsNotFoundThoughACopyOfItIsHeld(String db) {
        ChatStore a = instance(db);
        ChatStore b = instance(db);
        String user = "u-" + UUID.randomUUID();
        String session = a.createSession(user, new NewSession("t", null)).id();
        exchange(a, user, session, "q1", "a1", "complete");
        assertThat(texts(a.sessionContext(user, session))).containsExactly("q1", "a1");

        b.deleteSession(user, session);

        assertThatThrownBy(() -> a.sessionContext(user, session)).isInstanceOfSatisfying(ApiError.class,
                e -> assertThat(e.code()).isEqualTo("session_not_found"));
        assertThatThrownBy(() -> a.sessionContext("someone-else", session)).isInstanceOf(ApiError.class);
    }

    /**
     * This instance's own writes keep its copy current, whatever the exchanges do: failed, interrupted and reasoning
     * answers, two questions before either answer, and answers finished in the row a checkpoint wrote earlier (so
     * their place is below messages stored after it). After every step the context is the database's; at the end the
     * copy is still the one in use.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void ownWritesKeepTheCopyExactlyWhatTheDatabaseGives(String db) throws Exception {
        Setup setup = setup(db);
        ChatStore a = setup.instance();
        ChatStore reference = setup.reference();
        String user = setup.user();
        String session = setup.session();
        Random random = new Random(7);
        List<String> steps = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int kind = random.nextInt(5);
            steps.add(kind + "");
            switch (kind) {
                case 0, 1 -> exchange(a, user, session, "q" + i, "a" + i, "complete");
                case 2 -> exchange(a, user, session, "q" + i, "", random.nextBoolean() ? "failed" : "interrupted");
                case 3 -> {
                    // two questions at once, answered in the other order
                    String x = UUID.randomUUID().toString();
                    String y = UUID.randomUUID().toString();
                    a.saveUserMessage(user, session, x, "qx" + i);
                    a.saveUserMessage(user, session, y, "qy" + i);
                    answer(a, user, session, y, "ay" + i, "complete");
                    answer(a, user, session, x, "ax" + i, random.nextBoolean() ? "complete" : "failed");
                }
                default -> {
                    // a long answer: its checkpoint wrote its row, another exchange went by, then it finished
                    String x = UUID.randomUUID().toString();
                    a.saveUserMessage(user, session, x, "qlong" + i);
                    String row = checkpoint(db, user, session, x, "partial");
                    exchange(a, user, session, "qshort" + i, "ashort" + i, "complete");
                    ChatStore.SavedAnswer saved = a.saveAnswer(record(user, session, x, "along" + i, "complete"),
                            row, true);
                    assertThat(saved).isEqualTo(new ChatStore.SavedAnswer(row, true));
                }
            }
            assertThat(texts(a.sessionContext(user, session))).as("after steps %s", steps)
                    .isEqualTo(texts(reference.sessionContext(user, session)));
        }
        List<String> before = texts(a.sessionContext(user, session));
        assertThat(before).hasSize(CONTEXT);
        String newest = before.get(CONTEXT - 1);
        changeBehindTheStoresBacks(db, session, newest, "changed");
        assertThat(texts(a.sessionContext(user, session))).isEqualTo(before);
        assertThat(texts(reference.sessionContext(user, session))).last().isEqualTo("changed");
    }

    /** Chats of one session at once on one instance: whichever write finds the copy stale drops it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void concurrentChatsInOneSessionLeaveTheDatabasesContext(String db) throws Exception {
        Setup setup = setup(db);
        ChatStore a = setup.instance();
        ChatStore reference = setup.reference();
        String user = setup.user();
        String session = setup.session();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        a.sessionContext(user, session);
                        exchange(a, user, session, "q" + thread + "." + i, "a" + thread + "." + i,
                                i % 4 == 3 ? "failed" : "complete");
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(texts(a.sessionContext(user, session))).hasSize(CONTEXT)
                .isEqualTo(texts(reference.sessionContext(user, session)));
    }

    /** An instance with copies, the reference without, and a new user's session made through the instance. */
    private record Setup(ChatStore instance, ChatStore reference, String user, String session) {
    }

    private Setup setup(String db) {
        ChatStore a = instance(db);
        String user = "u-" + UUID.randomUUID();
        return new Setup(a, withoutCopies(db), user, a.createSession(user, new NewSession("t", null)).id());
    }

    private static List<String> texts(SessionContext context) {
        return context.history().stream().map(ContextMessage::content).toList();
    }

    private void changeBehindTheStoresBacks(String db, String session, String from, String to) throws Exception {
        try (var c = database(db).dataSource().getConnection(); var ps = c.prepareStatement(
                "UPDATE chat_message SET content = ? WHERE session_id = ? AND content = ?")) {
            ps.setString(1, to);
            ps.setString(2, session);
            ps.setString(3, from);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }

    /** What AnswerCheckpoints writes for a streaming answer: its row, no change to the session. */
    private String checkpoint(String db, String user, String session, String exchange, String text) throws Exception {
        String row = RowIds.next();
        try (var c = database(db).dataSource().getConnection(); var ps = c.prepareStatement("INSERT INTO chat_message"
                + " (id, session_id, exchange_id, user_id, role, content, status, instance_id, lease_until, created_at)"
                + " VALUES (?, ?, ?, ?, 'assistant', ?, 'streaming', 'instance-1', ?, ?)")) {
            OffsetDateTime now = OffsetDateTime.now();
            ps.setString(1, row);
            ps.setString(2, session);
            ps.setString(3, exchange);
            ps.setString(4, user);
            ps.setString(5, text);
            ps.setObject(6, now.plusMinutes(1));
            ps.setObject(7, now);
            ps.executeUpdate();
        }
        return row;
    }

    private static AnswerRecord record(String user, String session, String exchange, String text, String status) {
        return new AnswerRecord(session, exchange, user, text, status, "demo", "cobalt-demo", "stop", null, 3, 4,
                false, null, 10L, 20L, null);
    }

    private static void answer(ChatStore store, String user, String session, String exchange, String text,
                               String status) {
        store.saveAnswer(record(user, session, exchange, text, status));
    }

    private static void exchange(ChatStore store, String user, String session, String question, String answer,
                                 String status) {
        String exchange = UUID.randomUUID().toString();
        store.saveUserMessage(user, session, exchange, question);
        answer(store, user, session, exchange, answer, status);
    }
}
