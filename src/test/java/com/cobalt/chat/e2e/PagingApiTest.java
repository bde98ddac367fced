package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bounded answers end to end: the session list, a session's messages and the usage groups come in pages of
 * {@code limit} (default 50, at most 200) with {@code next_cursor}, continued with {@code cursor=}. The gateway's
 * clock is a {@link TestClock} that moves only when a test says, so many sessions share one updated_at and the id
 * has to break the tie across page boundaries.
 */
class PagingApiTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    static final TestClock CLOCK = new TestClock(Instant.parse("2026-05-04T08:00:00Z"));

    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"), Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** 250 sessions, seven to a millisecond of the gateway's clock. */
    private static List<String> createSessions(String token, int count) {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (i % 7 == 0) {
                CLOCK.advance(Duration.ofMillis(1));
            }
            created.add(client.createSession(token, "{\"title\":\"s" + i + "\"}"));
        }
        Collections.reverse(created);
        return created;
    }

    @Test
    void allPagesOf250SessionsWithLimit100ShowEachExactlyOnceMostRecentlyUpdatedFirst() {
        String token = Jwt.token("walker-" + UUID.randomUUID());
        List<String> newestFirst = createSessions(token, 250);

        List<JsonNode> pages = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = ok(client.get(SESSIONS + "?limit=100" + (cursor == null ? "" : "&cursor=" + cursor),
                    token));
            pages.add(page);
            assertThat(fieldNames(page)).containsExactly("sessions", "next_cursor");
            page.get("sessions").forEach(s -> seen.add(s.get("id").asText()));
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
        } while (cursor != null && pages.size() < 10);

        assertThat(pages).extracting(p -> p.get("sessions").size()).containsExactly(100, 100, 50);
        assertThat(seen).containsExactlyElementsOf(newestFirst);
        assertThat(pages.get(0).get("next_cursor").asText()).matches("[A-Za-z0-9_-]+");
        assertThat(pages.get(2).get("next_cursor").isNull()).isTrue();
        JsonNode s = pages.get(1).get("sessions").get(0);
        assertThat(fieldNames(s)).containsExactly("id", "title", "created_at", "updated_at");
        assertThat(s.get("title").asText()).isEqualTo("s149");

        // without limit: the newest 50; limit=200 is the most a page holds
        JsonNode first = ok(client.get(SESSIONS, token));
        assertThat(ids(first)).containsExactlyElementsOf(newestFirst.subList(0, 50));
        JsonNode big = ok(client.get(SESSIONS + "?limit=200", token));
        assertThat(ids(big)).containsExactlyElementsOf(newestFirst.subList(0, 200));
        assertThat(ids(ok(client.get(SESSIONS + "?limit=200&cursor=" + big.get("next_cursor").asText(), token))))
                .containsExactlyElementsOf(newestFirst.subList(200, 250));
    }

    @Test
    void sessionsCreatedAndUpdatedBetweenPagesAreNotRepeatedAndPushNoneOut() {
        String token = Jwt.token("busy-" + UUID.randomUUID());
        List<String> newestFirst = createSessions(token, 250);

        JsonNode page1 = ok(client.get(SESSIONS + "?limit=100", token));
        assertThat(ids(page1)).containsExactlyElementsOf(newestFirst.subList(0, 100));

        // another client: five new sessions and a message into one the first page showed
        CLOCK.advance(Duration.ofMillis(1));
        List<String> inserted = createSessions(token, 5);
        String shown = newestFirst.get(42);
        CLOCK.advance(Duration.ofMillis(1));
        assertThat(client.chat(shown, token, "Hello again").status()).isEqualTo(200);
        awaitMessages(shown, token, 2);

        JsonNode page2 = ok(client.get(SESSIONS + "?limit=100&cursor=" + page1.get("next_cursor").asText(), token));
        JsonNode page3 = ok(client.get(SESSIONS + "?limit=100&cursor=" + page2.get("next_cursor").asText(), token));

        assertThat(ids(page2)).containsExactlyElementsOf(newestFirst.subList(100, 200));
        assertThat(ids(page3)).containsExactlyElementsOf(newestFirst.subList(200, 250));
        assertThat(page3.get("next_cursor").isNull()).isTrue();
        // a new walk starts with the updated session, then the new ones
        List<String> top = new ArrayList<>(List.of(shown));
        top.addAll(inserted);
        assertThat(ids(ok(client.get(SESSIONS + "?limit=6", token)))).containsExactlyElementsOf(top);
    }

    @Test
    void aSessionsMessagesPageBackwardsFromTheNewestOldestFirstWithinAPage() {
        String token = Jwt.token("reader-" + UUID.randomUUID());
        String session = client.createSession(token, "{\"title\":\"three turns\"}");
        for (int i = 1; i <= 3; i++) {
            assertThat(client.chat(session, token, "question " + i).status()).isEqualTo(200);
            awaitMessages(session, token, 2 * i);
        }

        JsonNode whole = ok(client.get(SESSIONS + "/" + session, token));
        assertThat(fieldNames(whole)).containsExactly("id", "title", "created_at", "updated_at", "messages",
                "next_cursor");
        assertThat(roles(whole)).containsExactly("user:question 1", "assistant", "user:question 2", "assistant",
                "user:question 3", "assistant");
        assertThat(whole.get("next_cursor").isNull()).isTrue();

        JsonNode newest = ok(client.get(SESSIONS + "/" + session + "?messages_limit=4", token));
        assertThat(roles(newest)).containsExactly("user:question 2", "assistant", "user:question 3", "assistant");
        assertThat(newest.get("title").asText()).isEqualTo("three turns");
        // a message sent meanwhile does not shift the older page
        assertThat(client.chat(session, token, "question 4").status()).isEqualTo(200);
        awaitMessages(session, token, 8);
        JsonNode older = ok(client.get(SESSIONS + "/" + session + "?messages_limit=4&messages_cursor="
                + newest.get("next_cursor").asText(), token));
        assertThat(roles(older)).containsExactly("user:question 1", "assistant");
        assertThat(older.get("next_cursor").isNull()).isTrue();
        assertThat(older.get("messages").get(1)).isEqualTo(whole.get("messages").get(1));

        // a cursor of this session's messages is no position in another session
        String other = client.createSession(token, "{}");
        assertError(client.get(SESSIONS + "/" + other + "?messages_cursor=" + newest.get("next_cursor").asText(),
                token), "invalid_cursor", "messages_cursor is not a cursor this list gave out; start again without it");
    }

    @Test
    void limitsOutside1To200AreInvalidParameterNamingTheParameter() {
        String token = Jwt.token("bounds-" + UUID.randomUUID());
        String session = client.createSession(token, "{}");

        for (String bad : List.of("0", "201", "-1", "abc", "", "1.5", "99999999999", "%20")) {
            assertError(client.get(SESSIONS + "?limit=" + bad, token), "invalid_parameter",
                    "limit must be a whole number from 1 to 200");
            assertError(client.get(SESSIONS + "/" + session + "?messages_limit=" + bad, token), "invalid_parameter",
                    "messages_limit must be a whole number from 1 to 200");
            assertError(client.get("/api/v1/usage?limit=" + bad, token), "invalid_parameter",
                    "limit must be a whole number from 1 to 200");
        }
        // the parameter given twice is not a number either
        assertError(client.get(SESSIONS + "?limit=1&limit=2", token), "invalid_parameter",
                "limit must be a whole number from 1 to 200");
        assertError(client.get(SESSIONS + "/" + session + "?messages_limit=1&messages_limit=2", token),
                "invalid_parameter", "messages_limit must be a whole number from 1 to 200");
        assertThat(ids(ok(client.get(SESSIONS + "?limit=1", token)))).containsExactly(session);
        assertThat(ids(ok(client.get(SESSIONS + "?limit=200", token)))).containsExactly(session);
    }

    @Test
    void forgedCursorsAreInvalidCursorNeverA500() {
        String token = Jwt.token("forger-" + UUID.randomUUID());
        String session = client.createSession(token, "{}");
        List<String> forged = List.of("", "x", "%27%20OR%201%3D1--", "AAAA", b64("not json"), b64("[]"),
                b64("[\"sessions\",\"2026-05-04T08:00:00Z\",\"x' OR '1'='1\"]"),
                b64("[\"sessions\",\"'; DROP TABLE chat_session; --\",\"" + session + "\"]"),
                b64("[\"usage\",\"provider\",null,\"2026-01-01T00:00:00Z\",\"2026-02-01T00:00:00Z\",\"a\"]"),
                b64("[\"messages\",\"" + session + "\",1]"), "A".repeat(4000));
        for (String cursor : forged) {
            assertError(client.get(SESSIONS + "?cursor=" + cursor, token), "invalid_cursor",
                    "cursor is not a cursor this list gave out; start again without it");
            assertError(client.get("/api/v1/usage?cursor=" + cursor, token),
                    "invalid_cursor", "cursor is not a cursor this list gave out; start again without it");
        }
        for (String cursor : List.of("", "!", b64("[\"messages\",\"" + session + "\",\"1\"]"),
                b64("[\"messages\",\"" + session + "\",1.5]"),
                b64("[\"sessions\",\"2026-05-04T08:00:00Z\",\"" + session + "\"]"))) {
            assertError(client.get(SESSIONS + "/" + session + "?messages_cursor=" + cursor, token),
                    "invalid_cursor", "messages_cursor is not a cursor this list gave out; start again without it");
        }
        // the sessions are untouched
        assertThat(ids(ok(client.get(SESSIONS, token)))).containsExactly(session);
    }

    @Test
    void usageGroupsPageByKeyAndEveryPageCarriesTheTotalOfTheWholeWindow() {
        String user = "spender-" + UUID.randomUUID();
        String token = Jwt.token(user);
        String session = client.createSession(token, "{}");
        CLOCK.advance(Duration.ofDays(1));
        List<String> days = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            days.add(CLOCK.instant().toString().substring(0, 10));
            assertThat(client.chat(session, token, "day " + i).status()).isEqualTo(200);
            awaitMessages(session, token, 2 * i);
            CLOCK.advance(Duration.ofDays(1));
        }

        JsonNode page1 = ok(client.get("/api/v1/usage?group_by=day&limit=2", token));
        assertThat(fieldNames(page1)).containsExactly("from", "to", "group_by", "user", "groups", "total",
                "next_cursor");
        // answers after the first page are outside its window: the later pages and their total stay the same
        assertThat(client.chat(session, token, "late").status()).isEqualTo(200);
        awaitMessages(session, token, 12);
        CLOCK.advance(Duration.ofMinutes(1));
        JsonNode page2 = ok(client.get("/api/v1/usage?group_by=day&limit=2&cursor="
                + page1.get("next_cursor").asText(), token));
        JsonNode page3 = ok(client.get("/api/v1/usage?limit=2&cursor=" + page2.get("next_cursor").asText(), token));

        assertThat(keys(page1)).containsExactlyElementsOf(days.subList(0, 2));
        assertThat(keys(page2)).containsExactlyElementsOf(days.subList(2, 4));
        assertThat(keys(page3)).containsExactlyElementsOf(days.subList(4, 5));
        assertThat(page3.get("next_cursor").isNull()).isTrue();
        for (JsonNode page : List.of(page1, page2, page3)) {
            assertThat(page.at("/total/answers").asInt()).isEqualTo(5);
            assertThat(page.get("from").asText()).isEqualTo(page1.get("from").asText());
            assertThat(page.get("to").asText()).isEqualTo(page1.get("to").asText());
            assertThat(page.get("group_by").asText()).isEqualTo("day");
            page.get("groups").forEach(g -> assertThat(g.get("answers").asInt()).isEqualTo(1));
        }
        assertThat(ok(client.get("/api/v1/usage?group_by=day", token)).at("/total/answers").asInt()).isEqualTo(6);

        // the cursor is a position in its own report only
        assertError(client.get("/api/v1/usage?group_by=provider&cursor=" + page1.get("next_cursor").asText(), token),
                "invalid_cursor", "cursor is not a cursor this list gave out; start again without it");
        assertError(client.get("/api/v1/usage?from=2026-01-01&cursor=" + page1.get("next_cursor").asText(), token),
                "invalid_cursor", "cursor is not a cursor this list gave out; start again without it");
    }

    static JsonNode ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return GatewayClient.json(r.body());
    }

    static void assertError(HttpResponse<String> r, String code, String message) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}");
    }

    static JsonNode awaitMessages(String session, String token, int count) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            JsonNode messages = client.session(session, token).get("messages");
            if (messages.size() >= count) {
                assertThat(messages).hasSize(count);
                return messages;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " messages, have " + messages);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    static String b64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.get("sessions").forEach(s -> ids.add(s.get("id").asText()));
        return ids;
    }

    static List<String> keys(JsonNode report) {
        List<String> keys = new ArrayList<>();
        report.get("groups").forEach(g -> keys.add(g.get("key").asText()));
        return keys;
    }

    static List<String> roles(JsonNode session) {
        List<String> out = new ArrayList<>();
        session.get("messages").forEach(m -> out.add(m.get("role").asText().equals("user")
                ? "user:" + m.get("content").asText() : m.get("role").asText()));
        return out;
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
