package com.cobalt.chat.e2e;

import static com.cobalt.chat.e2e.AuthTest.assertNoTokenText;
import static com.cobalt.chat.e2e.AuthTest.invalidToken;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.http.Authenticator;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.JwksServer;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.JwksServer.SigningKey;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tokens from an identity provider: RS256 and ES256, verified with the keys of its JWKS (served here over real HTTP
 * on loopback), with CHAT_JWT_ISSUER and CHAT_JWT_AUDIENCE checked on every token, HS256 still accepted beside them,
 * and every verifier pinned to its algorithm. Each refusal is a 401 with the exact body naming the failed check.
 * JwksRefreshTest covers key rotation, the refresh limit and an unreachable JWKS.
 */
class JwksAuthTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    static final String ISSUER = "https://idp.cobalt.test/";
    static final String AUDIENCE = "cobalt-chat";

    static final String EXPIRED = "{\"error\":{\"code\":\"token_expired\",\"message\":\"The token has expired\"}}";
    static final String WRONG_ISSUER = invalidToken("The token's issuer is not accepted");
    static final String NO_ISSUER = invalidToken("The token has no issuer");
    static final String WRONG_AUDIENCE = invalidToken("The token's audience is not accepted");
    static final String NO_AUDIENCE = invalidToken("The token has no audience");
    static final String UNKNOWN_KEY = invalidToken("The token's signing key is not known");
    static final String BAD_SIGNATURE = invalidToken("The token's signature is not valid");
    static final String ALGORITHM_NOT_ACCEPTED = invalidToken("The token's algorithm is not accepted");
    static final String KEY_MISMATCH = invalidToken("The token's algorithm does not match its signing key");
    static final String UNUSABLE_KEY = invalidToken("The token's signing key cannot be used");

    static SigningKey rsa;
    static SigningKey ec;
    static JwksServer idp;
    /** HS256 secret and the JWKS, with issuer and audience required. */
    static RunningGateway gateway;
    static GatewayClient client;
    /** Only the JWKS: no secret, no issuer or audience check. */
    static RunningGateway jwksOnly;
    static GatewayClient jwksOnlyClient;

    @BeforeAll
    static void start() {
        rsa = JwksServer.rsaKey("rsa-1");
        ec = JwksServer.ecKey("ec-1");
        idp = JwksServer.publishing(rsa, ec);
        // an Ed25519 key without "alg", as an identity provider may publish beside its RS256 keys: not usable here
        idp.publish(Map.of("kty", "OKP", "crv", "Ed25519", "kid", "ed-1", "use", "sig",
                "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "chat.jwt.jwks-url", idp.url(),
                "chat.jwt.issuer", ISSUER, "chat.jwt.audience", AUDIENCE));
        client = new GatewayClient(gateway);
        jwksOnly = RunningGateway.start(Map.of("llm.provider", "demo", "chat.jwt.secret", "",
                "chat.jwt.jwks-url", idp.url()));
        jwksOnlyClient = new GatewayClient(jwksOnly);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {gateway, jwksOnly, idp}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    // --- accepted ---

    @Test
    void rs256TokenChatsThroughTheDemoProviderAndTheSessionBelongsToItsSubject() {
        assertChatsAsItsSubject(rsa, "idp-user-rs");
    }

    @Test
    void es256TokenChatsThroughTheDemoProviderAndTheSessionBelongsToItsSubject() {
        assertChatsAsItsSubject(ec, "idp-user-es");
    }

    @Test
    void hs256TokensStillWorkBesideTheJwksAndCarryTheSameUserIds() {
        String idpToken = rsa.sign(JwksServer.claims("shared-user", ISSUER, AUDIENCE));
        String session = client.createSession(idpToken, "{\"title\":\"from the IdP\"}");

        String hs256 = hs256(JwksServer.claims("shared-user", ISSUER, AUDIENCE));
        HttpResponse<String> list = client.get(SESSIONS, hs256);

        assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
        assertThat(SessionApiTest.ids(GatewayClient.json(list.body()))).containsExactly(session);
        GatewayClient.Answer answer = client.chat(session, hs256, "Hello from HS256");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.events()).endsWith("data: [DONE]");
    }

    @Test
    void anAudienceListThatContainsOursIsAccepted() {
        String token = rsa.sign(JWT.create().withSubject("multi-aud").withIssuer(ISSUER)
                .withAudience("another-app", AUDIENCE).withExpiresAt(Instant.now().plusSeconds(600)));

        HttpResponse<String> r = client.get(SESSIONS, token);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
    }

    @Test
    void withoutIssuerAndAudienceSettingsTokensWithoutThemAreAccepted() {
        String token = ec.sign(JwksServer.claims("plain-user", null, null));

        HttpResponse<String> r = jwksOnlyClient.get(SESSIONS, token);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
    }

    // --- refused ---

    @Test
    void expiredTokensAre401TokenExpired() {
        for (SigningKey key : List.of(rsa, ec)) {
            String token = key.sign(JWT.create().withSubject("late").withIssuer(ISSUER).withAudience(AUDIENCE)
                    .withExpiresAt(Instant.now().minusSeconds(600)));

            assertRefused(client, token, EXPIRED);
        }
    }

    @Test
    void aTokenNotValidYetIs401NamingThatCheck() {
        String early = rsa.sign(JwksServer.claims("alice", ISSUER, AUDIENCE)
                .withNotBefore(Instant.now().plusSeconds(300)));

        assertRefused(client, early, invalidToken("The token is not valid yet"));
    }

    @Test
    void aWrongOrMissingIssuerIs401NamingTheIssuerCheck() {
        assertRefused(client, rsa.sign(JwksServer.claims("alice", "https://evil.test/", AUDIENCE)), WRONG_ISSUER);
        assertRefused(client, ec.sign(JwksServer.claims("alice", "https://evil.test/", AUDIENCE)), WRONG_ISSUER);
        assertRefused(client, rsa.sign(JwksServer.claims("alice", null, AUDIENCE)), NO_ISSUER);
        // the issuer applies to HS256 tokens too
        assertRefused(client, hs256(JwksServer.claims("alice", "https://evil.test/", AUDIENCE)), WRONG_ISSUER);
    }

    @Test
    void aWrongOrMissingAudienceIs401NamingTheAudienceCheck() {
        assertRefused(client, rsa.sign(JwksServer.claims("alice", ISSUER, "another-app")), WRONG_AUDIENCE);
        assertRefused(client, ec.sign(JwksServer.claims("alice", ISSUER, "another-app")), WRONG_AUDIENCE);
        assertRefused(client, rsa.sign(JwksServer.claims("alice", ISSUER, null)), NO_AUDIENCE);
        assertRefused(client, hs256(JwksServer.claims("alice", ISSUER, "another-app")), WRONG_AUDIENCE);
    }

    @Test
    void aKidThatIsNotInTheJwksIs401UnknownKey() {
        SigningKey stranger = JwksServer.rsaKey("not-published");

        assertRefused(client, stranger.sign(JwksServer.claims("alice", ISSUER, AUDIENCE)), UNKNOWN_KEY);
    }

    @Test
    void aTamperedPayloadOrAForeignKeyUnderAPublishedKidIs401BadSignature() {
        for (SigningKey key : List.of(rsa, ec)) {
            String genuine = key.sign(JwksServer.claims("alice", ISSUER, AUDIENCE));
            String[] parts = genuine.split("\\.");
            String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                    .replace("\"alice\"", "\"admin\"");
            String tampered = parts[0] + "." + b64(payload) + "." + parts[2];

            assertRefused(client, tampered, BAD_SIGNATURE);
        }
        // signed by another key that claims the published kid
        SigningKey impostor = new SigningKey("rsa-1", "RS256", JwksServer.rsaKey("x").pair());
        assertRefused(client, impostor.sign(JwksServer.claims("alice", ISSUER, AUDIENCE)), BAD_SIGNATURE);
        SigningKey ecImpostor = new SigningKey("ec-1", "ES256", JwksServer.ecKey("x").pair());
        assertRefused(client, ecImpostor.sign(JwksServer.claims("alice", ISSUER, AUDIENCE)), BAD_SIGNATURE);
    }

    @Test
    void anHs256TokenSignedWithThePublishedRsaKeyIsRefused() {
        // the classic confusion: the RSA public key's bytes (as DER and as PEM) used as the HMAC secret
        byte[] der = rsa.pair().getPublic().getEncoded();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END PUBLIC KEY-----\n";
        for (byte[] secret : List.of(der, pem.getBytes(StandardCharsets.US_ASCII))) {
            String confused = JwksServer.claims("alice", ISSUER, AUDIENCE).withKeyId("rsa-1")
                    .sign(Algorithm.HMAC256(secret));

            // with a secret configured, HS256 meets the secret, never the RSA key
            assertRefused(client, confused, BAD_SIGNATURE);
            // without one, HS256 has no verifier at all
            assertRefused(jwksOnlyClient, confused, ALGORITHM_NOT_ACCEPTED);
        }
    }

    @Test
    void aTokenWhoseAlgDoesNotFitItsKeyIsRefused() {
        // an ES256 header naming the RSA key, an RS256 header naming the EC key
        String esOnRsaKid = rsaKidWithEcSignature();
        assertRefused(client, esOnRsaKid, KEY_MISMATCH);
        String rsOnEcKid = JwksServer.claims("alice", ISSUER, AUDIENCE).withKeyId("ec-1").sign(rsa.algorithm());
        assertRefused(client, rsOnEcKid, KEY_MISMATCH);
        // algorithms without a verifier, even when signed by a published key
        String rs384 = JwksServer.claims("alice", ISSUER, AUDIENCE).withKeyId("rsa-1")
                .sign(Algorithm.RSA384(null, (java.security.interfaces.RSAPrivateKey) rsa.pair().getPrivate()));
        assertRefused(client, rs384, ALGORITHM_NOT_ACCEPTED);
        String hs512 = JwksServer.claims("alice", ISSUER, AUDIENCE)
                .sign(Algorithm.HMAC512(RunningGateway.JWT_SECRET));
        assertRefused(client, hs512, ALGORITHM_NOT_ACCEPTED);
    }

    @Test
    void algNoneIsRefusedWhateverIsConfigured() {
        String unsigned = JwksServer.claims("alice", ISSUER, AUDIENCE).withKeyId("rsa-1").sign(Algorithm.none());
        // the same claims with a lowercase/uppercase alg spelled by hand, and with a signature left on
        String header = b64("{\"alg\":\"None\",\"typ\":\"JWT\",\"kid\":\"rsa-1\"}");
        String payload = unsigned.split("\\.")[1];
        String noneWithSignature = header + "." + payload + "." + rsa.sign(JwksServer.claims("alice", ISSUER,
                AUDIENCE)).split("\\.")[2];

        for (GatewayClient c : List.of(client, jwksOnlyClient)) {
            assertRefused(c, unsigned, ALGORITHM_NOT_ACCEPTED);
            assertRefused(c, header + "." + payload + ".", ALGORITHM_NOT_ACCEPTED);
            assertRefused(c, noneWithSignature, ALGORITHM_NOT_ACCEPTED);
        }
    }

    /**
     * A key of the JWKS the gateway cannot use (an Ed25519 key published without "alg") is named by every token with
     * its kid - and the kid is public. Each such token is refused, and the key is logged once a minute, not once per
     * request: a caller holding no credential at all wrote a WARN line per request (black-box probe, 2026-12-05).
     */
    @Test
    void tokensNamingAKeyThatCannotBeUsedAreRefusedAndTheKeyIsLoggedOnce() {
        String token = JwksServer.claims("alice", ISSUER, AUDIENCE).withKeyId("ed-1").sign(rsa.algorithm());
        try (LogCapture logs = LogCapture.start()) {
            for (int i = 0; i < 5; i++) {
                assertRefused(client, token, UNUSABLE_KEY);
            }

            assertThat(logs.lines(Authenticator.class.getName())).extracting(LogCapture.Line::message)
                    .containsExactly("A key of the JWKS (type OKP) cannot be used: The key type of OKP is not supported");
        }
    }

    // --- helpers ---

    /** Chats as {@code sub} with a token of {@code key}: 200 through the demo; the session is the subject's only. */
    static void assertChatsAsItsSubject(SigningKey key, String sub) {
        String token = key.sign(JwksServer.claims(sub, ISSUER, AUDIENCE));
        String session = client.createSession(token, "{\"title\":\"" + key.alg() + "\"}");

        GatewayClient.Answer answer = client.chat(session, token, "Hello!");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("text/event-stream");
        assertThat(answer.events()).endsWith("data: [DONE]");
        assertThat(answer.text()).isNotEmpty();
        JsonNode stored = client.session(session, token);
        assertThat(stored.get("title").asText()).isEqualTo(key.alg());
        assertThat(stored.get("messages")).hasSize(2);
        assertThat(stored.get("messages").get(0).get("content").asText()).isEqualTo("Hello!");
        assertThat(SessionApiTest.ids(GatewayClient.json(client.get(SESSIONS, token).body())))
                .containsExactly(session);
        // another subject of the same identity provider does not see it
        String other = key.sign(JwksServer.claims(sub + "-other", ISSUER, AUDIENCE));
        HttpResponse<String> foreign = client.get(SESSIONS + "/" + session, other);
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(client.get(SESSIONS, other).body()).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
    }

    static void assertRefused(GatewayClient c, String token, String body) {
        HttpResponse<String> r = c.get(SESSIONS, token);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().allValues("WWW-Authenticate")).containsExactly("Bearer");
        assertThat(r.body()).isEqualTo(body);
        assertNoTokenText(r, token);
    }

    static String hs256(com.auth0.jwt.JWTCreator.Builder claims) {
        return claims.sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    /** A token whose header says ES256 and names the RSA key, signed with an EC key. */
    static String rsaKidWithEcSignature() {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("kid", "rsa-1");
        return JwksServer.claims("alice", ISSUER, AUDIENCE).withHeader(header).sign(ec.algorithm());
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
