package com.cobalt.chat.testing;

import java.time.Instant;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;

/** Tokens as an identity provider would issue them, signed with the test gateway's secret. */
public final class Jwt {

    private Jwt() {
    }

    public static String token(String user) {
        return JWT.create().withSubject(user).withExpiresAt(Instant.now().plusSeconds(600))
                .sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    /** A token whose {@code sub} is any JSON value (a number, a boolean), as a careless issuer might sign it. */
    public static String withSubjectValue(Object sub) {
        return JWT.create().withPayload(java.util.Map.of("sub", sub)).withExpiresAt(Instant.now().plusSeconds(600))
                .sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    public static String expired(String user) {
        return JWT.create().withSubject(user).withExpiresAt(Instant.now().minusSeconds(600))
                .sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    public static String withoutExpiry(String user) {
        return JWT.create().withSubject(user).sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    public static String signedWith(String secret, String user) {
        return JWT.create().withSubject(user).withExpiresAt(Instant.now().plusSeconds(600))
                .sign(Algorithm.HMAC256(secret));
    }
}
