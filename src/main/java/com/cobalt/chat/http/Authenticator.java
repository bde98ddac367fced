package com.cobalt.chat.http;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import org.apache.camel.Exchange;

/**
 * Who is calling: the {@code sub} of an HS256 JWT signed with CHAT_JWT_SECRET, with {@code exp} required and
 * enforced (java-jwt: a small, well-kept verifier that already sits on Jackson). With auth disabled every caller is
 * the single user {@code local}.
 */
public class Authenticator {

    public static final String LOCAL_USER = "local";

    private final JWTVerifier verifier;

    public Authenticator(boolean disabled, String secret) {
        this.verifier = disabled ? null
                : JWT.require(Algorithm.HMAC256(secret)).withClaimPresence("exp").withClaimPresence("sub")
                        .acceptLeeway(5).build();
    }

    /** The caller's user id, from the request's Authorization header. */
    public String userOf(Exchange exchange) {
        if (verifier == null) {
            return LOCAL_USER;
        }
        String header = exchange.getMessage().getHeader("Authorization", String.class);
        if (header == null || header.isBlank()) {
            throw ApiError.unauthorized("missing_token", "Authorization: Bearer <JWT> is required");
        }
        if (header.trim().equalsIgnoreCase("Bearer")) {
            throw ApiError.unauthorized("invalid_token", "The Bearer token is empty");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.unauthorized("invalid_token", "Authorization must use the Bearer scheme");
        }
        try {
            DecodedJWT jwt = verifier.verify(header.substring(7).trim());
            String sub = jwt.getSubject();
            if (sub == null || sub.isBlank()) {
                throw ApiError.unauthorized("invalid_token", "The token has no subject");
            }
            return sub;
        } catch (TokenExpiredException e) {
            throw ApiError.unauthorized("token_expired", "The token has expired");
        } catch (JWTVerificationException e) {
            throw ApiError.unauthorized("invalid_token", "The token is not valid");
        }
    }
}
