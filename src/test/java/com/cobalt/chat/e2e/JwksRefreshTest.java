package com.cobalt.chat.e2e;

import static com.cobalt.chat.e2e.AuthTest.invalidToken;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.JwksServer;
import com.cobalt.chat.testing.JwksServer.SigningKey;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the gateway keeps the identity provider's keys: fetched on the first token (never at startup), answered from
 * memory afterwards, fetched again exactly once for a key id it has not seen (rotation), at most
 * {@value #REFRESH_BURST} lookups of unseen key ids in a burst (then one a minute), and an unreachable or silent
 * JWKS endpoint is a prompt 503 {@code auth_unavailable} while keys already fetched keep working. Each test has its
 * own JWKS endpoint and gateway, so every fetch counted here is caused by the test's own requests.
 */
class JwksRefreshTest {

    static final String SESSIONS = "/api/v1/chat/sessions";
    /** The documented refresh burst (README): lookups of unseen key ids that may reach the identity provider. */
    static final int REFRESH_BURST = 10;
    static final String UNKNOWN_KEY = invalidToken("The token's signing key is not known");
    static final String AUTH_UNAVAILABLE = "{\"error\":{\"code\":\"auth_unavailable\","
            + "\"message\":\"The identity provider's signing keys cannot be fetched; retry later\"}}";

    JwksServer idp;
    RunningGateway gateway;
    GatewayClient client;

    void start(JwksServer server) {
        idp = server;
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "chat.jwt.secret", "",
                "chat.jwt.jwks-url", idp.url()));
        client = new GatewayClient(gateway);
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (idp != null) {
            idp.close();
        }
    }

    @Test
    void keysAreFetchedOnTheFirstTokenAndThenAnsweredFromMemory() {
        SigningKey rsa = JwksServer.rsaKey("rsa-1");
        SigningKey ec = JwksServer.ecKey("ec-1");
        start(JwksServer.publishing(rsa, ec));
        assertThat(idp.fetches()).as("nothing is fetched at startup").isZero();

        assertAccepted(rsa, "alice");
        assertThat(idp.fetches()).isEqualTo(1);
        // the other key came in the same set
        assertAccepted(ec, "bob");
        for (int i = 0; i < 5; i++) {
            assertAccepted(rsa, "alice");
            assertAccepted(ec, "bob");
        }
        assertThat(idp.fetches()).isEqualTo(1);
    }

    @Test
    void aKeyPublishedAfterTheFirstFetchIsPickedUpOnItsUnknownKidWithExactlyOneFetch() {
        SigningKey old = JwksServer.rsaKey("2026-11-old");
        start(JwksServer.publishing(old));
        assertAccepted(old, "alice");
        assertThat(idp.fetches()).isEqualTo(1);

        SigningKey rotated = JwksServer.ecKey("2026-11-new");
        idp.publish(rotated);
        assertAccepted(rotated, "alice");

        assertThat(idp.fetches()).isEqualTo(2);
        assertAccepted(rotated, "alice");
        assertAccepted(old, "alice");
        assertThat(idp.fetches()).isEqualTo(2);
    }

    @Test
    void aFloodOfUnknownKidsReachesTheIdentityProviderOnlyUpToTheRefreshBurst() {
        SigningKey rsa = JwksServer.rsaKey("rsa-1");
        SigningKey ec = JwksServer.ecKey("ec-1");
        start(JwksServer.publishing(rsa, ec));
        // the first lookup (one fetch) takes one of the burst; the refill (one a minute) cannot happen in this test
        assertAccepted(rsa, "alice");
        assertThat(idp.fetches()).isEqualTo(1);

        for (int i = 1; i <= 3 * REFRESH_BURST; i++) {
            SigningKey random = new SigningKey(UUID.randomUUID().toString(), "RS256", rsa.pair());
            HttpResponse<String> r = client.get(SESSIONS, random.sign(JwksServer.claims("mallory", null, null)));

            assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
            assertThat(r.body()).isEqualTo(UNKNOWN_KEY);
            assertThat(idp.fetches()).as("after %d unknown kids", i).isEqualTo(Math.min(i + 1, REFRESH_BURST));
        }

        // a published key not looked up yet still works from the last fetched set, without a fetch
        assertAccepted(ec, "bob");
        assertAccepted(rsa, "alice");
        assertThat(idp.fetches()).isEqualTo(REFRESH_BURST);
    }

    @Test
    void anUnreachableJwksIs503AuthUnavailableForUnfetchedKeysWhileFetchedKeysKeepWorking() {
        SigningKey rsa = JwksServer.rsaKey("rsa-1");
        start(JwksServer.publishing(rsa));
        assertAccepted(rsa, "alice");

        idp.stop();
        SigningKey rotated = JwksServer.rsaKey("rsa-2");
        // past the refresh burst too: an outage must not turn into 401s for tokens that may be valid
        for (int i = 0; i < REFRESH_BURST + 3; i++) {
            HttpResponse<String> r = client.get(SESSIONS, rotated.sign(JwksServer.claims("alice", null, null)));

            assertUnavailable(r);
        }
        assertAccepted(rsa, "alice");
    }

    @Test
    void aJwksThatWasNeverReachableIs503AuthUnavailable() {
        SigningKey rsa = JwksServer.rsaKey("rsa-1");
        JwksServer down = JwksServer.publishing(rsa);
        start(down);
        down.stop();

        HttpResponse<String> r = client.get(SESSIONS, rsa.sign(JwksServer.claims("alice", null, null)));

        assertUnavailable(r);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("127.0.0.1");
    }

    @Test
    void aJwksEndpointThatNeverAnswersIs503WithinTheFetchTimeoutNotAHang() {
        SigningKey rsa = JwksServer.rsaKey("rsa-1");
        start(JwksServer.publishing(rsa));
        idp.goSilent();

        long started = System.nanoTime();
        HttpResponse<String> r = client.get(SESSIONS, rsa.sign(JwksServer.claims("alice", null, null)));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertUnavailable(r);
        assertThat(idp.fetches()).isEqualTo(1);
        // the fetch is bounded at 5 s; the client's own timeout (30 s) is far away
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(4500)).isLessThan(Duration.ofSeconds(15));
    }

    void assertAccepted(SigningKey key, String sub) {
        HttpResponse<String> r = client.get(SESSIONS, key.sign(JwksServer.claims(sub, null, null)));
        assertThat(r.statusCode()).as("%s %s: %s", key.alg(), key.kid(), r.body()).isEqualTo(200);
    }

    static void assertUnavailable(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().allValues("Retry-After")).containsExactly("5");
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
        assertThat(r.body()).isEqualTo(AUTH_UNAVAILABLE);
    }
}
