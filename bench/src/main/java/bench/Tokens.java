package bench;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;

/**
 * Production mode's callers: a fresh random CHAT_JWT_SECRET and one HS256 JWT per bench user ({@code sub}
 * bench-user-0 .. bench-user-(n-1), {@code exp} in an hour), all made once before the run so that signing costs the
 * bench nothing while it measures. Requests are spread round robin over the users, so that no user reaches the
 * gateway's per-user limits (the bench counts any 429 as an error). One extra token carries the admin role, for the
 * usage ledger's totals over all users.
 */
final class Tokens {

    final String secret;
    private final List<String> tokens;
    final String admin;
    private final AtomicInteger next = new AtomicInteger();

    Tokens(int users) {
        byte[] key = new byte[48];
        new SecureRandom().nextBytes(key);
        this.secret = Base64.getEncoder().encodeToString(key);
        Algorithm hs256 = Algorithm.HMAC256(secret);
        Instant exp = Instant.now().plusSeconds(3600);
        tokens = new ArrayList<>(users);
        for (int i = 0; i < users; i++) {
            tokens.add(JWT.create().withSubject("bench-user-" + i).withExpiresAt(exp).sign(hs256));
        }
        admin = JWT.create().withSubject("bench-admin").withClaim("roles", List.of("admin")).withExpiresAt(exp)
                .sign(hs256);
    }

    int users() {
        return tokens.size();
    }

    String user(int i) {
        return tokens.get(Math.floorMod(i, tokens.size()));
    }

    /** The next user's token, round robin. */
    String next() {
        return user(next.getAndIncrement());
    }
}
