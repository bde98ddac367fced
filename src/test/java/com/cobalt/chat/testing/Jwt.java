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

    /**
     * A token whose payload is this JSON text exactly as written (escapes included, such as a lone surrogate's
     * {@code \\ud800}, which a JSON library would not write), signed with the test gateway's secret.
     */
    public static String withPayloadJson(String json) {
        java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)) + "." + b64.encodeToString(json.getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(RunningGateway.JWT_SECRET.getBytes(
                    java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
            return signingInput + "." + b64.encodeToString(mac.doFinal(signingInput.getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
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
