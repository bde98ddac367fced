package com.cobalt.chat.http;

import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;

import com.auth0.jwk.InvalidPublicKeyException;
import com.auth0.jwk.Jwk;
import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.AlgorithmMismatchException;
import com.auth0.jwt.exceptions.IncorrectClaimException;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.MissingClaimException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.Verification;
import com.cobalt.chat.provider.LogOncePerMinute;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import org.apache.camel.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling: the {@code sub} of a JWT, with {@code exp} required and enforced (java-jwt: a small, well-kept
 * verifier that already sits on Jackson). Two kinds of signature are accepted, each only with its own algorithm:
 * HS256 with CHAT_JWT_SECRET, and RS256 / ES256 with the identity provider's keys from CHAT_JWT_JWKS_URL
 * ({@link JwksKeys}). The token header's {@code alg} picks the verifier; an algorithm without a configured verifier
 * ({@code none}, HS256 without a secret, RS512, ...) is refused, and every verifier is pinned to its algorithm and
 * key type, so a token cannot choose how it is checked (an HS256 token "signed" with an RSA public key meets the
 * secret, not that key). CHAT_JWT_ISSUER and CHAT_JWT_AUDIENCE, when set, apply to every token.
 *
 * <p>Refusals are 401 with a stable code ({@code token_expired}, else {@code invalid_token}) and a message naming
 * the check that failed, never a value from the token. When the key a token names is not in memory and the JWKS
 * cannot be fetched, the token may well be valid: that is 503 {@code auth_unavailable}, so clients retry instead of
 * discarding a good token. With auth disabled every caller is the single user {@code local}.
 */
public class Authenticator {

    public static final String LOCAL_USER = "local";
    static final int LEEWAY_SECONDS = 5;
    /** The user_id columns are VARCHAR(255). */
    static final int MAX_USER_ID_LENGTH = 255;
    /** How many distinct verified tokens are kept (a few hundred bytes each). */
    static final int VERIFIED_TOKENS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);

    private final boolean disabled;
    private final String issuer;
    private final String audience;
    /** HS256 with the shared secret; null without CHAT_JWT_SECRET. */
    private final JWTVerifier hs256;
    /** RS256 / ES256 keys; null without CHAT_JWT_JWKS_URL. */
    private final JwksKeys jwks;
    private final String adminRole;
    /**
     * A key of the JWKS that cannot be used is named by every token whose kid is its: logged at most once a minute per
     * key type, not once per request (a caller without any credential could write a WARN line per request).
     */
    private final LogOncePerMinute unusableKeyLog = new LogOncePerMinute();
    /**
     * Tokens that passed every check, each kept until its expiry (plus the leeway) so a client that sends the same
     * token with every request costs one signature check, not one per request. Bounded; refusals are not kept. A
     * token stays accepted until it expires even if its signing key leaves the JWKS meanwhile - as at any verifier
     * that caches the JWKS. Caffeine: bounded, concurrent, and expiry per entry, which a map would have to re-make.
     */
    private final Cache<String, DecodedJWT> verified = Caffeine.newBuilder()
            .maximumSize(VERIFIED_TOKENS)
            // upkeep on the calling thread: its share is a few map operations, where a hand-off to the common pool
            // woke a thread per request (3% of the gateway's CPU samples under load)
            .executor(Runnable::run)
            .expireAfter(Expiry.<String, DecodedJWT>creating((token, jwt) -> Duration.between(Instant.now(),
                    jwt.getExpiresAtAsInstant().plusSeconds(LEEWAY_SECONDS))))
            .build();

    public Authenticator(boolean disabled, String secret, String jwksUrl, String issuer, String audience,
                         String adminRole) {
        this.disabled = disabled;
        this.adminRole = adminRole;
        this.issuer = issuer;
        this.audience = audience;
        this.hs256 = disabled || secret == null ? null : require(Algorithm.HMAC256(secret));
        this.jwks = disabled || jwksUrl == null ? null : new JwksKeys(jwksUrl);
        if (!disabled) {
            LOG.info("JWT verification: HS256 {}, RS256/ES256 {}, issuer {}, audience {}",
                    hs256 == null ? "off" : "with CHAT_JWT_SECRET",
                    jwks == null ? "off" : "with the JWKS at " + jwks.display(),
                    issuer == null ? "not checked" : "checked", audience == null ? "not checked" : "checked");
            if (jwks != null && audience == null) {
                LOG.warn("CHAT_JWT_JWKS_URL is set without CHAT_JWT_AUDIENCE: tokens the identity provider issued for"
                        + " any of its applications are accepted");
            }
        }
    }

    /** How many verified tokens are kept now (for tests and diagnostics). */
    long verifiedTokens() {
        verified.cleanUp();
        return verified.estimatedSize();
    }

    /** The caller's user id, from the request's Authorization header. */
    public String userOf(@Header("Authorization") String authorization) {
        DecodedJWT jwt = verify(authorization);
        return jwt == null ? LOCAL_USER : jwt.getSubject();
    }

    /**
     * Who is calling (GET /api/v1/me). No token where one is needed is an answer here, not a refusal: the caller is
     * not signed in (200), so a page that asks on its first load gets no 401; a token that is sent is checked as on
     * every other endpoint (401 for a bad or expired one, 503 when the keys cannot be fetched).
     */
    public Caller callerOf(@Header("Authorization") String authorization) {
        if (!disabled && (authorization == null || authorization.isBlank())) {
            return new Caller(false, true, null, false);
        }
        return new Caller(true, !disabled, userOf(authorization), isAdmin(authorization));
    }

    /**
     * The caller's user id, if the token carries the admin role (claim {@code roles}, a list, or {@code role});
     * 403 otherwise. With auth disabled the single local user is the administrator.
     */
    public String adminOf(@Header("Authorization") String authorization) {
        DecodedJWT jwt = verify(authorization);
        if (jwt == null) {
            return LOCAL_USER;
        }
        List<String> roles = roles(jwt.getClaim("roles"));
        String role = jwt.getClaim("role").asString();
        if ((roles == null || !roles.contains(adminRole)) && !adminRole.equals(role)) {
            throw forbidden();
        }
        return jwt.getSubject();
    }

    /**
     * The {@code roles} claim as a list of strings; null when the token has none. Any other shape (a number, an
     * object, a string, a list holding anything but strings) grants nothing and is refused as it stands: 403, not a
     * failure of the gateway.
     */
    private List<String> roles(Claim claim) {
        if (claim.isMissing() || claim.isNull()) {
            return null;
        }
        Object value;
        try {
            value = claim.as(Object.class);
        } catch (RuntimeException e) {
            throw forbidden();
        }
        if (!(value instanceof List<?> list)) {
            throw forbidden();
        }
        List<String> roles = new ArrayList<>(list.size());
        for (Object r : list) {
            if (!(r instanceof String s)) {
                throw forbidden();
            }
            roles.add(s);
        }
        return roles;
    }

    private ApiError forbidden() {
        return new ApiError(403, "forbidden", "This needs the " + adminRole + " role");
    }

    /** Whether the (authenticated) caller has the admin role; never throws for a missing role. */
    public boolean isAdmin(@Header("Authorization") String authorization) {
        try {
            adminOf(authorization);
            return true;
        } catch (ApiError e) {
            if (e.status() == 403) {
                return false;
            }
            throw e;
        }
    }

    private DecodedJWT verify(String header) {
        if (disabled) {
            return null;
        }
        if (header == null || header.isBlank()) {
            throw ApiError.unauthorized("missing_token", "Authorization: Bearer <JWT> is required");
        }
        if (header.trim().equalsIgnoreCase("Bearer")) {
            throw invalid("The Bearer token is empty");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw invalid("Authorization must use the Bearer scheme");
        }
        String token = header.substring(7).trim();
        DecodedJWT known = verified.getIfPresent(token);
        if (known != null) {
            // verified before: only the time can have made it invalid since
            if (known.getExpiresAtAsInstant().plusSeconds(LEEWAY_SECONDS).isBefore(Instant.now())) {
                verified.invalidate(token);
                throw ApiError.unauthorized("token_expired", "The token has expired");
            }
            return known;
        }
        DecodedJWT unverified;
        try {
            unverified = JWT.decode(token);
        } catch (JWTDecodeException e) {
            throw invalid("The token is not a well-formed JWT");
        }
        // RFC 7515 4.1.11: a token whose header lists critical extensions must be refused by a recipient that does not
        // understand them, and the gateway understands none
        if (!unverified.getHeaderClaim("crit").isMissing()) {
            throw invalid("The token's header names critical extensions that are not supported");
        }
        try {
            DecodedJWT jwt = verifierFor(unverified).verify(unverified);
            // RFC 7519 4.1.2: sub is a string. java-jwt's getSubject() gives any scalar's text (123, true, 1e2 as
            // "100.0"), so the number 123 and the string "123" would be one user: only a JSON string is a subject
            if (jwt.getClaim("sub").asString() == null) {
                throw invalid("The token's subject is not a string");
            }
            requireUserId(jwt.getSubject());
            verified.put(token, jwt);
            return jwt;
        } catch (JWTVerificationException e) {
            throw refusal(e);
        }
    }

    /**
     * The subject is the user id exactly as signed: it is compared byte for byte wherever a user's sessions, usage
     * and limits are looked up, so a subject that cannot be stored as one (empty, blank, longer than the user_id
     * column, with control characters) is refused here, naming the check, rather than failing later.
     */
    static void requireUserId(String sub) {
        if (sub == null || sub.isEmpty()) {
            throw invalid("The token has no subject");
        }
        if (sub.isBlank()) {
            throw invalid("The token's subject is blank");
        }
        if (sub.length() > MAX_USER_ID_LENGTH) {
            throw invalid("The token's subject is longer than " + MAX_USER_ID_LENGTH + " characters");
        }
        if (sub.codePoints().anyMatch(c -> Character.getType(c) == Character.CONTROL || lineOrDirectionControl(c))) {
            throw invalid("The token's subject contains control characters");
        }
        // a lone surrogate ("\ud800" in the token's JSON) is no Unicode text: logged and stored it became "?",
        // one with a real user "...?", and no URL could name it (black-box probe); request bodies are refused so too
        if (sub.codePoints().anyMatch(c -> Character.getType(c) == Character.SURROGATE)) {
            throw invalid("The token's subject is not valid Unicode text");
        }
    }

    /**
     * Whether a text could be a user id, by the rules a token's subject must meet: not blank, at most 255 UTF-16
     * units, no control, line-or-direction control or lone surrogate. A value named where a user id is looked up
     * (the usage report's {@code user=}) that fails them names no user there can be.
     */
    public static boolean couldBeUserId(String text) {
        return text != null && !text.isBlank() && text.length() <= MAX_USER_ID_LENGTH
                && text.codePoints().noneMatch(c -> Character.getType(c) == Character.CONTROL
                        || lineOrDirectionControl(c) || Character.getType(c) == Character.SURROGATE);
    }

    /**
     * U+2028 and U+2029 end a line wherever Unicode line breaking is followed (log viewers, JavaScript), and the
     * bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9) reorder the text after them on screen: a subject
     * holding one is logged as the user id (an administrator's selection change, the exchange line) and could forge
     * a line or disguise what follows (black-box probe, 2026-12-05). No identity provider issues such a subject.
     */
    static boolean lineOrDirectionControl(int c) {
        int type = Character.getType(c);
        return type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR || c == 0x061C
                || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    }

    /** The verifier of the token header's algorithm, if one is configured; nothing else is tried. */
    private JWTVerifier verifierFor(DecodedJWT token) {
        String alg = token.getAlgorithm();
        if ("HS256".equals(alg) && hs256 != null) {
            return hs256;
        }
        if (("RS256".equals(alg) || "ES256".equals(alg)) && jwks != null) {
            return require(algorithm(alg, signingKey(token.getKeyId())));
        }
        throw invalid("The token's algorithm is not accepted");
    }

    private Jwk signingKey(String kid) {
        try {
            return jwks.key(kid);
        } catch (JwksKeys.UnknownKey e) {
            throw invalid("The token's signing key is not known");
        } catch (JwksKeys.Unavailable e) {
            throw new ApiError(503, "auth_unavailable",
                    "The identity provider's signing keys cannot be fetched; retry later",
                    java.util.Map.of("Retry-After", String.valueOf(ErrorResponses.DATABASE_RETRY_AFTER_SECONDS)));
        }
    }

    /** The algorithm for the token's alg and its JWK, only when the key is of that algorithm's kind and curve. */
    private Algorithm algorithm(String alg, Jwk jwk) {
        if ((jwk.getAlgorithm() != null && !jwk.getAlgorithm().equals(alg))
                || (jwk.getUsage() != null && !"sig".equals(jwk.getUsage()))) {
            throw invalid("The token's algorithm does not match its signing key");
        }
        PublicKey key;
        try {
            key = jwk.getPublicKey();
        } catch (InvalidPublicKeyException e) {
            long unlogged = unusableKeyLog.heldBackOrMinusOne(String.valueOf(jwk.getType()));
            if (unlogged == 0) {
                LOG.warn("A key of the JWKS (type {}) cannot be used: {}", jwk.getType(), e.getMessage());
            } else if (unlogged > 0) {
                LOG.warn("A key of the JWKS (type {}) cannot be used: {} ({} more token(s) named such a key since the"
                        + " last such line)", jwk.getType(), e.getMessage(), unlogged);
            }
            throw invalid("The token's signing key cannot be used");
        }
        if ("RS256".equals(alg) && key instanceof RSAPublicKey rsa) {
            return Algorithm.RSA256(rsa, null);
        }
        if ("ES256".equals(alg) && key instanceof ECPublicKey ec
                && ec.getParams().getCurve().getField().getFieldSize() == 256) {
            return Algorithm.ECDSA256(ec, null);
        }
        throw invalid("The token's algorithm does not match its signing key");
    }

    /** The checks every token gets, whoever signed it. */
    private JWTVerifier require(Algorithm algorithm) {
        Verification v = JWT.require(algorithm).withClaimPresence("exp").withClaimPresence("sub")
                .acceptLeeway(LEEWAY_SECONDS);
        if (issuer != null) {
            v = v.withIssuer(issuer);
        }
        if (audience != null) {
            v = v.withAudience(audience);
        }
        return v.build();
    }

    /** Which check failed, in words that never quote the token. */
    private static ApiError refusal(JWTVerificationException e) {
        if (e instanceof TokenExpiredException) {
            return ApiError.unauthorized("token_expired", "The token has expired");
        }
        if (e instanceof AlgorithmMismatchException) {
            return invalid("The token's algorithm is not accepted");
        }
        if (e instanceof SignatureVerificationException) {
            return invalid("The token's signature is not valid");
        }
        if (e instanceof MissingClaimException missing) {
            return invalid(switch (missing.getClaimName()) {
                case "exp" -> "The token has no expiry time";
                case "sub" -> "The token has no subject";
                case "iss" -> "The token has no issuer";
                case "aud" -> "The token has no audience";
                default -> "The token is not valid";
            });
        }
        if (e instanceof IncorrectClaimException incorrect) {
            return invalid(switch (incorrect.getClaimName()) {
                case "iss" -> "The token's issuer is not accepted";
                case "aud" -> "The token's audience is not accepted";
                case "nbf" -> "The token is not valid yet";
                case "iat" -> "The token's issue time is in the future";
                default -> "The token is not valid";
            });
        }
        if (e instanceof JWTDecodeException) {
            return invalid("The token is not a well-formed JWT");
        }
        return invalid("The token is not valid");
    }

    private static ApiError invalid(String message) {
        return ApiError.unauthorized("invalid_token", message);
    }
}
