package com.cobalt.chat.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.record.UsageReports;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keyset paging of the session list, a session's messages and the usage groups, on both databases (the SQL and the
 * V11 index must work on H2 and PostgreSQL alike): every row exactly once and in order across pages, ties on
 * updated_at broken by id across page boundaries, what sessions created or updated between pages do, and cursors and
 * limits that were not given out are 400s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PagingTest {

    static final Instant START = Instant.parse("2026-11-26T10:00:00Z");

    Database h2;
    Database postgres;
    Postgres.Schema pgSchema;

    @BeforeAll
    void open() {
        h2 = new Database("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        if (Postgres.available()) {
            pgSchema = Postgres.newSchema("paging_test");
            postgres = new Database(pgSchema.url(), Postgres.USER, "", 4);
        }
    }

    @AfterAll
    void close() {
        h2.close();
        if (postgres != null) {
            postgres.close();
        }
        if (pgSchema != null) {
            pgSchema.close();
        }
    }

    Stream<String> databaseNames() {
        return Stream.of("h2", "postgres");
    }

    Database database(String name) {
        if (name.equals("postgres")) {
            Postgres.assumeAvailable();
            return postgres;
        }
        return h2;
    }

    ChatStore store(String name, TestClock clock) {
        return new ChatStore(database(name).dataSource(), clock, 20, 100_000);
    }

    /** 250 sessions, three to a millisecond: every page boundary falls inside a tie that only the id breaks. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void aWalkWithLimit100ShowsEachOf250SessionsExactlyOnceNewestFirst(String db) {
        TestClock clock = new TestClock(START);
        ChatStore store = store(db, clock);
        String user = "u-" + UUID.randomUUID();
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            if (i % 3 == 0) {
                clock.advance(Duration.ofMillis(1));
            }
            created.add(store.createSession(user, new NewSession("s" + i, null)).id());
        }
        List<String> expected = newestFirst(created);

        SessionPage first = store.listSessions(user, "100", null);
        SessionPage second = store.listSessions(user, "100", first.nextCursor());
        SessionPage third = store.listSessions(user, "100", second.nextCursor());

        assertThat(ids(first)).containsExactlyElementsOf(expected.subList(0, 100));
        assertThat(ids(second)).containsExactlyElementsOf(expected.subList(100, 200));
        assertThat(ids(third)).containsExactlyElementsOf(expected.subList(200, 250));
        assertThat(first.nextCursor()).isNotNull();
        assertThat(second.nextCursor()).isNotNull();
        assertThat(third.nextCursor()).isNull();
        // the default page is 50; a page that ends exactly at the last session has no next_cursor
        assertThat(ids(store.listSessions(user, null, null))).containsExactlyElementsOf(expected.subList(0, 50));
        SessionPage exact = store.listSessions(user, "50", store.listSessions(user, "200", null).nextCursor());
        assertThat(ids(exact)).containsExactlyElementsOf(expected.subList(200, 250));
        assertThat(exact.nextCursor()).isNull();
        assertThat(store.listSessions(user, "200", null).sessions()).hasSize(200);
    }

    /**
     * Between pages: new sessions, a message into a session already shown and into one not shown yet, and a message
     * from an instance whose clock is an hour behind. Sessions that did not move come exactly once in order; a moved
     * one is never shown twice (the one not yet shown moves above the cursor and is left out of this walk); the
     * late clock moves nothing.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void sessionsCreatedOrUpdatedBetweenPagesAreNeitherRepeatedNorDoTheyPushOthersOut(String db) {
        TestClock clock = new TestClock(START);
        ChatStore store = store(db, clock);
        String user = "u-" + UUID.randomUUID();
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            clock.advance(Duration.ofSeconds(1));
            created.add(store.createSession(user, new NewSession("s" + i, null)).id());
        }
        List<String> expected = newestFirst(created);

        SessionPage first = store.listSessions(user, "10", null);
        assertThat(ids(first)).containsExactlyElementsOf(expected.subList(0, 10));

        clock.advance(Duration.ofSeconds(1));
        String newer = store.createSession(user, new NewSession("new", null)).id();
        String shownThenUpdated = expected.get(3);
        clock.advance(Duration.ofSeconds(1));
        store.saveUserMessage(user, shownThenUpdated, UUID.randomUUID().toString(), "again");
        String movedBeforeShown = expected.get(25);
        clock.advance(Duration.ofSeconds(1));
        store.saveUserMessage(user, movedBeforeShown, UUID.randomUUID().toString(), "moves me up");
        String lateClock = expected.get(12);
        String lateClockUpdatedAt = store.getSession(user, lateClock, null, null).updatedAt();
        TestClock behind = new TestClock(clock.instant().minus(Duration.ofHours(1)));
        store(db, behind).saveUserMessage(user, lateClock, UUID.randomUUID().toString(), "from a slow clock");

        SessionPage second = store.listSessions(user, "10", first.nextCursor());
        SessionPage third = store.listSessions(user, "10", second.nextCursor());

        assertThat(ids(second)).containsExactlyElementsOf(expected.subList(10, 20));
        List<String> rest = new ArrayList<>(expected.subList(20, 30));
        rest.remove(movedBeforeShown);
        assertThat(ids(third)).containsExactlyElementsOf(rest);
        assertThat(third.nextCursor()).isNull();
        assertThat(store.getSession(user, lateClock, null, null).updatedAt()).isEqualTo(lateClockUpdatedAt);
        // a new walk shows the moved sessions and the new one on top
        assertThat(ids(store.listSessions(user, "3", null)))
                .containsExactly(movedBeforeShown, shownThenUpdated, newer);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void messagesPageFromTheNewestBackwardsOldestFirstWithinAPage(String db) {
        TestClock clock = new TestClock(START);
        ChatStore store = store(db, clock);
        String user = "u-" + UUID.randomUUID();
        String id = store.createSession(user, new NewSession("long", null)).id();
        for (int i = 1; i <= 205; i++) {
            store.saveUserMessage(user, id, UUID.randomUUID().toString(), "m" + i);
        }

        SessionDetail newest = store.getSession(user, id, null, null);
        assertThat(contents(newest)).containsExactlyElementsOf(range(6, 205));
        SessionDetail oldest = store.getSession(user, id, null, newest.nextCursor());
        assertThat(contents(oldest)).containsExactlyElementsOf(range(1, 5));
        assertThat(oldest.nextCursor()).isNull();
        assertThat(oldest.id()).isEqualTo(id);
        assertThat(oldest.title()).isEqualTo("long");

        SessionDetail a = store.getSession(user, id, "100", null);
        store.saveUserMessage(user, id, UUID.randomUUID().toString(), "m206");
        SessionDetail b = store.getSession(user, id, "100", a.nextCursor());
        SessionDetail c = store.getSession(user, id, "100", b.nextCursor());
        assertThat(contents(a)).containsExactlyElementsOf(range(106, 205));
        assertThat(contents(b)).containsExactlyElementsOf(range(6, 105));
        assertThat(contents(c)).containsExactlyElementsOf(range(1, 5));
        assertThat(c.nextCursor()).isNull();

        // a page that ends exactly at the first message has no next_cursor; an empty session has one empty page
        SessionDetail last = store.getSession(user, id, "6", store.getSession(user, id, "200", null).nextCursor());
        assertThat(contents(last)).containsExactlyElementsOf(range(1, 6));
        assertThat(last.nextCursor()).isNull();
        String empty = store.createSession(user, new NewSession("empty", null)).id();
        SessionDetail none = store.getSession(user, empty, "1", null);
        assertThat(none.messages()).isEmpty();
        assertThat(none.nextCursor()).isNull();

        // a cursor of one session's messages is not a position in another's
        assertInvalid(() -> store.getSession(user, empty, null, a.nextCursor()), "invalid_cursor");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void limitsOutside1To200AndCursorsNotGivenOutAre400s(String db) {
        TestClock clock = new TestClock(START);
        ChatStore store = store(db, clock);
        String user = "u-" + UUID.randomUUID();
        String id = store.createSession(user, new NewSession("x", null)).id();
        store.saveUserMessage(user, id, UUID.randomUUID().toString(), "hi");

        for (String bad : List.of("0", "201", "-1", "abc", "", " ", "1.5", "1e2", "99999999999", "0x10", "+5")) {
            assertInvalid(() -> store.listSessions(user, bad, null), "invalid_parameter", "limit");
            assertInvalid(() -> store.getSession(user, id, bad, null), "invalid_parameter", "messages_limit");
        }
        assertThat(store.listSessions(user, "1", null).sessions()).hasSize(1);
        assertThat(store.listSessions(user, "200", null).sessions()).hasSize(1);

        List<String> forged = List.of("", "!!!", "not base64 at all", b64("not json"), b64("{}"), b64("[]"),
                b64("[\"sessions\"]"), b64("[\"messages\",\"" + id + "\",5]"),
                b64("[\"sessions\",\"yesterday\",\"" + id + "\"]"),
                b64("[\"sessions\",\"2026-11-26T10:00:00Z\",\"x' OR '1'='1\"]"),
                b64("[\"sessions\",\"2026-11-26T10:00:00Z\",\"" + id + "\",\"extra\"]"),
                b64("[\"sessions\",12345,\"" + id + "\"]"),
                b64("[\"sessions\",null,\"" + id + "\"]"),
                "A".repeat(5000));
        for (String cursor : forged) {
            assertInvalid(() -> store.listSessions(user, null, cursor), "invalid_cursor", "cursor");
        }
        List<String> forgedMessages = List.of("", "%%%", b64("[\"messages\",\"" + id + "\",\"5\"]"),
                b64("[\"messages\",\"" + id + "\",5.5]"), b64("[\"messages\",\"" + id + "\",1e400]"),
                b64("[\"messages\",\"" + id + "\",99999999999999999999999]"),
                b64("[\"sessions\",\"2026-11-26T10:00:00Z\",\"" + id + "\"]"));
        for (String cursor : forgedMessages) {
            assertInvalid(() -> store.getSession(user, id, null, cursor), "invalid_cursor", "messages_cursor");
        }
        // a well-formed position is only a position: it shows the caller's own sessions from there on
        String farFuture = b64("[\"sessions\",\"2999-01-01T00:00:00Z\",\"ffffffff-ffff-7fff-bfff-ffffffffffff\"]");
        assertThat(ids(store.listSessions(user, null, farFuture))).containsExactly(id);
        assertThat(store.listSessions("someone-else", null, farFuture).sessions()).isEmpty();
    }

    /** Usage groups page by key; the total is the whole window's on every page, and later pages keep the window. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("databaseNames")
    void usageGroupsPageByKeyWithTheTotalOfTheWholeWindow(String db) {
        TestClock clock = new TestClock(START);
        ChatStore store = store(db, clock);
        UsageReports reports = new UsageReports(database(db).dataSource(), clock);
        String admin = "root-" + UUID.randomUUID();
        String user = "u-" + UUID.randomUUID();
        // 7 models, model-0 .. model-6, answered 1 .. 7 times, in an order that is not the keys' order
        for (int n : new int[] {3, 0, 6, 1, 5, 2, 4}) {
            for (int i = 0; i <= n; i++) {
                store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user, "a", "complete",
                        "demo", "model-" + n, "stop", null, 10, 1, false, new BigDecimal("0.5"), 1L, 2L, null));
            }
        }
        clock.advance(Duration.ofSeconds(1));

        UsageReports.Report p1 = reports.report(user, false, null, null, "model", null, "3", null);
        // an answer after the first page is outside its window: later pages and their total stay as they were
        store.saveAnswer(new AnswerRecord(null, UUID.randomUUID().toString(), user, "a", "complete", "demo",
                "model-5", "stop", null, 10, 1, false, null, 1L, 2L, null));
        clock.advance(Duration.ofSeconds(1));
        UsageReports.Report p2 = reports.report(user, false, null, null, null, null, "3", p1.nextCursor());
        UsageReports.Report p3 = reports.report(user, false, null, null, "model", null, "3", p2.nextCursor());

        assertThat(keys(p1)).containsExactly("model-0", "model-1", "model-2");
        assertThat(keys(p2)).containsExactly("model-3", "model-4", "model-5");
        assertThat(keys(p3)).containsExactly("model-6");
        assertThat(p3.nextCursor()).isNull();
        assertThat(p2.groups()).extracting(UsageReports.Totals::answers).containsExactly(4L, 5L, 6L);
        for (UsageReports.Report p : List.of(p1, p2, p3)) {
            assertThat(p.total().answers()).isEqualTo(28);
            assertThat(p.total().promptTokens()).isEqualTo(280);
            assertThat(p.total().costUsd()).isEqualByComparingTo("14");
            assertThat(p.from()).isEqualTo("2026-10-27T10:00:01Z");
            assertThat(p.to()).isEqualTo("2026-11-26T10:00:01Z");
            assertThat(p.groupBy()).isEqualTo("model");
        }
        // a fresh report counts the late answer
        UsageReports.Report all = reports.report(user, false, null, null, "model", null, "200", null);
        assertThat(all.total().answers()).isEqualTo(29);
        assertThat(all.nextCursor()).isNull();
        assertThat(keys(all)).hasSize(7);
        assertThat(reports.report(user, false, null, null, "model", null, "7", null).nextCursor()).isNull();

        // the cursor belongs to its report: another grouping, window or user is not a position in it
        assertInvalid(() -> reports.report(user, false, null, null, "provider", null, "3", p1.nextCursor()),
                "invalid_cursor", "cursor");
        assertInvalid(() -> reports.report(user, false, "2026-11-01", null, null, null, "3", p1.nextCursor()),
                "invalid_cursor", "cursor");
        assertInvalid(() -> reports.report(admin, true, null, null, null, admin, "3", p1.nextCursor()),
                "invalid_cursor", "cursor");
        assertInvalid(() -> reports.report(user, false, null, null, null, null, "3", b64("[\"usage\",1]")),
                "invalid_cursor", "cursor");
        assertInvalid(() -> reports.report(user, false, null, null, null, null, "0", null), "invalid_parameter",
                "limit");
        // an administrator continuing someone else's report gets the same page as with user= repeated
        UsageReports.Report adminP1 = reports.report(admin, true, null, null, "model", user, "3", null);
        assertThat(keys(reports.report(admin, true, null, null, null, null, "3", adminP1.nextCursor())))
                .containsExactly("model-3", "model-4", "model-5");
        // a user cannot continue it: the cursor names another user, which needs the admin role
        assertThatThrownBy(() -> reports.report("intruder", false, null, null, null, null, "3",
                adminP1.nextCursor())).isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.code()).isEqualTo("forbidden");
                });
    }

    private static void assertInvalid(Runnable call, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo(code);
        });
    }

    private static void assertInvalid(Runnable call, String code, String param) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.param()).isEqualTo(param);
            assertThat(e.getMessage()).startsWith(param + " ");
        });
    }

    private static String b64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> ids(SessionPage page) {
        return page.sessions().stream().map(SessionView::id).toList();
    }

    private static List<String> contents(SessionDetail session) {
        return session.messages().stream().map(MessageView::content).toList();
    }

    private static List<String> keys(UsageReports.Report report) {
        return report.groups().stream().map(UsageReports.Totals::key).toList();
    }

    private static List<String> newestFirst(List<String> created) {
        List<String> r = new ArrayList<>(created);
        java.util.Collections.reverse(r);
        return r;
    }

    private static List<String> range(int from, int to) {
        List<String> r = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            r.add("m" + i);
        }
        return r;
    }
}
