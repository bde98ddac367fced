package com.cobalt.chat.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import org.junit.jupiter.api.Test;

/**
 * A token is verified once and then answered from memory until it expires: the same token again is not checked
 * anew, a refused token is never kept, and a kept token that expires is refused as expired exactly as a fresh check
 * would refuse it.
 */
class VerifiedTokenCacheTest {

    static final String SECRET = "a-test-secret-of-at-least-32-bytes!!";
    final Authenticator auth = new Authenticator(false, SECRET, null, null, null, "admin");

    static String token(String user, Instant expires) {
        return JWT.create().withSubject(user).withExpiresAt(expires).sign(Algorithm.HMAC256(SECRET));
    }

    @Test
    void theSameTokenIsVerifiedOnce() {
        String token = token("cached-carla", Instant.now().plus(Duration.ofHours(1)));

        assertThat(auth.userOf("Bearer " + token)).isEqualTo("cached-carla");
        assertThat(auth.verifiedTokens()).isEqualTo(1);
        assertThat(auth.userOf("Bearer " + token)).isEqualTo("cached-carla");
        assertThat(auth.userOf("bearer   " + token)).isEqualTo("cached-carla");
        assertThat(auth.verifiedTokens()).isEqualTo(1);

        String other = token("cached-carla", Instant.now().plus(Duration.ofHours(2)));
        assertThat(auth.userOf("Bearer " + other)).isEqualTo("cached-carla");
        assertThat(auth.verifiedTokens()).isEqualTo(2);
    }

    @Test
    void aRefusedTokenIsNotKept() {
        String forged = JWT.create().withSubject("mallory").withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
                .sign(Algorithm.HMAC256("another-secret-of-at-least-32-bytes!"));

        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> auth.userOf("Bearer " + forged)).isInstanceOfSatisfying(ApiError.class, e -> {
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.code()).isEqualTo("invalid_token");
                assertThat(e.getMessage()).isEqualTo("The token's signature is not valid");
            });
        }
        assertThat(auth.verifiedTokens()).isZero();
    }

    @Test
    void aKeptTokenThatExpiresIsRefusedAsExpired() {
        // expired a moment ago but inside the 5 s leeway: accepted now, refused once the leeway has passed
        // (a JWT's exp is in whole seconds)
        Instant expires = Instant.now().minusSeconds(Authenticator.LEEWAY_SECONDS).plusSeconds(3)
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String token = token("fading-fiona", expires);
        assertThat(auth.userOf("Bearer " + token)).isEqualTo("fading-fiona");
        assertThat(auth.verifiedTokens()).isEqualTo(1);

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        ApiError refused = null;
        while (refused == null && System.nanoTime() < deadline) {
            try {
                auth.userOf("Bearer " + token);
            } catch (ApiError e) {
                refused = e;
            }
        }
        assertThat(refused).isNotNull();
        assertThat(Instant.now()).isAfterOrEqualTo(expires.plusSeconds(Authenticator.LEEWAY_SECONDS));
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.code()).isEqualTo("token_expired");
        assertThat(refused.getMessage()).isEqualTo("The token has expired");
    }
}
