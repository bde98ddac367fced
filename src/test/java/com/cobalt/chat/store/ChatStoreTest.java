package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.testing.Postgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The store on both databases it supports: embedded H2 (the default) and PostgreSQL (several instances sharing
 * state; CI starts the machine's server). The same Flyway migration must work on both.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatStoreTest {

    final List<Database> databases = new ArrayList<>();
    Database h2;
    Database postgres;
    Postgres.Schema pgSchema;

    @BeforeAll
    void open() {
        h2 = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        databases.add(h2);
        if (Postgres.available()) {
            pgSchema = Postgres.newSchema("chat_store_test");
            postgres = new Database(pgSchema.url(), Postgres.USER, "", 4);
            databases.add(postgres);
        }
    }

    @AfterAll
    void close() {
        databases.forEach(Database::close);
        if (pgSchema != null) {
            pgSchema.close();
        }
    }

    Stream<String> databaseNames() {
        return Stream.of("h2", "postgres");
    }

    ChatStore store(String name) {
        if (name.equals("postgres")) {
            Postgres.assumeAvailable();
        }
        return store(name, Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC));
    }

    ChatStore store(String name, Clock clock) {
        if (name.equals("postgres")) {
            Postgres.assumeAvailable();
        }
        Database db = name.equals("h2") ? h2 : postgres;
        return new ChatStore(db.dataSource(), clock);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void contextIsSystemPromptThenLastMessagesOfCompleteExchangesOldestFirst(String db) {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", "Be brief."));
        exchange(store, s.id(), "q1", "a1", "complete");
        exchange(store, s.id(), "q2", "", "failed");
        exchange(store, s.id(), "q3", "a3 partial", "interrupted");
        exchange(store, s.id(), "q4", "a4", "complete");
        exchange(store, s.id(), "q5", "a5", "complete");

        SessionContext all = store.loadContext(user, s.id(), 20);
        assertThat(all.systemPrompt()).isEqualTo("Be brief.");
        assertThat(all.history()).containsExactly(
                new ContextMessage("user", "q1"), new ContextMessage("assistant", "a1"),
                new ContextMessage("user", "q4"), new ContextMessage("assistant", "a4"),
                new ContextMessage("user", "q5"), new ContextMessage("assistant", "a5"));

        // whole exchanges: never an answer without its question at the start
        assertThat(store.loadContext(user, s.id(), 3).history()).containsExactly(
                new ContextMessage("user", "q5"), new ContextMessage("assistant", "a5"));
        assertThat(store.loadContext(user, s.id(), 0).history()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void sessionShowsEveryMessageInOrderWithItsStatus(String db) {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession(null, null));
        assertThat(s.title()).isEqualTo("New chat");
        assertThat(s.createdAt()).isEqualTo("2026-11-26T10:00:00.123Z");
        exchange(store, s.id(), "q1", "a1", "complete");
        exchange(store, s.id(), "q2", "", "failed");

        SessionDetail read = store.getSession(user, s.id(), null, null);
        assertThat(read.messages()).extracting(MessageView::role, MessageView::content, MessageView::status)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("user", "q1", "complete"),
                        org.assertj.core.groups.Tuple.tuple("assistant", "a1", "complete"),
                        org.assertj.core.groups.Tuple.tuple("user", "q2", "complete"),
                        org.assertj.core.groups.Tuple.tuple("assistant", "", "failed"));
        assertThat(read.updatedAt()).isEqualTo("2026-11-26T10:00:00.123Z");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void storedIdsAreTimeOrderedUuidsThatIncreaseInTheOrderTheyWereStored(String db) {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView first = store.createSession(user, new NewSession("a", null));
        SessionView second = store.createSession(user, new NewSession("b", null));
        for (int i = 0; i < 30; i++) {
            exchange(store, second.id(), "q" + i, "a" + i, "complete");
        }

        List<String> ids = new ArrayList<>(List.of(first.id(), second.id()));
        store.getSession(user, second.id(), null, null).messages().forEach(m -> ids.add(m.id()));
        assertThat(ids).hasSize(62);
        assertThat(ids).allSatisfy(id -> assertThat(UUID.fromString(id).version()).isEqualTo(7));
        for (int i = 1; i < ids.size(); i++) {
            assertThat(ids.get(i)).isGreaterThan(ids.get(i - 1));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void anotherUsersSessionIsNotFoundAndCannotBeDeleted(String db) {
        ChatStore store = store(db);
        SessionView s = store.createSession("owner-" + UUID.randomUUID(), new NewSession("mine", null));

        for (Runnable r : List.<Runnable>of(
                () -> store.getSession("intruder", s.id(), null, null),
                () -> store.loadContext("intruder", s.id(), 20),
                () -> store.deleteSession("intruder", s.id()),
                () -> store.getSession("intruder", "not-a-uuid", null, null))) {
            assertThatThrownBy(r::run).isInstanceOfSatisfying(ApiError.class, e -> {
                assertThat(e.status()).isEqualTo(404);
                assertThat(e.code()).isEqualTo("session_not_found");
            });
        }
        assertThat(store.listSessions("intruder", null, null).sessions()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void deletingASessionDeletesItsMessages(String db) {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("x", null));
        exchange(store, s.id(), "q", "a", "complete");

        store.deleteSession(user, s.id());

        assertThatThrownBy(() -> store.getSession(user, s.id(), null, null)).isInstanceOf(ApiError.class);
        assertThat(store.listSessions(user, null, null).sessions()).isEmpty();
    }

    /**
     * The history is read newest first, a page at a time: two exchanges whose messages interleave come out as
     * question/answer pairs, and a question still waiting for its answer and more unanswered or failed exchanges than
     * fit in one page are left out.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void contextOfInterleavedAndFailedExchangesAcrossSeveralPages(String db) {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", null));
        exchange(store, s.id(), "q1", "a1", "complete");
        for (int i = 0; i < 12; i++) {
            exchange(store, s.id(), "lost" + i, "", "failed");
        }
        // two messages sent at once: both questions are stored before either answer
        String x = UUID.randomUUID().toString();
        String y = UUID.randomUUID().toString();
        store.saveUserMessage("u", s.id(), x, "qx");
        store.saveUserMessage("u", s.id(), y, "qy");
        answer(store, s.id(), y, "ay", "complete");
        answer(store, s.id(), x, "ax", "complete");
        store.saveUserMessage("u", s.id(), UUID.randomUUID().toString(), "still waiting");

        // the newest exchange is the one whose question came last (qy), though its answer was stored first
        assertThat(store.loadContext(user, s.id(), 2).history()).containsExactly(
                new ContextMessage("user", "qy"), new ContextMessage("assistant", "ay"));
        assertThat(store.loadContext(user, s.id(), 4).history()).containsExactly(
                new ContextMessage("user", "qx"), new ContextMessage("assistant", "ax"),
                new ContextMessage("user", "qy"), new ContextMessage("assistant", "ay"));
        // a page is 2 x 6 + 2 = 14 messages: q1 and a1 lie behind 24 failed ones, two pages down
        assertThat(store.loadContext(user, s.id(), 6).history()).containsExactly(
                new ContextMessage("user", "q1"), new ContextMessage("assistant", "a1"),
                new ContextMessage("user", "qx"), new ContextMessage("assistant", "ax"),
                new ContextMessage("user", "qy"), new ContextMessage("assistant", "ay"));
        // an odd limit takes whole exchanges only: the oldest exchange's answer is not taken without its question
        assertThat(store.loadContext(user, s.id(), 5).history()).containsExactly(
                new ContextMessage("user", "qx"), new ContextMessage("assistant", "ax"),
                new ContextMessage("user", "qy"), new ContextMessage("assistant", "ay"));
        assertThat(store.loadContext(user, s.id(), 20).history()).containsExactly(
                new ContextMessage("user", "q1"), new ContextMessage("assistant", "a1"),
                new ContextMessage("user", "qx"), new ContextMessage("assistant", "ax"),
                new ContextMessage("user", "qy"), new ContextMessage("assistant", "ay"));
    }

    /**
     * Four messages sent side by side (README: exchange_id pairs them): every question is stored before the first
     * answer, and the answers land in the order they finished, one of them cut. The context is still complete
     * exchanges, each question followed by its answer, in the order the questions were accepted - read from the
     * database (with a page boundary between answers and their questions) and from this instance's copy alike, and
     * cut to the limit from the oldest end.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void messagesSentSideBySideAreContextAsPairsInTheOrderOfTheirQuestions(String db) {
        ChatStore store = store(db);
        ChatStore withoutCopies = new ChatStore(database(db).dataSource(), Clock.systemUTC(), 20, 1000, 0);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", null));
        exchange(store, s.id(), "q1", "a1", "complete");
        // read once: this instance copies the history, and its own writes below keep the copy current
        assertThat(store.loadContext(user, s.id(), 20).history()).hasSize(2);
        String a = UUID.randomUUID().toString();
        String b = UUID.randomUUID().toString();
        String c = UUID.randomUUID().toString();
        String d = UUID.randomUUID().toString();
        store.saveUserMessage("u", s.id(), a, "qa");
        store.saveUserMessage("u", s.id(), b, "qb");
        store.saveUserMessage("u", s.id(), c, "qc");
        store.saveUserMessage("u", s.id(), d, "qd");
        answer(store, s.id(), c, "ac", "complete");
        answer(store, s.id(), a, "aa", "complete");
        answer(store, s.id(), d, "ad partial", "interrupted");
        answer(store, s.id(), b, "ab", "complete");
        store.saveUserMessage("u", s.id(), UUID.randomUUID().toString(), "still waiting");

        List<ContextMessage> pairs = List.of(
                new ContextMessage("user", "q1"), new ContextMessage("assistant", "a1"),
                new ContextMessage("user", "qa"), new ContextMessage("assistant", "aa"),
                new ContextMessage("user", "qb"), new ContextMessage("assistant", "ab"),
                new ContextMessage("user", "qc"), new ContextMessage("assistant", "ac"));
        long fromCopies = store.historyReadsFromCopies();
        assertThat(store.loadContext(user, s.id(), 20).history()).isEqualTo(pairs);
        assertThat(store.historyReadsFromCopies()).as("from the copy").isEqualTo(fromCopies + 1);
        assertThat(withoutCopies.loadContext(user, s.id(), 20).history()).isEqualTo(pairs);
        for (ChatStore instance : List.of(store, withoutCopies)) {
            assertThat(instance.loadContext(user, s.id(), 4).history()).isEqualTo(pairs.subList(4, 8));
            // whole exchanges only: an odd limit never starts the history with an answer whose question it left out
            assertThat(instance.loadContext(user, s.id(), 3).history()).isEqualTo(pairs.subList(6, 8));
            assertThat(instance.loadContext(user, s.id(), 5).history()).isEqualTo(pairs.subList(4, 8));
            assertThat(instance.loadContext(user, s.id(), 1).history()).isEmpty();
            // a page is 2 x 2 + 2 = 6 messages: the answers on the first, their questions on the next
            assertThat(instance.loadContext(user, s.id(), 2).history()).isEqualTo(pairs.subList(6, 8));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aReasoningModelsThinkingIsStoredBesideItsAnswerAndNeverInTheContext(String db) throws Exception {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession(null, null));
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage(user, s.id(), exchangeId, "6x7?");
        store.saveAnswer(new AnswerRecord(s.id(), exchangeId, user, "42.", "complete", "sambanova", "DeepSeek-R1",
                "stop", null, 2048, 60, false, new java.math.BigDecimal("0.0075"), 10L, 20L, null, 1536, 40,
                "Six sevens are forty-two."), null, false);

        List<MessageView> read = store.getSession(user, s.id(), null, null).messages();
        assertThat(read.get(1).content()).isEqualTo("42.");
        assertThat(read.get(1).reasoning()).isEqualTo("Six sevens are forty-two.");
        assertThat(read.get(0).reasoning()).isNull();
        assertThat(store.loadContext(user, s.id(), 10).history()).containsExactly(
                new ContextMessage("user", "6x7?"), new ContextMessage("assistant", "42."));
        // the counts are on the message and in the ledger (V13 on this database)
        Database database = db.equals("h2") ? h2 : postgres;
        try (var c = database.dataSource().getConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT m.cached_tokens, m.reasoning_tokens, u.cached_tokens, u.reasoning_tokens"
                     + " FROM chat_message m JOIN llm_usage u ON u.message_id = m.id WHERE m.exchange_id = '"
                     + exchangeId + "' AND m.role = 'assistant'")) {
            assertThat(rs.next()).isTrue();
            assertThat(List.of(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getInt(4)))
                    .containsExactly(1536, 40, 1536, 40);
        }
    }

    /** Deleted between chat-http's read and the message's write: 404, as a moment earlier, not a storage failure. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aMessageToASessionDeletedSinceItWasReadIsNotFoundAndStoresNothing(String db) throws Exception {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession(null, null));
        store.loadContext(user, s.id(), 20);
        store.deleteSession(user, s.id());

        assertThatThrownBy(() -> store.saveUserMessage(user, s.id(), UUID.randomUUID().toString(), "hello"))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("session_not_found");
                });
        assertThat(count(db, "SELECT COUNT(*) FROM chat_message WHERE session_id = '" + s.id() + "'")).isZero();
    }

    /** The user's message moves its session to the top of the list, and is stored exactly as sent. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aUserMessageIsStoredExactlyAndMovesItsSessionForward(String db) {
        String user = "u-" + UUID.randomUUID();
        ChatStore earlier = store(db, Clock.fixed(Instant.parse("2026-11-26T10:00:00Z"), ZoneOffset.UTC));
        SessionView s = earlier.createSession(user, new NewSession(null, null));
        ChatStore later = store(db, Clock.fixed(Instant.parse("2026-11-26T10:05:00Z"), ZoneOffset.UTC));
        String sent = "  Ünïcode 🙂, 'quotes', \\backslash\\ and a NUL-free\nnewline  ";

        later.saveUserMessage(user, s.id(), UUID.randomUUID().toString(), sent);

        SessionDetail read = later.getSession(user, s.id(), null, null);
        assertThat(read.messages()).extracting(MessageView::content).containsExactly(sent);
        assertThat(read.messages()).extracting(MessageView::status).containsExactly("complete");
        assertThat(later.listSessions(user, null, null).sessions().get(0).updatedAt())
                .isEqualTo("2026-11-26T10:05:00Z");
    }

    /** A session deleted while its answer streamed: the answer has nowhere to go, its tokens still reach the ledger. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void theAnswerOfASessionDeletedWhileItStreamedIsNotStoredButItsUsageIs(String db) throws Exception {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession(null, null));
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage(user, s.id(), exchangeId, "q");
        store.deleteSession(user, s.id());

        ChatStore.SavedAnswer saved = store.saveAnswer(new AnswerRecord(s.id(), exchangeId, user, "a", "complete",
                "demo", "cobalt-demo", "stop", null, 3, 4, false, null, 10L, 20L, null), null, false);

        assertThat(saved.stored()).isFalse();
        assertThat(count(db, "SELECT COUNT(*) FROM chat_message WHERE exchange_id = '" + exchangeId + "'")).isZero();
        assertThat(count(db, "SELECT prompt_tokens * 10 + completion_tokens FROM llm_usage WHERE message_id = '"
                + saved.id() + "'")).isEqualTo(34);
    }

    /** The row a checkpoint wrote while the answer streamed becomes the answer: one row, final, its lease gone. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aCheckpointedAnswerIsFinishedInItsOwnRow(String db) throws Exception {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession(null, null));
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage(user, s.id(), exchangeId, "q");
        String rowId = RowIds.next();
        try (var c = database(db).dataSource().getConnection(); var ps = c.prepareStatement("INSERT INTO chat_message"
                + " (id, session_id, exchange_id, user_id, role, content, status, instance_id, lease_until, created_at)"
                + " VALUES (?, ?, ?, ?, 'assistant', 'The ans', 'streaming', 'instance-1', ?, ?)")) {
            java.time.OffsetDateTime t = java.time.OffsetDateTime.parse("2026-11-26T10:00:00Z");
            ps.setString(1, rowId);
            ps.setString(2, s.id());
            ps.setString(3, exchangeId);
            ps.setString(4, user);
            ps.setObject(5, t.plusMinutes(1));
            ps.setObject(6, t);
            ps.executeUpdate();
        }

        ChatStore.SavedAnswer saved = store.saveAnswer(new AnswerRecord(s.id(), exchangeId, user, "The answer.",
                "complete", "demo", "cobalt-demo", "stop", null, 3, 4, true, new java.math.BigDecimal("0.0001"), 10L,
                20L, "b"), rowId, true);

        assertThat(saved).isEqualTo(new ChatStore.SavedAnswer(rowId, true));
        List<MessageView> read = store.getSession(user, s.id(), null, null).messages();
        assertThat(read).extracting(MessageView::id).containsExactly(read.get(0).id(), rowId);
        assertThat(read.get(1).content()).isEqualTo("The answer.");
        assertThat(read.get(1).status()).isEqualTo("complete");
        assertThat(count(db, "SELECT COUNT(*) FROM chat_message WHERE id = '" + rowId + "' AND instance_id IS NULL"
                + " AND lease_until IS NULL AND tokens_estimated AND variant = 'b'")).isEqualTo(1);
        assertThat(count(db, "SELECT COUNT(*) FROM llm_usage WHERE message_id = '" + rowId + "'")).isEqualTo(1);
    }

    /** The OpenAI-compatible API has no session: its answer is only its usage. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void anAnswerWithoutASessionGoesOnlyIntoTheLedger(String db) throws Exception {
        ChatStore store = store(db);
        String user = "u-" + UUID.randomUUID();

        String id = store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user, "a", "complete",
                "demo", "cobalt-demo", "stop", null, 5, 7, false, null, 10L, 20L, null));

        assertThat(count(db, "SELECT prompt_tokens * 10 + completion_tokens FROM llm_usage WHERE message_id = '" + id
                + "' AND session_id IS NULL AND user_id = '" + user + "'")).isEqualTo(57);
        assertThat(count(db, "SELECT COUNT(*) FROM chat_message WHERE user_id = '" + user + "'")).isZero();
    }

    /**
     * H2: an answer without a session is its usage row alone - one statement in autocommit mode, no transaction
     * around it, and no connection at all without usage (bench/README fix 47).
     */
    @org.junit.jupiter.api.Test
    void onH2AnAnswerWithoutASessionIsOneAutocommitStatement() throws Exception {
        List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        javax.sql.DataSource counted = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(h2.dataSource(), method, args);
                    if (method.getName().equals("getConnection")) {
                        calls.add("getConnection");
                        java.sql.Connection real = (java.sql.Connection) result;
                        return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                                new Class<?>[] {java.sql.Connection.class}, (p, m, a) -> {
                                    if (m.getName().equals("setAutoCommit") || m.getName().equals("commit")) {
                                        calls.add(m.getName() + (a == null ? "" : "(" + a[0] + ")"));
                                    }
                                    return invoke(real, m, a);
                                });
                    }
                    return result;
                });
        ChatStore store = new ChatStore(counted, Clock.systemUTC());
        String user = "u-" + UUID.randomUUID();
        calls.clear();

        String id = store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user, "a", "complete",
                "demo", "cobalt-demo", "stop", null, 5, 7, false, null, 10L, 20L, null));

        assertThat(calls).containsExactly("getConnection");
        assertThat(count("h2", "SELECT prompt_tokens * 10 + completion_tokens FROM llm_usage WHERE message_id = '"
                + id + "'")).isEqualTo(57);

        calls.clear();
        store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user, "", "failed", null, null, null,
                "upstream_error", null, null, null, null, 10L, 20L, null));
        assertThat(calls).isEmpty();
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /**
     * PostgreSQL: the answer's one statement commits without waiting for the disk, for itself only (a local
     * set_config): the pooled connection, next used for a user's message, must still wait.
     */
    @org.junit.jupiter.api.Test
    void onPostgresTheAnswersCommitModeDoesNotOutliveItsStatement() throws Exception {
        Postgres.assumeAvailable();
        try (Database two = new Database(pgSchema.url(), Postgres.USER, "", 2)) {
            ChatStore store = new ChatStore(two.dataSource(), Clock.systemUTC());
            String user = "u-" + UUID.randomUUID();
            SessionView s = store.createSession(user, new NewSession(null, null));
            store.saveUserMessage(user, s.id(), UUID.randomUUID().toString(), "q");
            assertThat(store.saveAnswer(new AnswerRecord(s.id(), UUID.randomUUID().toString(), user, "a", "complete",
                    "demo", "cobalt-demo", "stop", null, 3, 4, false, null, 10L, 20L, null), null, false).stored())
                    .isTrue();

            // both of the pool's connections, whichever ran the answer
            try (var c1 = two.dataSource().getConnection(); var c2 = two.dataSource().getConnection()) {
                for (var c : List.of(c1, c2)) {
                    try (var st = c.createStatement(); var rs = st.executeQuery("SHOW synchronous_commit")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("on");
                    }
                }
            }
        }
    }

    private Database database(String db) {
        if (db.equals("postgres")) {
            Postgres.assumeAvailable();
        }
        return db.equals("h2") ? h2 : postgres;
    }

    private long count(String db, String sql) throws Exception {
        try (var c = database(db).dataSource().getConnection(); var st = c.createStatement();
             var rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(1);
        }
    }

    private static void answer(ChatStore store, String sessionId, String exchangeId, String answer, String status) {
        store.saveAnswer(new AnswerRecord(sessionId, exchangeId, "u", answer, status, "demo", "cobalt-demo", "stop",
                null, 3, 4, false, null, 10L, 20L, null));
    }

    /**
     * The sweep of expired leases gives an answer it marks interrupted an estimated usage row; if the instance was
     * alive after all (its leases ran out while its database was out of reach) and finishes the answer, the answer is
     * stored and its provider's usage replaces the estimate: one row, exact. Without the upsert the answer's save broke
     * on the ledger's key.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void theSweepEstimatesAnInterruptedAnswersUsageAndAFinishAfterItReplacesTheEstimate(String db) throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC);
        ChatStore store = store(db, clock);
        javax.sql.DataSource ds = database(db).dataSource();
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", "Be brief."));
        exchange(store, s.id(), "q1", "a1", "complete");
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage(user, s.id(), exchangeId, "q2");
        String rowId = RowIds.next();
        try (var c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO chat_message (id, session_id,"
                + " exchange_id, user_id, role, content, status, provider, model, instance_id, lease_until, created_at)"
                + " VALUES (?, ?, ?, ?, 'assistant', 'partial', 'streaming', 'sambanova', 'm', 'dead-instance', ?, ?)")) {
            ps.setString(1, rowId);
            ps.setString(2, s.id());
            ps.setString(3, exchangeId);
            ps.setString(4, user);
            ps.setObject(5, java.time.OffsetDateTime.parse("2026-11-26T09:59:00Z"));
            ps.setObject(6, java.time.OffsetDateTime.parse("2026-11-26T09:58:00Z"));
            ps.executeUpdate();
        }
        List<List<String>> prompts = new ArrayList<>();
        AnswerCheckpoints sweeper = new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(2), false);
        sweeper.estimateSweptUsage((provider, model, prompt, completion) -> {
            prompts.add(prompt.stream().map(m -> m.role() + ":" + m.content()).toList());
            return new SweptUsage.Estimate(100 + prompt.size(), completion.length(),
                    new java.math.BigDecimal("0.0042"));
        }, 20);
        assertThat(sweeper.sweepAtStart()).isGreaterThanOrEqualTo(1);
        assertThat(prompts).contains(List.of("system:Be brief.", "user:q1", "assistant:a1", "user:q2"));
        assertThat(usageRows(ds, rowId)).containsExactly("interrupted 104 7 true 0.0042 m");
        assertThat(sweeper.sweepAtStart()).as("swept once").isZero();
        assertThat(usageRows(ds, rowId)).containsExactly("interrupted 104 7 true 0.0042 m");

        ChatStore.SavedAnswer saved = store.saveAnswer(new AnswerRecord(s.id(), exchangeId, user, "partial and done",
                "complete", "sambanova", "m", "stop", null, 12, 4, false, new java.math.BigDecimal("0.001"), 5L, 9L,
                null), rowId, true);
        assertThat(saved.stored()).isTrue();
        assertThat(usageRows(ds, rowId)).containsExactly("complete 12 4 false 0.001 m");
    }

    /**
     * An answer whose message could not be stored (the database was out of reach as it ended) but whose real usage
     * reached the ledger - written on its own, or later from the rows that waited - is left streaming until its lease
     * runs out. The sweep marks it interrupted and keeps that usage. Before, the sweep's estimate failed on the
     * ledger's key and took the whole sweep with it, every tick: no expired answer was marked any more.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void theSweepKeepsTheRealUsageOfAnAnswerWhoseMessageWasNotStored(String db) throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC);
        ChatStore store = store(db, clock);
        javax.sql.DataSource ds = database(db).dataSource();
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", null));
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage(user, s.id(), exchangeId, "q");
        String rowId = RowIds.next();
        try (var c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO chat_message (id, session_id,"
                + " exchange_id, user_id, role, content, status, provider, model, instance_id, lease_until, created_at)"
                + " VALUES (?, ?, ?, ?, 'assistant', 'partial', 'streaming', 'sambanova', 'm', 'live-instance', ?, ?)");
             var usage = c.prepareStatement(ChatStore.INSERT_USAGE)) {
            ps.setString(1, rowId);
            ps.setString(2, s.id());
            ps.setString(3, exchangeId);
            ps.setString(4, user);
            ps.setObject(5, java.time.OffsetDateTime.parse("2026-11-26T09:59:00Z"));
            ps.setObject(6, java.time.OffsetDateTime.parse("2026-11-26T09:58:00Z"));
            ps.executeUpdate();
            Object[] values = {rowId, user, s.id(), "sambanova", "m", "complete", 12, 4, false,
                    new java.math.BigDecimal("0.001"), null, null, null,
                    java.time.OffsetDateTime.parse("2026-11-26T09:58:30Z")};
            for (int i = 0; i < values.length; i++) {
                usage.setObject(i + 1, values[i]);
            }
            usage.executeUpdate();
        }
        AnswerCheckpoints sweeper = new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(2), false);
        sweeper.estimateSweptUsage((provider, model, prompt, completion) ->
                new SweptUsage.Estimate(100, 7, new java.math.BigDecimal("0.0042")), 20);

        assertThat(sweeper.sweepAtStart()).isGreaterThanOrEqualTo(1);

        assertThat(count(db, "SELECT COUNT(*) FROM chat_message WHERE id = '" + rowId + "' AND status = 'interrupted'"))
                .isEqualTo(1);
        assertThat(usageRows(ds, rowId)).containsExactly("complete 12 4 false 0.001 m");
    }

    /**
     * A dead instance's answers are swept in blocks, each committed on its own. Swept in one transaction, 252 answers
     * at a 6 ms round trip took 16 s on the checkpoint thread: the sweeping instance's own leases ran out meanwhile (a
     * third instance could have swept its live answers) and an instance starting waited on the rows' locks.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aDeadInstancesAnswersAreSweptInBlocksEachCommittedOnItsOwn(String db) throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC);
        javax.sql.DataSource ds = database(db).dataSource();
        new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2), false)
                .sweepAtStart(); // what other tests left
        String sessionId = deadAnswers(store(db, clock), ds, 5, "2026-11-26T09:59:00Z").get(0);
        List<Long> committedAtEachEstimate = new ArrayList<>();
        AnswerCheckpoints sweeper = new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(2), false, 2);
        sweeper.estimateSweptUsage((provider, model, prompt, completion) -> {
            committedAtEachEstimate.add(interruptedIn(ds, sessionId));
            return new SweptUsage.Estimate(10, 1, new java.math.BigDecimal("0.001"));
        }, 20);

        sweeper.tick();

        assertThat(committedAtEachEstimate).containsExactly(0L, 0L, 2L, 2L, 4L);
        assertThat(interruptedIn(ds, sessionId)).isEqualTo(5);
        assertThat(count(db, "SELECT COUNT(*) FROM llm_usage WHERE session_id = '" + sessionId + "'")).isEqualTo(5);
    }

    /**
     * Between two blocks of a long sweep, the sweeping instance checkpoints its own answers again (here: interval zero,
     * so after every full block), so their leases do not run out while it sweeps a dead instance's thousands. Before,
     * its own 500 answers' leases were expired for 8 s while it swept 252 rows.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aLongSweepRenewsTheSweepingInstancesOwnLeasesBetweenBlocks(String db) throws Exception {
        Instant start = Instant.parse("2026-11-26T10:00:00Z");
        java.util.concurrent.atomic.AtomicReference<Instant> now = new java.util.concurrent.atomic.AtomicReference<>(start);
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        javax.sql.DataSource ds = database(db).dataSource();
        new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2), false)
                .sweepAtStart(); // what other tests left
        String sessionId = deadAnswers(store(db, clock), ds, 5, "2026-11-26T09:59:00Z").get(0);
        AnswerCheckpoints sweeper = new AnswerCheckpoints(ds, clock, java.time.Duration.ZERO,
                java.time.Duration.ofSeconds(10), false, 2);
        sweeper.estimateSweptUsage((provider, model, prompt, completion) -> {
            now.set(now.get().plusSeconds(1)); // each swept answer takes a second
            return new SweptUsage.Estimate(10, 1, new java.math.BigDecimal("0.001"));
        }, 20);
        LiveAnswer own = sweeper.begin("u-own", sessionId, UUID.randomUUID().toString(), "sambanova", "m", null,
                ownStream());

        sweeper.tick();

        assertThat(interruptedIn(ds, sessionId)).isEqualTo(5);
        try (var c = ds.getConnection(); var ps = c.prepareStatement("SELECT status, lease_until FROM chat_message"
                + " WHERE id = ?")) {
            ps.setString(1, own.messageId);
            try (var rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("streaming");
                // checkpointed at 10:00:00 (the tick), 10:00:02 and 10:00:04 (after each full block of two)
                assertThat(rs.getObject(2, java.time.OffsetDateTime.class).toInstant())
                        .isEqualTo(Instant.parse("2026-11-26T10:00:14Z"));
            }
        }
    }

    /** A session answer streaming on this instance (its relay replays a provider's first token). */
    private static com.cobalt.chat.stream.RelaySession ownStream() {
        var settings = new com.cobalt.chat.config.ProviderSettings("sambanova",
                com.cobalt.chat.config.ProviderKind.OPENAI, "http://127.0.0.1:9/v1/chat/completions", null, null, null,
                "m", "m", true, null, null);
        var out = (io.vertx.core.http.HttpServerResponse) java.lang.reflect.Proxy.newProxyInstance(
                ChatStoreTest.class.getClassLoader(), new Class<?>[] {io.vertx.core.http.HttpServerResponse.class},
                (proxy, method, args) -> {
                    Class<?> type = method.getReturnType();
                    if (type.isInstance(proxy)) {
                        return proxy;
                    }
                    return type == boolean.class ? false : type == int.class || type == long.class ? 0 : null;
                });
        var client = new com.cobalt.chat.http.ClientConnection(null, out, null, System.nanoTime(), "store-test");
        return com.cobalt.chat.stream.RelaySession.replay(settings, settings.target("m"), "m",
                io.vertx.core.buffer.Buffer.buffer("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"),
                client, null, new com.cobalt.chat.stream.RelaySettings(60_000, 15_000, 5_000, 1_048_576),
                new com.cobalt.chat.stream.LiveStreams(), com.cobalt.chat.stream.ClientFormat.SESSION);
    }

    /**
     * On a shared database an instance starting sweeps one block before it listens; its ticks sweep the rest while it
     * serves. Before, it swept every expired answer first: 36 s for 1,000 answers at a 6 ms round trip, not listening.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void onASharedDatabaseAnInstanceStartingSweepsOneBlockBeforeItListens(String db) throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC);
        javax.sql.DataSource ds = database(db).dataSource();
        new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2), false)
                .sweepAtStart(); // what other tests left
        String sessionId = deadAnswers(store(db, clock), ds, 5, "2026-11-26T09:59:00Z").get(0);
        AnswerCheckpoints starting = new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(2), false, 2);
        starting.estimateSweptUsage((provider, model, prompt, completion) ->
                new SweptUsage.Estimate(10, 1, new java.math.BigDecimal("0.001")), 20);

        assertThat(starting.sweepAtStart()).isEqualTo(2);
        assertThat(interruptedIn(ds, sessionId)).isEqualTo(2);

        starting.tick();
        assertThat(interruptedIn(ds, sessionId)).isEqualTo(5);
    }

    /**
     * PostgreSQL: a sweep skips the rows another instance's sweep holds instead of waiting for its transaction. Before,
     * an instance restarting after a crash waited 18 s at start, not listening, behind the survivor's sweep.
     */
    @org.junit.jupiter.api.Test
    void onPostgresASweepSkipsTheRowsAnotherSweepHolds() throws Exception {
        Postgres.assumeAvailable();
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:00.123456Z"), ZoneOffset.UTC);
        javax.sql.DataSource ds = postgres.dataSource();
        new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2), false)
                .sweepAtStart(); // what other tests left
        List<String> created = deadAnswers(store("postgres", clock), ds, 3, "2026-11-26T09:59:00Z");
        String sessionId = created.get(0);
        AnswerCheckpoints sweeper = new AnswerCheckpoints(ds, clock, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(2), false);
        sweeper.estimateSweptUsage((provider, model, prompt, completion) ->
                new SweptUsage.Estimate(10, 1, new java.math.BigDecimal("0.001")), 20);
        try (var other = ds.getConnection()) {
            other.setAutoCommit(false);
            try (var lock = other.prepareStatement("SELECT id FROM chat_message WHERE id = ? FOR UPDATE")) {
                lock.setString(1, created.get(1));
                lock.executeQuery().close();
            }
            var sweep = java.util.concurrent.CompletableFuture.supplyAsync(sweeper::sweepAtStart);
            try {
                assertThat(sweep.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2);
            } finally {
                other.commit();
            }
        }
        assertThat(sweeper.sweepAtStart()).isEqualTo(1);
        assertThat(interruptedIn(ds, sessionId)).isEqualTo(3);
    }

    /** The session's id, then the ids of {@code n} answers left streaming by a dead instance, leased until then. */
    private static List<String> deadAnswers(ChatStore store, javax.sql.DataSource ds, int n, String leaseUntil)
            throws Exception {
        String user = "u-" + UUID.randomUUID();
        SessionView s = store.createSession(user, new NewSession("t", null));
        List<String> ids = new ArrayList<>(List.of(s.id()));
        for (int i = 0; i < n; i++) {
            String exchangeId = UUID.randomUUID().toString();
            store.saveUserMessage(user, s.id(), exchangeId, "q" + i);
            String rowId = RowIds.next();
            try (var c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO chat_message (id, session_id,"
                    + " exchange_id, user_id, role, content, status, provider, model, instance_id, lease_until,"
                    + " created_at) VALUES (?, ?, ?, ?, 'assistant', 'partial', 'streaming', 'sambanova', 'm',"
                    + " 'dead-instance', ?, ?)")) {
                ps.setString(1, rowId);
                ps.setString(2, s.id());
                ps.setString(3, exchangeId);
                ps.setString(4, user);
                ps.setObject(5, java.time.OffsetDateTime.parse(leaseUntil));
                ps.setObject(6, java.time.OffsetDateTime.parse("2026-11-26T09:58:00Z"));
                ps.executeUpdate();
            }
            ids.add(rowId);
        }
        return ids;
    }

    /** Committed interrupted answers of the session, read on a connection of its own. */
    private static long interruptedIn(javax.sql.DataSource ds, String sessionId) {
        try (var c = ds.getConnection(); var ps = c.prepareStatement("SELECT COUNT(*) FROM chat_message WHERE"
                + " session_id = ? AND status = 'interrupted'")) {
            ps.setString(1, sessionId);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> usageRows(javax.sql.DataSource ds, String id) throws Exception {
        List<String> rows = new ArrayList<>();
        try (var c = ds.getConnection(); var ps = c.prepareStatement("SELECT status, prompt_tokens, completion_tokens,"
                + " tokens_estimated, cost_usd, model FROM llm_usage WHERE message_id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + " " + rs.getInt(2) + " " + rs.getInt(3) + " " + rs.getBoolean(4) + " "
                            + rs.getBigDecimal(5).stripTrailingZeros().toPlainString() + " " + rs.getString(6));
                }
            }
        }
        return rows;
    }

    private static void exchange(ChatStore store, String sessionId, String question, String answer, String status) {
        String exchangeId = UUID.randomUUID().toString();
        store.saveUserMessage("u", sessionId, exchangeId, question);
        answer(store, sessionId, exchangeId, answer, status);
    }
}
