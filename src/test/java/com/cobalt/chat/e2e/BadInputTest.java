package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way a request can be wrong gets its exact status, {@code Content-Type: application/json}, its own error
 * code, and no internals; and a refused request stores nothing while losing nothing already stored.
 */
class BadInputTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    static final int MAX_LENGTH = 50;

    static RunningGateway gateway;
    static GatewayClient client;
    static String user;
    static String token;
    /** A session with one stored exchange; bad input sent to it must not lose anything. */
    static String used;
    static JsonNode usedBefore;

    /** A fresh session per test; bad input sent to it must store nothing. */
    String fresh;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo",
                "chat.max-message-length", String.valueOf(MAX_LENGTH),
                "http.max-body-bytes", "2048"));
        client = new GatewayClient(gateway);
        user = "alice-" + UUID.randomUUID();
        token = Jwt.token(user);
        newUsedSession();
    }

    static void newUsedSession() {
        used = client.createSession(token, "{\"title\":\"used\"}");
        GatewayClient.Answer answer = client.chat(used, token, "Keep this");
        assertThat(answer.status()).isEqualTo(200);
        usedBefore = awaitMessages(used, 2);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @BeforeEach
    void newSession() {
        fresh = client.createSession(token, "{\"title\":\"fresh\"}");
    }

    @AfterEach
    void nothingStoredNothingLost() {
        JsonNode freshAfter = client.session(fresh, token).get("messages");
        JsonNode usedAfter = client.session(used, token).get("messages");
        if (!usedAfter.equals(usedBefore)) {
            newUsedSession(); // a failing test must not fail the ones after it
        }
        assertThat(freshAfter).isEmpty();
        assertThat(usedAfter).isEqualTo(usedBefore);
    }

    // --- POST /sessions/{id}/messages ---

    @Test
    void malformedJsonIs400InvalidJson() {
        assertMessageRejected("application/json", "{\"content\": \"hi\"", 400, "invalid_json",
                "The body is not valid JSON");
        assertMessageRejected("application/json", "{content: hi}", 400, "invalid_json",
                "The body is not valid JSON");
    }

    @Test
    void jsonFollowedByTrailingGarbageIs400InvalidJson() {
        assertMessageRejected("application/json", "{\"content\":\"hi\"} trailing", 400, "invalid_json",
                "The body is not valid JSON");
    }

    @Test
    void jsonThatIsNotAnObjectIs400InvalidJson() {
        assertMessageRejected("application/json", "[{\"content\":\"hi\"}]", 400, "invalid_json",
                "The body must be a JSON object");
        assertMessageRejected("application/json", "\"hi\"", 400, "invalid_json", "The body must be a JSON object");
        assertMessageRejected("application/json", "42", 400, "invalid_json", "The body must be a JSON object");
        assertMessageRejected("application/json", "null", 400, "invalid_json", "The body must be a JSON object");
    }

    @Test
    void emptyBodyIs400InvalidJson() {
        assertMessageRejected("application/json", "", 400, "invalid_json",
                "The body is empty; a JSON object is required");
        assertMessageRejected("application/json", "  \n", 400, "invalid_json",
                "The body is empty; a JSON object is required");
    }

    @Test
    void missingOrNullContentIs400MissingContent() {
        assertMessageRejected("application/json", "{}", 400, "missing_content", "The body needs a \"content\" string");
        assertMessageRejected("application/json", "{\"text\":\"hi\"}", 400, "missing_content",
                "The body needs a \"content\" string");
        assertMessageRejected("application/json", "{\"content\":null}", 400, "missing_content",
                "The body needs a \"content\" string");
    }

    @Test
    void nonStringContentIs400InvalidContent() {
        assertMessageRejected("application/json", "{\"content\":5}", 400, "invalid_content",
                "\"content\" must be a string");
        assertMessageRejected("application/json", "{\"content\":[\"hi\"]}", 400, "invalid_content",
                "\"content\" must be a string");
        assertMessageRejected("application/json", "{\"content\":{\"text\":\"hi\"}}", 400, "invalid_content",
                "\"content\" must be a string");
        assertMessageRejected("application/json", "{\"content\":true}", 400, "invalid_content",
                "\"content\" must be a string");
    }

    /** PostgreSQL cannot store U+0000 in text (a 500 there, stored on H2): refused alike on every database. */
    @Test
    void aNulCharacterIs400OnEveryDatabase() {
        assertMessageRejected("application/json", "{\"content\":\"a\\u0000b\"}", 400, "invalid_content",
                "\"content\" contains the NUL character (U+0000), which cannot be stored");
        assertCreateRejected("application/json", "{\"title\":\"t\\u0000\"}", 400, "invalid_title",
                "\"title\" contains the NUL character (U+0000), which cannot be stored");
        assertCreateRejected("application/json", "{\"system_prompt\":\"\\u0000\"}", 400,
                "invalid_system_prompt",
                "\"system_prompt\" contains the NUL character (U+0000), which cannot be stored");
    }

    @Test
    void emptyOrWhitespaceContentIs400EmptyContent() {
        assertMessageRejected("application/json", "{\"content\":\"\"}", 400, "empty_content",
                "\"content\" must not be empty");
        assertMessageRejected("application/json", "{\"content\":\" \\t\\n \"}", 400, "empty_content",
                "\"content\" must not be empty");
    }

    @Test
    void contentOfMaxPlusOneCharactersIs413MessageTooLong() {
        assertMessageRejected("application/json", "{\"content\":\"" + "a".repeat(MAX_LENGTH + 1) + "\"}", 413,
                "message_too_long", "\"content\" is longer than 50 characters");
        // characters, not UTF-16 units: 51 emoji are too long
        assertMessageRejected("application/json", "{\"content\":\"" + "\uD83D\uDE00".repeat(MAX_LENGTH + 1) + "\"}",
                413, "message_too_long", "\"content\" is longer than 50 characters");
    }

    @Test
    void contentOfExactlyMaxCharactersIsAcceptedAndStored() {
        String exactly = "b".repeat(MAX_LENGTH);
        String emoji = "\uD83D\uDE00".repeat(MAX_LENGTH);
        String other = client.createSession(token, "{\"title\":\"accepted\"}");

        GatewayClient.Answer ascii = client.chat(other, token, exactly);
        assertThat(ascii.status()).as(ascii.body()).isEqualTo(200);
        assertThat(ascii.contentType()).isEqualTo("text/event-stream; charset=utf-8");
        assertThat(ascii.events()).endsWith("data: [DONE]");
        awaitMessages(other, 2);
        GatewayClient.Answer wide = client.chat(other, token, emoji);
        assertThat(wide.status()).as(wide.body()).isEqualTo(200);
        assertThat(wide.events()).endsWith("data: [DONE]");

        JsonNode messages = awaitMessages(other, 4);
        assertThat(messages.get(0).get("role").asText()).isEqualTo("user");
        assertThat(messages.get(0).get("content").asText()).isEqualTo(exactly);
        assertThat(messages.get(2).get("role").asText()).isEqualTo("user");
        assertThat(messages.get(2).get("content").asText()).isEqualTo(emoji);
    }

    @Test
    void wrongOrMissingContentTypeIs415UnsupportedMediaType() {
        assertMessageRejected("text/plain", "{\"content\":\"hi\"}", 415, "unsupported_media_type",
                "Content-Type must be application/json");
        assertMessageRejected(null, "{\"content\":\"hi\"}", 415, "unsupported_media_type",
                "Content-Type must be application/json");
        assertMessageRejected("application/x-www-form-urlencoded", "content=hi", 415, "unsupported_media_type",
                "Content-Type must be application/json");
    }

    /** Not a prefix match (helper audit, 2026-12-04), and the body is read as UTF-8 whatever the header says. */
    @Test
    void aTypeThatOnlyStartsLikeJsonOrAnotherCharsetIs415() {
        for (String type : new String[] {"application/jsonx", "application/json-patch+json",
                "application/json; charset=iso-8859-1", "application/json;charset=\"latin1\""}) {
            assertMessageRejected(type, "{\"content\":\"hi\"}", 415, "unsupported_media_type",
                    "Content-Type must be application/json");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json; charset=utf-8", "Application/JSON;Charset=\"UTF-8\"",
            "application/json ; charset=UTF8"})
    void jsonContentTypeWithCharsetIsAccepted(String type) {
        String other = client.createSession(token, "{\"title\":\"accepted\"}");

        HttpResponse<String> r = client.send("POST", messages(other), token, type, "{\"content\":\"charset\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        JsonNode stored = awaitMessages(other, 2);
        assertThat(stored.get(0).get("content").asText()).isEqualTo("charset");
    }

    @Test
    void bodyOverTheLimitIs413BodyTooLarge() {
        String body = "{\"content\":\"" + "c".repeat(10000 - 14) + "\"}";
        assertThat(body.length()).isEqualTo(10000);

        assertMessageRejected("application/json", body, 413, "body_too_large",
                "The request body is larger than the gateway accepts");
    }

    @Test
    void chunkedBodyOverTheLimitIs413BodyTooLarge() throws Exception {
        String body = "{\"content\":\"" + "c".repeat(10000 - 14) + "\"}";
        for (String session : new String[] {fresh, used}) {
            // no Content-Length: the limit must hold while the body streams in
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(gateway.baseUrl() + messages(session)))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.fromPublisher(
                            java.net.http.HttpRequest.BodyPublishers.ofString(body)))
                    .build();
            HttpResponse<String> r = java.net.http.HttpClient.newBuilder()
                    .version(java.net.http.HttpClient.Version.HTTP_1_1).build()
                    .send(request, HttpResponse.BodyHandlers.ofString());

            assertError(r, 413, "body_too_large", "The request body is larger than the gateway accepts");
        }
    }

    @Test
    void malformedOrUnknownSessionIdIs404SessionNotFound() {
        String unknown = UUID.randomUUID().toString();
        for (String id : new String[] {"not-a-uuid", unknown, "' OR '1'='1", fresh.toUpperCase().replace('-', '_')}) {
            String path = SESSIONS + "/" + encode(id);
            assertError(client.send("POST", path + "/messages", token, "application/json", "{\"content\":\"hi\"}"),
                    404, "session_not_found", "No such session");
            assertError(client.get(path, token), 404, "session_not_found", "No such session");
            assertError(client.send("DELETE", path, token, null, null), 404, "session_not_found", "No such session");
        }
    }

    // --- router-level failures ---

    @Test
    void unknownPathIs404NotFound() {
        assertError(client.get("/api/v1/nope", token), 404, "not_found", "No such resource");
        assertError(client.get("/nope", null), 404, "not_found", "No such resource"); // "/" is the web page
        assertError(client.send("POST", SESSIONS + "/" + fresh + "/messages/extra", token, "application/json",
                "{\"content\":\"hi\"}"), 404, "not_found", "No such resource");
    }

    @Test
    void everyAnswerCarriesARequestIdTheRoutersOwnErrorsToo() throws Exception {
        HttpResponse<String> notFound = client.get("/api/v1/nope", token);
        assertThat(notFound.headers().allValues("X-Request-Id")).hasSize(1);
        assertThat(UUID.fromString(notFound.headers().firstValue("X-Request-Id").orElseThrow()).version()).isEqualTo(4);

        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(gateway.baseUrl() + SESSIONS))
                .header("X-Request-Id", "caller-chose-this.1").PUT(java.net.http.HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<String> wrongMethod = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build()
                .send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().allValues("X-Request-Id")).containsExactly("caller-chose-this.1");

        HttpResponse<String> invalid = client.send("POST", SESSIONS + "/" + fresh + "/messages", token,
                "application/json", "{bad");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.headers().allValues("X-Request-Id")).hasSize(1);
    }

    @Test
    void wrongMethodIs405MethodNotAllowed() {
        assertError(client.send("PUT", SESSIONS, token, "application/json", "{\"title\":\"x\"}"), 405,
                "method_not_allowed", "Method not allowed on this resource");
        assertError(client.send("DELETE", SESSIONS, token, null, null), 405,
                "method_not_allowed", "Method not allowed on this resource");
        assertError(client.send("PATCH", SESSIONS + "/" + fresh, token, "application/json", "{\"title\":\"x\"}"), 405,
                "method_not_allowed", "Method not allowed on this resource");
        assertError(client.get(messages(fresh), token), 405,
                "method_not_allowed", "Method not allowed on this resource");
    }

    /**
     * RFC 9110 9.3.2: HEAD wherever GET is, the GET's status and headers without its body (black-box probe,
     * 2026-12-05: a 405, so a health checker sending HEAD saw a failing instance); not where there is no GET.
     */
    @Test
    void headAnswersAsGetWithoutABody() throws Exception {
        for (String path : new String[] {"/v1/models", SESSIONS, SESSIONS + "/" + fresh}) {
            HttpResponse<String> get = client.get(path, token);
            HttpResponse<String> head = client.send("HEAD", path, token, null, null);

            assertThat(head.statusCode()).as(path).isEqualTo(200);
            assertThat(head.body()).as(path).isEmpty();
            assertThat(head.headers().firstValue("Content-Type")).as(path).isEqualTo(get.headers().firstValue("Content-Type"));
            assertThat(get.body()).as(path).isNotEmpty();
        }
        HttpResponse<String> noSuchSession = client.send("HEAD", SESSIONS + "/" + UUID.randomUUID(), token, null, null);
        assertThat(noSuchSession.statusCode()).isEqualTo(404);
        assertThat(noSuchSession.body()).isEmpty();
        HttpResponse<String> postOnly = client.send("HEAD", "/v1/chat/completions", token, null, null);
        assertThat(postOnly.statusCode()).isEqualTo(405);
        assertThat(postOnly.headers().allValues("Allow")).containsExactly("POST");
    }

    /** RFC 9110: a 405 names the methods the resource has (helper audit, 2026-12-04: there was no Allow header). */
    @Test
    void a405SaysWhichMethodsTheResourceHas() {
        assertThat(client.send("PUT", SESSIONS, token, "application/json", "{}").headers().allValues("Allow"))
                .containsExactly("GET, HEAD, POST");
        assertThat(client.send("PATCH", SESSIONS + "/" + fresh, token, "application/json", "{}").headers()
                .allValues("Allow")).containsExactly("DELETE, GET, HEAD");
        assertThat(client.get(messages(fresh), token).headers().allValues("Allow")).containsExactly("POST");
        assertThat(client.get("/v1/chat/completions", token).headers().allValues("Allow")).containsExactly("POST");
        // routes matching on a prefix: a model id holding '/', the web page's assets (black-box probe: no Allow)
        assertThat(client.send("DELETE", "/v1/models/meta-llama/Llama-3.3-70B-Instruct", token, null, null).headers()
                .allValues("Allow")).containsExactly("GET, HEAD");
        assertThat(client.send("DELETE", "/v1/models/cobalt-demo", token, null, null).headers().allValues("Allow"))
                .containsExactly("GET, HEAD");
        assertThat(client.send("POST", "/assets/app.js", token, "application/json", "{}").headers().allValues("Allow"))
                .containsExactly("GET, HEAD");
    }

    /**
     * A path the router matches after normalising it (a doubled or a trailing slash) names its methods too, and under
     * /v1 its error is OpenAI's shape (black-box probe, 2026-12-05: no Allow, and //v1/models answered the session
     * API's error shape).
     */
    @Test
    void a405ForADoubledOrTrailingSlashSaysWhichMethodsTheResourceHas() {
        HttpResponse<String> doubled = client.send("DELETE", "//api/v1/chat/sessions", token, null, null);
        assertThat(doubled.statusCode()).isEqualTo(405);
        assertThat(doubled.headers().allValues("Allow")).containsExactly("GET, HEAD, POST");
        assertThat(client.send("DELETE", "/api/v1//chat/sessions/", token, null, null).headers().allValues("Allow"))
                .containsExactly("GET, HEAD, POST");
        HttpResponse<String> openAi = client.send("PUT", "//v1/models", token, "application/json", "{}");
        assertThat(openAi.statusCode()).isEqualTo(405);
        assertThat(openAi.headers().allValues("Allow")).containsExactly("GET, HEAD");
        assertThat(openAi.body()).isEqualTo("{\"error\":{\"message\":\"Method not allowed on this resource\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"method_not_allowed\"}}");
    }

    // --- POST /sessions ---

    @Test
    void createSessionWithInvalidJsonIs400InvalidJson() {
        assertCreateRejected("application/json", "{\"title\":", 400, "invalid_json", "The body is not valid JSON");
        assertCreateRejected("application/json", "[]", 400, "invalid_json", "The body must be a JSON object");
    }

    @Test
    void createSessionWithNonStringTitleIs400InvalidTitle() {
        assertCreateRejected("application/json", "{\"title\":5}", 400, "invalid_title", "\"title\" must be a string");
        assertCreateRejected("application/json", "{\"title\":[\"a\"]}", 400, "invalid_title",
                "\"title\" must be a string");
    }

    @Test
    void createSessionWithNonStringSystemPromptIs400InvalidSystemPrompt() {
        assertCreateRejected("application/json", "{\"system_prompt\":{}}", 400, "invalid_system_prompt",
                "\"system_prompt\" must be a string");
    }

    static final String TITLE_TOO_LONG = "\"title\" is longer than 200 UTF-16 code units (a character outside the"
            + " Basic Multilingual Plane, such as an emoji, is two)";

    @Test
    void createSessionWith201CharacterTitleIs400TitleTooLong() {
        assertCreateRejected("application/json", "{\"title\":\"" + "t".repeat(201) + "\"}", 400, "title_too_long",
                TITLE_TOO_LONG);
        // 101 emoji are 101 characters but 202 units: the message says what is counted (it said "200 characters")
        assertCreateRejected("application/json", "{\"title\":\"" + "\uD83D\uDE00".repeat(101) + "\"}", 400,
                "title_too_long", TITLE_TOO_LONG);

        String title = "t".repeat(200);
        HttpResponse<String> ok = client.send("POST", SESSIONS, token, "application/json",
                "{\"title\":\"" + title + "\"}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        String id = GatewayClient.json(ok.body()).get("id").asText();
        assertThat(client.session(id, token).get("title").asText()).isEqualTo(title);
    }

    @Test
    void createSessionWithOverlongSystemPromptIs413SystemPromptTooLong() {
        assertCreateRejected("application/json", "{\"system_prompt\":\"" + "s".repeat(MAX_LENGTH + 1) + "\"}", 413,
                "system_prompt_too_long", "\"system_prompt\" is longer than 50 characters");
    }

    @Test
    void createSessionWithWrongContentTypeIs415() {
        assertCreateRejected("text/plain", "{\"title\":\"x\"}", 415, "unsupported_media_type",
                "Content-Type must be application/json");
    }

    // --- helpers ---

    static String messages(String session) {
        return SESSIONS + "/" + session + "/messages";
    }

    void assertMessageRejected(String contentType, String body, int status, String code, String message) {
        assertError(client.send("POST", messages(fresh), token, contentType, body), status, code, message);
        assertError(client.send("POST", messages(used), token, contentType, body), status, code, message);
    }

    /** Refused, and no session was created for the caller beyond the ones the fixture made. */
    void assertCreateRejected(String contentType, String body, int status, String code, String message) {
        String before = client.get(SESSIONS, token).body();
        assertError(client.send("POST", SESSIONS, token, contentType, body), status, code, message);
        assertThat(client.get(SESSIONS, token).body()).isEqualTo(before);
    }

    static void assertError(HttpResponse<String> r, int status, String code, String message) {
        String request = r.request().method() + " " + r.request().uri().getPath();
        assertThat(r.statusCode()).as("%s: %s", request, r.body()).isEqualTo(status);
        assertThat(r.headers().allValues("Content-Type")).as(request).containsExactly("application/json");
        assertThat(r.body()).as(request).isEqualTo(errorJson(code, message));
        assertThat(r.body()).as(request).doesNotContain("Exception", "at com.", "org.apache", "\tat ");
    }

    static String errorJson(String code, String message) {
        return "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message.replace("\"", "\\\"") + "\"}}";
    }

    static String encode(String pathSegment) {
        return java.net.URLEncoder.encode(pathSegment, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static JsonNode awaitMessages(String session, int count) {
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
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
    }
}
