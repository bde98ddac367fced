package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A token's {@code sub} is the user id byte for byte: a subject that differs from "alice" only by quotes or spaces
 * is another user and never reaches alice's sessions or usage; the text {@code null} is just another user, never
 * "every user"; a subject that cannot be a user id is a 401 naming the check. (Before named bean inputs, Camel's
 * bean binding re-parsed the subject spliced into each method expression, which stripped one pair of quotes and
 * turned "null" into no filter at all.)
 */
class ExactIdentityTest {

    static RunningGateway gateway;
    static GatewayClient client;
    static String aliceSession;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
        aliceSession = client.createSession(Jwt.token("alice"), "{\"title\":\"alice's own\"}");
        assertThat(client.chat(aliceSession, Jwt.token("alice"), "Hello").status()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"alice\"", "'alice'", " alice", "alice ", "ALICE"})
    void aSubjectThatOnlyLooksLikeAliceIsAnotherUser(String sub) {
        String token = Jwt.token(sub);

        HttpResponse<String> list = client.get("/api/v1/chat/sessions", token);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(GatewayClient.json(list.body()).get("sessions")).isEmpty();
        HttpResponse<String> read = client.get("/api/v1/chat/sessions/" + aliceSession, token);
        assertThat(read.statusCode()).isEqualTo(404);
        assertThat(GatewayClient.json(read.body()).at("/error/code").asText()).isEqualTo("session_not_found");
        assertThat(client.chat(aliceSession, token, "mine now?").status()).isEqualTo(404);
        assertThat(client.send("DELETE", "/api/v1/chat/sessions/" + aliceSession, token, null, null).statusCode())
                .isEqualTo(404);
        JsonNode usage = GatewayClient.json(client.get("/api/v1/usage", token).body());
        assertThat(usage.path("total").path("answers").asLong()).isZero();

        assertThat(client.session(aliceSession, Jwt.token("alice")).get("title").asText()).isEqualTo("alice's own");
    }

    @Test
    void theSubjectNullIsOneUserAndSeesOnlyItsOwnUsage() {
        String token = Jwt.token("null");
        String own = client.createSession(token, "{\"title\":\"null's\"}");

        JsonNode sessions = GatewayClient.json(client.get("/api/v1/chat/sessions", token).body()).get("sessions");
        assertThat(sessions).hasSize(1);
        assertThat(sessions.get(0).get("id").asText()).isEqualTo(own);
        JsonNode usage = GatewayClient.json(client.get("/api/v1/usage", token).body());
        assertThat(usage.path("user").asText()).isEqualTo("null");
        assertThat(usage.path("total").path("answers").asLong()).isZero();
    }

    @Test
    void aSubjectThatCannotBeAUserIdIsRefusedNamingTheCheck() {
        assertRefused("", "The token has no subject");
        assertRefused("   ", "The token's subject is blank");
        assertRefused("a".repeat(256), "The token's subject is longer than 255 characters");
        assertRefused("ali\nce", "The token's subject contains control characters");
        assertRefused("alice\u0000", "The token's subject contains control characters");
        // a line or paragraph separator starts a new line in many log viewers, a bidirectional control reverses what
        // follows it on screen: both were accepted and logged as the user id (black-box probe, 2026-12-05)
        for (String sub : new String[] {"ali\u2028ce", "ali\u2029ce", "adm\u202Ein", "ali\u2066ce\u2069",
                "\u200Falice", "ali\u061Cce"}) {
            assertRefused(sub, "The token's subject contains control characters");
        }
        // other format characters are text: a zero-width joiner holds emoji together
        assertThat(client.get("/api/v1/chat/sessions", Jwt.token("\ud83d\udc69\u200d\ud83d\udcbb")).statusCode())
                .isEqualTo(200);
        // a lone surrogate, escaped in the token's JSON: logged as "inj4?", one with a real user "inj4?" (black-box probe)
        assertRefusedToken(Jwt.withPayloadJson("{\"sub\":\"inj4\\ud800\",\"exp\":"
                + (java.time.Instant.now().getEpochSecond() + 600) + "}"), "The token's subject is not valid Unicode text");
        assertThat(client.get("/api/v1/chat/sessions", Jwt.withPayloadJson("{\"sub\":\"inj4\",\"exp\":"
                + (java.time.Instant.now().getEpochSecond() + 600) + "}")).statusCode()).isEqualTo(200);

        assertThat(client.get("/api/v1/chat/sessions", Jwt.token("a".repeat(255))).statusCode()).isEqualTo(200);
    }

    /**
     * RFC 7519: sub is a string. Read as its text, the number 123 was the user "123" (and 1e2 the user "100.0"), so
     * two different tokens named one user: a subject that is not a JSON string is refused.
     */
    @Test
    void aSubjectThatIsNotAStringIsRefused() {
        String own = client.createSession(Jwt.token("123"), "{\"title\":\"the string 123's\"}");

        for (Object sub : new Object[] {123, true, 100.0}) {
            assertRefusedToken(Jwt.withSubjectValue(sub), "The token's subject is not a string");
        }
        JsonNode sessions = GatewayClient.json(client.get("/api/v1/chat/sessions", Jwt.withSubjectValue("123")).body())
                .get("sessions");
        assertThat(sessions).hasSize(1);
        assertThat(sessions.get(0).get("id").asText()).isEqualTo(own);
    }

    static void assertRefused(String sub, String message) {
        assertRefusedToken(Jwt.token(sub), message);
    }

    static void assertRefusedToken(String token, String message) {
        for (String path : new String[] {"/api/v1/chat/sessions", "/api/v1/usage", "/v1/models"}) {
            HttpResponse<String> r = client.get(path, token);
            assertThat(r.statusCode()).as(path + " " + message).isEqualTo(401);
            JsonNode body = GatewayClient.json(r.body());
            assertThat(body.at("/error/code").asText()).as(path).isEqualTo("invalid_token");
            assertThat(body.at("/error/message").asText()).as(path).isEqualTo(message);
        }
    }
}
