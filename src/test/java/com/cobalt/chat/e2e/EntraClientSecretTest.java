package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeIdentity;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.GatewayProcess;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * AZURE_AI_AUTH=entra with a service principal's client secret: AZURE_AUTHORITY_HOST points at a fake Entra ID token
 * endpoint over HTTPS whose certificate only a test trust store (the JVM's javax.net.ssl.trustStore) trusts. While the
 * identity endpoint refuses the secret, Azure is a failed provider and the fallback (SambaNova, a second fake) answers; the failure
 * shows in the admin API and the log, never the secret or a token. Once it answers, Azure gets Bearer tokens.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EntraClientSecretTest {

    static final String SECRET = "DISTINCTIVE-client-secret-value-5150";
    static final String TENANT = "72f988bf-0000-4000-8000-000000000001";
    static final String CLIENT = "11111111-2222-4333-8444-555555555555";
    static final String DEPLOYMENT = "gpt-4o-westeurope";

    @TempDir
    static Path dir;
    FakeUpstream azure;
    FakeUpstream sambanova;
    FakeIdentity authority;
    GatewayProcess gateway;
    GatewayClient client;
    String token;
    String session;

    @BeforeAll
    void start() throws Exception {
        azure = FakeUpstream.start();
        sambanova = FakeUpstream.start();
        Path store = dir.resolve("authority.p12");
        authority = FakeIdentity.authority("cs-token", store);
        // a client secret that expired: Entra ID answers 401 invalid_client (not retried by azure-identity)
        authority.failWith(401);
        gateway = GatewayProcess.start(Map.ofEntries(
                Map.entry("LLM_PROVIDER", "azure"),
                Map.entry("LLM_FALLBACK_PROVIDER", "sambanova"),
                Map.entry("AZURE_AI_ENDPOINT", azure.baseUrl()),
                Map.entry("AZURE_AI_DEPLOYMENT", DEPLOYMENT),
                Map.entry("AZURE_AI_AUTH", "entra"),
                Map.entry("AZURE_TENANT_ID", TENANT),
                Map.entry("AZURE_CLIENT_ID", CLIENT),
                Map.entry("AZURE_CLIENT_SECRET", SECRET),
                Map.entry("AZURE_AUTHORITY_HOST", authority.baseUrl()),
                Map.entry("SAMBANOVA_API_BASE", sambanova.baseUrl() + "/v1"),
                Map.entry("SAMBANOVA_API_KEY", "sn-test-key-0001"),
                Map.entry("SAMBANOVA_MODEL", "Meta-Llama-3.3-70B-Instruct")),
                List.of("-Djavax.net.ssl.trustStore=" + store, "-Djavax.net.ssl.trustStoreType=PKCS12",
                        "-Djavax.net.ssl.trustStorePassword=" + FakeIdentity.STORE_PASSWORD), dir);
        client = new GatewayClient(gateway.baseUrl());
        token = Jwt.token("entra-sp-user");
        session = client.createSession(token);
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
            String log = gateway.log();
            keepLog(log);
            assertThat(log).doesNotContain(SECRET);
            assertThat(authority.issued()).allSatisfy(t -> assertThat(log).doesNotContain(t));
        }
        authority.close();
        azure.close();
        sambanova.close();
    }

    /** The child's log stays in target/ for a look after a failure. */
    static void keepLog(String log) {
        try {
            java.nio.file.Files.writeString(Path.of("target", "EntraClientSecretTest-gateway.log"), log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(3, 1), Chunks.done());
    }

    @Test
    @Order(1)
    void anIdentityEndpointThatFailsIsAProviderFailureAndTheFallbackAnswers() {
        sambanova.enqueue(answer("from the fallback"));

        GatewayClient.Answer a = client.chat(session, token, "Hello");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("from the fallback");
        assertThat(azure.requestCount()).as("no request without a token").isZero();
        assertThat(sambanova.requests()).hasSize(1);
        assertThat(authority.requests()).isNotEmpty().allSatisfy(r -> {
            assertThat(r.path()).isEqualTo("/" + TENANT + "/oauth2/v2.0/token");
            assertThat(r.form()).containsEntry("grant_type", "client_credentials")
                    .containsEntry("client_id", CLIENT)
                    .containsEntry("client_secret", SECRET)
                    .containsEntry("scope", "openid profile offline_access https://cognitiveservices.azure.com/.default");
        });

        String admin = ResilienceTest.tokenWith("ops", "roles", List.of("admin"));
        var response = client.get("/api/v1/admin/providers", admin);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode azureStatus = null;
        for (JsonNode p : GatewayClient.json(response.body()).get("providers")) {
            if (p.get("name").asText().equals("azure")) {
                azureStatus = p;
            }
        }
        assertThat(azureStatus).isNotNull();
        assertThat(azureStatus.get("auth").asText()).isEqualTo("entra");
        assertThat(azureStatus.get("last_error_class").asText()).isEqualTo("identity");
        assertThat(azureStatus.get("failures").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(gateway.log()).contains("Entra ID: no token from client-secret (")
                .contains("Provider azure failed before its stream began: identity");
    }

    @Test
    @Order(2)
    void onceTheAuthorityAnswersAzureGetsABearerTokenAndNoKey() {
        authority.failWith(0);
        // while the authority fails, chats go to the fallback at once and the credentials thread keeps asking (every
        // 5 s): the token comes from its next try, not from a chat that waits for it
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!gateway.log().contains("Entra ID: first token from client-secret")) {
            assertThat(System.nanoTime()).as("a token once the authority answers").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        for (int i = 0; i < 3; i++) {
            azure.enqueue(answer("azure " + i));
            GatewayClient.Answer a = client.chat(session, token, "question " + i);
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            assertThat(a.text()).isEqualTo("azure " + i);
        }

        List<RecordedRequest> calls = azure.requests();
        assertThat(calls).hasSize(3);
        String first = authority.issued().get(0);
        assertThat(calls).allSatisfy(r -> {
            assertThat(r.headerValues("authorization")).containsExactly("Bearer " + first);
            assertThat(r.headers().get("api-key")).isNull();
        });
        assertThat(authority.issued()).as("one token for the three chats").containsExactly(first);
    }

    /**
     * Azure refuses the (still valid) token: the gateway gets a new one from Entra ID and tries once more. Before,
     * azure-identity's token cache handed back the refused token, so the promised second try never happened and the
     * chat went to the fallback.
     */
    @Test
    @Order(3)
    void a401GetsANewTokenFromEntraIdAndOneMoreTry() {
        String refused = authority.issued().get(0);
        azure.reset();
        azure.enqueue(Script.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid"
                + " subscription key or wrong API endpoint.\"}}"));
        azure.enqueue(answer("after a new token"));

        GatewayClient.Answer a = client.chat(session, token, "once more");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("after a new token");
        assertThat(authority.issued()).hasSize(2);
        String renewed = authority.issued().get(1);
        assertThat(renewed).isNotEqualTo(refused);
        assertThat(azure.requests()).extracting(r -> r.header("authorization"))
                .containsExactly("Bearer " + refused, "Bearer " + renewed);
        assertThat(sambanova.requests()).as("no fallback").hasSize(1);
    }
}
