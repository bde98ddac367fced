package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who is calling: an HS256 JWT with sub and exp, sent as {@code Authorization: Bearer}; every way a token can be
 * wrong is a 401 with its code, a message naming the check that failed and {@code WWW-Authenticate: Bearer}, and
 * never echoes the token (JwksAuthTest covers RS256/ES256 tokens from an identity provider). With
 * CHAT_AUTH_DISABLED=true every caller is the single user {@code local}.
 */
class AuthTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    static final String MISSING_TOKEN =
            "{\"error\":{\"code\":\"missing_token\",\"message\":\"Authorization: Bearer <JWT> is required\"}}";
    static final String BAD_SIGNATURE = invalidToken("The token's signature is not valid");
    static final String NO_EXPIRY = invalidToken("The token has no expiry time");
    static final String NO_SUBJECT = invalidToken("The token has no subject");
    static final String ALGORITHM_NOT_ACCEPTED = invalidToken("The token's algorithm is not accepted");
    static final String MALFORMED = invalidToken("The token is not a well-formed JWT");
    static final String NOT_BEARER =
            "{\"error\":{\"code\":\"invalid_token\",\"message\":\"Authorization must use the Bearer scheme\"}}";
    static final String TOKEN_EXPIRED = "{\"error\":{\"code\":\"token_expired\",\"message\":\"The token has expired\"}}";

    static RunningGateway gateway;
    static RunningGateway openGateway;
    static GatewayClient client;
    static GatewayClient openClient;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /** A real session of a real user: the requests below would reach it if auth let them through. */
    static String aliceSession;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
        openGateway = RunningGateway.start(Map.of("llm.provider", "demo", "chat.auth.disabled", "true",
                "chat.jwt.secret", ""));
        openClient = new GatewayClient(openGateway);
        aliceSession = client.createSession(Jwt.token("alice"), "{\"title\":\"Alice's\"}");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (openGateway != null) {
            openGateway.close();
        }
    }

    @Test
    void noAuthorizationHeaderIs401MissingTokenWithBearerChallengeOnEveryEndpoint() {
        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, null);

            assertUnauthorized(r, call, MISSING_TOKEN);
        }
        assertNothingChangedForAlice();
    }

    /**
     * A token belongs in the Authorization header, never in the URL (proxy and access logs, browser history,
     * Referer). Camel hands query parameters to the routes as headers, so {@code ?Authorization=Bearer <JWT>}
     * authenticated the caller as the token's subject, and beside a real header it was joined to it and refused as
     * "must use the Bearer scheme" (black-box probe, 2026-12-05).
     */
    @Test
    void aTokenInTheQueryStringIsNotACredential() {
        String alice = java.net.URLEncoder.encode("Bearer " + Jwt.token("alice"), StandardCharsets.UTF_8);
        for (String name : new String[] {"Authorization", "authorization", "AUTHORIZATION"}) {
            for (Call call : calls()) {
                String separator = call.path().contains("?") ? "&" : "?";
                Call inUrl = new Call(call.method(), call.path() + separator + name + "=" + alice, call.body());
                HttpResponse<String> r = send(gateway, inUrl, null);

                assertUnauthorized(r, inUrl, MISSING_TOKEN);
            }
        }
        assertNothingChangedForAlice();

        // beside a real header the header is the credential: Bob sees his own (no) sessions, not Alice's
        HttpResponse<String> bob = client.get(SESSIONS + "?Authorization=" + alice, Jwt.token("bob-query"));
        assertThat(bob.statusCode()).isEqualTo(200);
        assertThat(GatewayClient.json(bob.body()).get("sessions")).isEmpty();
    }

    @Test
    void blankAuthorizationHeaderIs401MissingToken() {
        HttpResponse<String> r = send(gateway, calls().get(0), " ");

        assertUnauthorized(r, calls().get(0), MISSING_TOKEN);
    }

    @Test
    void basicAuthorizationIs401InvalidTokenAndDoesNotEchoTheCredentials() {
        String credentials = Base64.getEncoder().encodeToString("alice:hunter2-DISTINCTIVE".getBytes(StandardCharsets.UTF_8));
        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Basic " + credentials);

            assertUnauthorized(r, call, NOT_BEARER);
            assertThat(r.body()).doesNotContain(credentials).doesNotContain("hunter2");
        }
        assertNothingChangedForAlice();
    }

    @Test
    void tokenSignedWithAnotherSecretIs401InvalidToken() {
        String forged = Jwt.signedWith("another-secret-that-is-also-long-enough-0123456789", "alice");

        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Bearer " + forged);

            assertUnauthorized(r, call, BAD_SIGNATURE);
            assertNoTokenText(r, forged);
        }
        assertNothingChangedForAlice();
    }

    @Test
    void expiredTokenIs401TokenExpired() {
        String expired = Jwt.expired("alice");

        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Bearer " + expired);

            assertUnauthorized(r, call, TOKEN_EXPIRED);
            assertNoTokenText(r, expired);
        }
        assertNothingChangedForAlice();
    }

    @Test
    void tokenWithoutExpiryIs401InvalidToken() {
        String forever = Jwt.withoutExpiry("alice");

        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Bearer " + forever);

            assertUnauthorized(r, call, NO_EXPIRY);
            assertNoTokenText(r, forever);
        }
        assertNothingChangedForAlice();
    }

    @Test
    void tokenWithoutSubjectIs401InvalidToken() {
        String anonymous = JWT.create().withExpiresAt(Instant.now().plusSeconds(600))
                .sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));

        HttpResponse<String> r = send(gateway, calls().get(0), "Bearer " + anonymous);

        assertUnauthorized(r, calls().get(0), NO_SUBJECT);
        assertNoTokenText(r, anonymous);
    }

    @Test
    void unsignedAlgNoneTokenIs401InvalidToken() {
        String unsigned = JWT.create().withSubject("alice").withExpiresAt(Instant.now().plusSeconds(600))
                .sign(Algorithm.none());

        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Bearer " + unsigned);

            assertUnauthorized(r, call, ALGORITHM_NOT_ACCEPTED);
            assertNoTokenText(r, unsigned);
        }
        assertNothingChangedForAlice();
    }

    @Test
    void garbageTokenIs401InvalidTokenAndIsNotEchoed() {
        String garbage = "not.a-jwt.GARBAGE-TOKEN-7f3a";

        for (Call call : calls()) {
            HttpResponse<String> r = send(gateway, call, "Bearer " + garbage);

            assertUnauthorized(r, call, MALFORMED);
            assertNoTokenText(r, garbage);
        }
        // "Bearer" with no token at all (the header value arrives trimmed)
        HttpResponse<String> bare = send(gateway, calls().get(0), "Bearer ");
        assertThat(bare.statusCode()).isEqualTo(401);
        assertThat(bare.headers().allValues("WWW-Authenticate")).containsExactly("Bearer");
        assertThat(bare.body()).isEqualTo(
                "{\"error\":{\"code\":\"invalid_token\",\"message\":\"The Bearer token is empty\"}}");
        assertNothingChangedForAlice();
    }

    @Test
    void theBearerSchemeIsCaseInsensitive() {
        HttpResponse<String> r = send(gateway, new Call("GET", SESSIONS + "/" + aliceSession, null), "bearer "
                + Jwt.token("alice"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).get("title").asText()).isEqualTo("Alice's");
    }

    @Test
    void aValidTokenIsAccepted() {
        HttpResponse<String> r = client.get(SESSIONS, Jwt.token("alice"));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(SessionApiTest.ids(GatewayClient.json(r.body()))).containsExactly(aliceSession);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
    }

    @Test
    void withAuthDisabledEveryCallerIsLocalWithOrWithoutAnyToken() {
        HttpResponse<String> created = openClient.send("POST", SESSIONS, null, "application/json",
                "{\"title\":\"no token\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String session = GatewayClient.json(created.body()).get("id").asText();

        HttpResponse<String> listNoToken = openClient.get(SESSIONS, null);
        HttpResponse<String> listOtherUser = openClient.get(SESSIONS, Jwt.token("bob"));
        HttpResponse<String> listGarbage = openClient.get(SESSIONS, "garbage");
        HttpResponse<String> listExpired = openClient.get(SESSIONS, Jwt.expired("carol"));

        for (HttpResponse<String> r : List.of(listNoToken, listOtherUser, listGarbage, listExpired)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(SessionApiTest.ids(GatewayClient.json(r.body()))).containsExactly(session);
        }
        HttpResponse<String> read = openClient.get(SESSIONS + "/" + session, Jwt.signedWith(
                "some-other-secret-entirely-0123456789abcdef", "dave"));
        assertThat(read.statusCode()).isEqualTo(200);
        JsonNode body = GatewayClient.json(read.body());
        assertThat(body.get("title").asText()).isEqualTo("no token");

        GatewayClient.Answer answer = openClient.chat(session, "garbage", "Hi");
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.events()).endsWith("data: [DONE]");

        HttpResponse<String> deleted = openClient.send("DELETE", SESSIONS + "/" + session, Jwt.token("erin"), null, null);
        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(openClient.get(SESSIONS, null).body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
    }

    // --- helpers ---

    /** The exact body of a 401 invalid_token refusal with this message. */
    static String invalidToken(String message) {
        return "{\"error\":{\"code\":\"invalid_token\",\"message\":\"" + message + "\"}}";
    }

    record Call(String method, String path, String body) {
    }

    /** Every endpoint of the chat API, aimed at a real session so that only auth can stop them. */
    static List<Call> calls() {
        return List.of(
                new Call("GET", SESSIONS, null),
                new Call("POST", SESSIONS, "{\"title\":\"sneaky\"}"),
                new Call("GET", SESSIONS + "/" + aliceSession, null),
                new Call("DELETE", SESSIONS + "/" + aliceSession, null),
                new Call("POST", SESSIONS + "/" + aliceSession + "/messages", "{\"content\":\"sneaky\"}"));
    }

    static HttpResponse<String> send(RunningGateway target, Call call, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.baseUrl() + call.path()))
                .timeout(Duration.ofSeconds(30));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (call.body() != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(call.method(), call.body() == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(call.body()));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertUnauthorized(HttpResponse<String> r, Call call, String body) {
        assertThat(r.statusCode()).as("%s %s: %s", call.method(), call.path(), r.body()).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type")).as("%s %s", call.method(), call.path())
                .hasValue("application/json");
        assertThat(r.headers().allValues("WWW-Authenticate")).as("%s %s", call.method(), call.path())
                .containsExactly("Bearer");
        assertThat(r.body()).as("%s %s", call.method(), call.path()).isEqualTo(body);
    }

    static void assertNoTokenText(HttpResponse<String> r, String token) {
        assertThat(r.body()).doesNotContain(token);
        for (String part : token.split("\\.")) {
            if (part.length() >= 4) {
                assertThat(r.body()).doesNotContain(part);
            }
        }
        r.headers().map().forEach((name, values) -> assertThat(values.toString()).as(name).doesNotContain(token));
    }

    /** The refused requests changed nothing: Alice still has exactly her one session, with no messages. */
    static void assertNothingChangedForAlice() {
        String alice = Jwt.token("alice");
        assertThat(SessionApiTest.ids(GatewayClient.json(client.get(SESSIONS, alice).body())))
                .containsExactly(aliceSession);
        JsonNode session = client.session(aliceSession, alice);
        assertThat(session.get("title").asText()).isEqualTo("Alice's");
        assertThat(session.get("messages")).isEmpty();
    }
}
