package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tokens that are validly signed but shaped in ways the gateway does not expect: a {@code roles} claim that is not a
 * list of strings is a 403 {@code forbidden} (never a 500), and a header with a {@code crit} parameter is refused
 * as {@code invalid_token}, since the gateway understands no JWS extensions (RFC 7515 4.1.11).
 */
class TokenShapeTest {

    static final String ADMIN_PATH = "/api/v1/admin/providers";
    static final String FORBIDDEN = "{\"error\":{\"code\":\"forbidden\",\"message\":\"This needs the admin role\"}}";
    static final String CRIT = "{\"error\":{\"code\":\"invalid_token\",\"message\":"
            + "\"The token's header names critical extensions that are not supported\"}}";

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

    static com.auth0.jwt.JWTCreator.Builder token(String user) {
        return JWT.create().withSubject(user).withExpiresAt(Instant.now().plusSeconds(600));
    }

    static String sign(com.auth0.jwt.JWTCreator.Builder b) {
        return b.sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    @Test
    void aRolesClaimThatIsNotAListOfStringsIs403ForbiddenNot500() {
        Map<String, String> tokens = Map.of(
                "number", sign(token("n").withClaim("roles", 5)),
                "object", sign(token("o").withClaim("roles", Map.of("admin", true))),
                "string", sign(token("s").withClaim("roles", "admin")),
                "list of numbers", sign(token("l").withClaim("roles", List.of(1, 2))),
                "list of objects", sign(token("m").withPayload(Map.of("roles", List.of(Map.of("name", "admin"))))),
                "admin among non-strings", sign(token("x").withPayload(Map.of("roles", List.of("admin", 7)))));
        tokens.forEach((shape, token) -> {
            HttpResponse<String> r = client.get(ADMIN_PATH, token);
            assertThat(r.statusCode()).as(shape + ": " + r.body()).isEqualTo(403);
            assertThat(r.headers().firstValue("Content-Type")).as(shape).hasValue("application/json");
            assertThat(r.body()).as(shape).isEqualTo(FORBIDDEN);
        });
    }

    @Test
    void aWellShapedRolesListStillGrantsAndAUsageReportStillAnswers() {
        HttpResponse<String> admin = client.get(ADMIN_PATH, sign(token("a").withClaim("roles", List.of("user", "admin"))));
        assertThat(admin.statusCode()).as(admin.body()).isEqualTo(200);

        // the usage API asks whether the caller is an administrator: a malformed claim means "no", not a failure
        HttpResponse<String> usage = client.get("/api/v1/usage", sign(token("u").withClaim("roles", 5)));
        assertThat(usage.statusCode()).as(usage.body()).isEqualTo(200);
    }

    @Test
    void aTokenWithCriticalHeaderExtensionsIs401InvalidToken() {
        String withCrit = sign(token("c").withHeader(Map.of("crit", List.of("exp"), "exp", 1)));
        String emptyCrit = sign(token("e").withHeader(Map.of("crit", List.of())));
        for (String token : List.of(withCrit, emptyCrit)) {
            for (String path : List.of("/api/v1/chat/sessions", ADMIN_PATH, "/v1/models")) {
                HttpResponse<String> r = client.get(path, token);
                assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).hasValue("Bearer");
                if (!path.startsWith("/v1/")) {
                    assertThat(r.body()).as(path).isEqualTo(CRIT);
                } else {
                    assertThat(GatewayClient.json(r.body()).at("/error/code").asText()).isEqualTo("invalid_token");
                }
            }
        }
    }
}
