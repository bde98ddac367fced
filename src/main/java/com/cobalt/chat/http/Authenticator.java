package com.cobalt.chat.http;

import java.util.List;

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
    private final String adminRole;

    public Authenticator(boolean disabled, String secret, String adminRole) {
        this.adminRole = adminRole;
        this.verifier = disabled ? null
                : JWT.require(Algorithm.HMAC256(secret)).withClaimPresence("exp").withClaimPresence("sub")
                        .acceptLeeway(5).build();
    }

    /** The caller's user id, from the request's Authorization header. */
    public String userOf(Exchange exchange) {
        DecodedJWT jwt = verify(exchange);
        return jwt == null ? LOCAL_USER : jwt.getSubject();
    }

    /**
     * The caller's user id, if the token carries the admin role (claim {@code roles}, a list, or {@code role});
     * 403 otherwise. With auth disabled the single local user is the administrator.
     */
    public String adminOf(Exchange exchange) {
        DecodedJWT jwt = verify(exchange);
        if (jwt == null) {
            return LOCAL_USER;
        }
        List<String> roles = jwt.getClaim("roles").asList(String.class);
        String role = jwt.getClaim("role").asString();
        if ((roles == null || !roles.contains(adminRole)) && !adminRole.equals(role)) {
            throw new ApiError(403, "forbidden", "This needs the " + adminRole + " role");
        }
        return jwt.getSubject();
    }

    /** Whether the (authenticated) caller has the admin role; never throws for a missing role. */
    public boolean isAdmin(Exchange exchange) {
        try {
            adminOf(exchange);
            return true;
        } catch (ApiError e) {
            if (e.status() == 403) {
                return false;
            }
            throw e;
        }
    }

    private DecodedJWT verify(Exchange exchange) {
        if (verifier == null) {
            return null;
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
            return jwt;
        } catch (TokenExpiredException e) {
            throw ApiError.unauthorized("token_expired", "The token has expired");
        } catch (JWTVerificationException e) {
            throw ApiError.unauthorized("invalid_token", "The token is not valid");
        }
    }
}
