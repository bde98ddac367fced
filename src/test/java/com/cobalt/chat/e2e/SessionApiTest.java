package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The session endpoints end to end through the real routes with the demo provider: create, list, get, delete, and
 * the isolation between users (another user's session is indistinguishable from a missing one).
 */
class SessionApiTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    static final String DEMO_ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer "
            + "word by word through the same routes, circuit breaker and SSE relay a real provider uses. "
            + "Set LLM_PROVIDER to sambanova or azure to talk to a real model.";
    static final String SESSION_NOT_FOUND = "{\"error\":{\"code\":\"session_not_found\",\"message\":\"No such session\"}}";

    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** A user no other test uses, so that lists are exactly this test's sessions. */
    private static String newUser(String name) {
        return name + "-" + UUID.randomUUID();
    }

    @Test
    void createWithoutTitleAnswers201WithExactlyIdTitleAndCreatedAtAndDefaultTitle() {
        String token = Jwt.token(newUser("alice"));
        Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);

        HttpResponse<String> r = client.send("POST", SESSIONS, token, "application/json", "{}");

        Instant after = Instant.now();
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = GatewayClient.json(r.body());
        assertThat(fieldNames(body)).containsExactly("id", "title", "created_at");
        assertThat(body.get("id").asText()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(body.get("title").asText()).isEqualTo("New chat");
        Instant created = Instant.parse(body.get("created_at").asText());
        assertThat(created).isBetween(before, after);
    }

    @Test
    void createWithEmptyBodyOrBlankTitleUsesTheDefaultTitle() {
        String token = Jwt.token(newUser("alice"));

        HttpResponse<String> empty = client.send("POST", SESSIONS, token, null, null);
        HttpResponse<String> blank = client.send("POST", SESSIONS, token, "application/json", "{\"title\":\"   \"}");
        HttpResponse<String> nullTitle = client.send("POST", SESSIONS, token, "application/json", "{\"title\":null}");

        for (HttpResponse<String> r : List.of(empty, blank, nullTitle)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            JsonNode body = GatewayClient.json(r.body());
            assertThat(fieldNames(body)).containsExactly("id", "title", "created_at");
            assertThat(body.get("title").asText()).isEqualTo("New chat");
        }
    }

    @Test
    void createKeepsTitleAndSystemPrompt() {
        String token = Jwt.token(newUser("alice"));

        HttpResponse<String> r = client.send("POST", SESSIONS, token, "application/json",
                "{\"title\":\"Trip to Lisbon\",\"system_prompt\":\"You are a travel agent.\"}");

        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode created = GatewayClient.json(r.body());
        assertThat(fieldNames(created)).containsExactly("id", "title", "created_at");
        assertThat(created.get("title").asText()).isEqualTo("Trip to Lisbon");

        JsonNode session = client.session(created.get("id").asText(), token);
        assertThat(fieldNames(session)).containsExactly("id", "title", "system_prompt", "created_at", "updated_at",
                "messages", "next_cursor");
        assertThat(session.get("id").asText()).isEqualTo(created.get("id").asText());
        assertThat(session.get("title").asText()).isEqualTo("Trip to Lisbon");
        assertThat(session.get("system_prompt").asText()).isEqualTo("You are a travel agent.");
        assertThat(session.get("created_at").asText()).isEqualTo(created.get("created_at").asText());
        assertThat(session.get("updated_at").asText()).isEqualTo(created.get("created_at").asText());
        assertThat(session.get("messages")).isEmpty();
    }

    @Test
    void listShowsOnlyTheCallersSessionsNewestFirstByUpdatedAt() {
        String alice = Jwt.token(newUser("alice"));
        String bob = Jwt.token(newUser("bob"));
        String first = createDistinctInTime(alice, "{\"title\":\"first\"}");
        String second = createDistinctInTime(alice, "{\"title\":\"second\"}");
        String bobs = createDistinctInTime(bob, "{\"title\":\"bob's\"}");
        String third = createDistinctInTime(alice, "{\"title\":\"third\"}");

        HttpResponse<String> before = client.get(SESSIONS, alice);

        assertThat(before.statusCode()).isEqualTo(200);
        assertThat(before.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode list = GatewayClient.json(before.body());
        assertThat(fieldNames(list)).containsExactly("sessions", "next_cursor");
        assertThat(ids(list)).containsExactly(third, second, first);
        for (JsonNode s : list.get("sessions")) {
            assertThat(fieldNames(s)).containsExactly("id", "title", "created_at", "updated_at");
            assertThat(s.get("updated_at").asText()).isEqualTo(s.get("created_at").asText());
        }
        assertThat(list.get("sessions").get(0).get("title").asText()).isEqualTo("third");
        assertThat(list.get("sessions").get(1).get("title").asText()).isEqualTo("second");
        assertThat(list.get("sessions").get(2).get("title").asText()).isEqualTo("first");

        // a message moves the oldest session to the top: ordered by updated_at, not created_at
        GatewayClient.Answer answer = client.chat(first, alice, "Hi");
        assertThat(answer.status()).isEqualTo(200);
        JsonNode stored = awaitMessages(first, alice, 2);

        JsonNode after = GatewayClient.json(client.get(SESSIONS, alice).body());
        assertThat(ids(after)).containsExactly(first, third, second);
        JsonNode top = after.get("sessions").get(0);
        assertThat(top.get("updated_at").asText()).isEqualTo(stored.get(1).get("created_at").asText());
        assertThat(Instant.parse(top.get("updated_at").asText()))
                .isAfter(Instant.parse(top.get("created_at").asText()));

        assertThat(ids(GatewayClient.json(client.get(SESSIONS, bob).body()))).containsExactly(bobs);
        assertThat(ids(GatewayClient.json(client.get(SESSIONS, Jwt.token(newUser("carol"))).body()))).isEmpty();
    }

    @Test
    void getShowsTheSessionWithItsMessagesInOrderWithExactFields() {
        String token = Jwt.token(newUser("alice"));
        String session = client.createSession(token, "{\"title\":\"Two turns\"}");
        Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);

        GatewayClient.Answer one = client.chat(session, token, "First question");
        assertThat(one.status()).isEqualTo(200);
        awaitMessages(session, token, 2);
        GatewayClient.Answer two = client.chat(session, token, "Second question");
        assertThat(two.status()).isEqualTo(200);
        JsonNode messages = awaitMessages(session, token, 4);
        Instant after = Instant.now();

        assertThat(one.text()).isEqualTo(DEMO_ANSWER);
        assertThat(two.text()).isEqualTo(DEMO_ANSWER);
        HttpResponse<String> r = client.get(SESSIONS + "/" + session, token);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = GatewayClient.json(r.body());
        assertThat(fieldNames(body)).containsExactly("id", "title", "created_at", "updated_at", "messages",
                "next_cursor");
        assertThat(body.get("id").asText()).isEqualTo(session);
        assertThat(body.get("title").asText()).isEqualTo("Two turns");
        assertThat(body.get("messages")).isEqualTo(messages);

        String[][] expected = {
            {"user", "First question"}, {"assistant", DEMO_ANSWER},
            {"user", "Second question"}, {"assistant", DEMO_ANSWER},
        };
        List<String> messageIds = new ArrayList<>();
        Instant previous = before;
        for (int i = 0; i < expected.length; i++) {
            JsonNode m = messages.get(i);
            if (expected[i][0].equals("assistant")) {
                assertThat(fieldNames(m)).as("message %d", i)
                        .containsExactly("id", "exchange_id", "role", "content", "status", "model", "created_at",
                                "finish_reason");
                assertThat(m.get("finish_reason").asText()).as("message %d", i).isEqualTo("stop");
                assertThat(m.get("exchange_id")).as("message %d answers message %d", i, i - 1)
                        .isEqualTo(messages.get(i - 1).get("exchange_id"));
                assertThat(m.get("model").asText()).as("message %d", i).isEqualTo("cobalt-demo");
            } else {
                assertThat(fieldNames(m)).as("message %d", i)
                        .containsExactly("id", "exchange_id", "role", "content", "status", "created_at");
            }
            assertThat(m.get("role").asText()).as("message %d", i).isEqualTo(expected[i][0]);
            assertThat(m.get("content").asText()).as("message %d", i).isEqualTo(expected[i][1]);
            assertThat(m.get("status").asText()).as("message %d", i).isEqualTo("complete");
            Instant at = Instant.parse(m.get("created_at").asText());
            assertThat(at).as("message %d", i).isBetween(previous, after);
            previous = at;
            messageIds.add(m.get("id").asText());
        }
        assertThat(messages.get(0).get("exchange_id")).isNotEqualTo(messages.get(2).get("exchange_id"));
        assertThat(messageIds).doesNotHaveDuplicates()
                .allMatch(id -> id.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
        assertThat(body.get("updated_at").asText()).isEqualTo(messages.get(3).get("created_at").asText());
    }

    /**
     * Messages sent side by side into one session are stored as they arrive (questions, then answers): each answer
     * names its question by their shared exchange_id (helper audit, 2026-12-04: nothing paired them).
     */
    @Test
    void answersOfMessagesSentSideBySideArePairedWithTheirQuestions() {
        String token = Jwt.token(newUser("side-by-side"));
        String session = client.createSession(token, "{\"title\":\"parallel\"}");

        List<java.util.concurrent.CompletableFuture<GatewayClient.Answer>> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String question = "Question " + i;
            sent.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> client.chat(session, token, question)));
        }
        sent.forEach(f -> assertThat(f.join().status()).isEqualTo(200));
        JsonNode messages = awaitMessages(session, token, 6);

        java.util.Map<String, String> questionByExchange = new java.util.HashMap<>();
        List<String> answered = new ArrayList<>();
        for (JsonNode m : messages) {
            if (m.get("role").asText().equals("user")) {
                questionByExchange.put(m.get("exchange_id").asText(), m.get("content").asText());
            } else {
                answered.add(questionByExchange.get(m.get("exchange_id").asText()));
            }
        }
        assertThat(questionByExchange).hasSize(3);
        assertThat(answered).containsExactlyInAnyOrder("Question 0", "Question 1", "Question 2");
    }

    @Test
    void deleteAnswers204AndTheSessionIsGoneForGetPostListAndDelete() {
        String token = Jwt.token(newUser("alice"));
        String kept = client.createSession(token, "{\"title\":\"kept\"}");
        String session = client.createSession(token, "{\"title\":\"doomed\"}");
        assertThat(client.chat(session, token, "Hello").status()).isEqualTo(200);
        awaitMessages(session, token, 2);

        HttpResponse<String> deleted = client.send("DELETE", SESSIONS + "/" + session, token, null, null);

        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();

        assertError(client.get(SESSIONS + "/" + session, token), 404, SESSION_NOT_FOUND);
        GatewayClient.Answer post = client.chat(session, token, "Are you there?");
        assertThat(post.status()).isEqualTo(404);
        assertThat(post.contentType()).isEqualTo("application/json");
        assertThat(post.body()).isEqualTo(SESSION_NOT_FOUND);
        assertError(client.send("DELETE", SESSIONS + "/" + session, token, null, null), 404, SESSION_NOT_FOUND);
        assertThat(ids(GatewayClient.json(client.get(SESSIONS, token).body()))).containsExactly(kept);
    }

    @Test
    void anotherUserCannotReadDeleteOrWriteIntoASessionAndDoesNotSeeItListed() {
        String alice = Jwt.token(newUser("alice"));
        String bob = Jwt.token(newUser("bob"));
        String session = client.createSession(alice, "{\"title\":\"Alice's\",\"system_prompt\":\"Be brief.\"}");
        assertThat(client.chat(session, alice, "Alice's secret question").status()).isEqualTo(200);
        awaitMessages(session, alice, 2);
        HttpResponse<String> aliceBefore = client.get(SESSIONS + "/" + session, alice);
        assertThat(aliceBefore.statusCode()).isEqualTo(200);

        assertError(client.get(SESSIONS + "/" + session, bob), 404, SESSION_NOT_FOUND);
        assertError(client.send("DELETE", SESSIONS + "/" + session, bob, null, null), 404, SESSION_NOT_FOUND);
        GatewayClient.Answer post = client.chat(session, bob, "Bob writes into Alice's session");
        assertThat(post.status()).isEqualTo(404);
        assertThat(post.contentType()).isEqualTo("application/json");
        assertThat(post.body()).isEqualTo(SESSION_NOT_FOUND);
        HttpResponse<String> bobsList = client.get(SESSIONS, bob);
        assertThat(bobsList.statusCode()).isEqualTo(200);
        assertThat(bobsList.body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");

        // Alice's session, its messages and its updated_at are exactly as before Bob's attempts
        HttpResponse<String> aliceAfter = client.get(SESSIONS + "/" + session, alice);
        assertThat(aliceAfter.statusCode()).isEqualTo(200);
        assertThat(GatewayClient.json(aliceAfter.body())).isEqualTo(GatewayClient.json(aliceBefore.body()));
        JsonNode messages = GatewayClient.json(aliceAfter.body()).get("messages");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("content").asText()).isEqualTo("Alice's secret question");
        assertThat(ids(GatewayClient.json(client.get(SESSIONS, alice).body()))).containsExactly(session);
    }

    @Test
    void theSameSubjectWithAFreshTokenIsTheSameUser() {
        String user = newUser("alice");
        String session = client.createSession(Jwt.token(user), "{\"title\":\"mine\"}");

        JsonNode read = client.session(session, Jwt.token(user));

        assertThat(read.get("title").asText()).isEqualTo("mine");
    }

    // --- helpers ---

    /** Creates a session, then waits until the clock has moved past its created_at, so timestamps never tie. */
    private static String createDistinctInTime(String token, String body) {
        HttpResponse<String> r = client.send("POST", SESSIONS, token, "application/json", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode created = GatewayClient.json(r.body());
        Instant at = Instant.parse(created.get("created_at").asText());
        long deadline = System.nanoTime() + 1_000_000_000L;
        while (!Instant.now().truncatedTo(ChronoUnit.MILLIS).isAfter(at)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("clock did not pass " + at);
            }
            LockSupport.parkNanos(100_000);
        }
        return created.get("id").asText();
    }

    /**
     * The session's messages once {@code count} are stored. The answer is stored by chat-record after the relay
     * ended the response, so the client can see the stream end a moment before the row exists.
     */
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

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        for (JsonNode s : list.get("sessions")) {
            ids.add(s.get("id").asText());
        }
        return ids;
    }

    static void assertError(HttpResponse<String> r, int status, String body) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo(body);
    }
}
