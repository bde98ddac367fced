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
 * AZURE_AI_AUTH=entra with an App Service / Container Apps managed identity: the gateway runs in its own JVM with
 * IDENTITY_ENDPOINT and IDENTITY_HEADER in its environment (azure-identity reads them there), pointed at a fake
 * identity endpoint on loopback that speaks the App Service protocol over plain HTTP; the Azure deployment is a fake
 * upstream. The steps run in order on one gateway: the token is cached, a 401 renews it once, and it is renewed
 * before it expires without a chat waiting for it.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EntraManagedIdentityTest {

    static final Duration WAIT = Duration.ofSeconds(20);
    static final String DEPLOYMENT = "gpt-4o-eastus";

    @TempDir
    static Path dir;
    FakeUpstream azure;
    FakeIdentity identity;
    GatewayProcess gateway;
    GatewayClient client;
    String token;
    String session;

    @BeforeAll
    void start() throws Exception {
        azure = FakeUpstream.start();
        identity = FakeIdentity.appService("mi-token");
        // shorter than MSAL's own 5-minute renewal margin, so MSAL never answers from its cache: every token the
        // gateway asks for is a new one from the endpoint, and the counts below are the gateway's own caching
        identity.lifetimeSeconds(240);
        gateway = GatewayProcess.start(Map.of(
                "LLM_PROVIDER", "azure",
                "AZURE_AI_ENDPOINT", azure.baseUrl(),
                "AZURE_AI_DEPLOYMENT", DEPLOYMENT,
                "AZURE_AI_AUTH", "entra",
                "IDENTITY_ENDPOINT", identity.baseUrl() + "/msi/token",
                "IDENTITY_HEADER", FakeIdentity.IDENTITY_HEADER), List.of(), dir);
        client = new GatewayClient(gateway.baseUrl());
        token = Jwt.token("entra-user");
        session = client.createSession(token);
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
            String log = gateway.log();
            keepLog(log);
            assertThat(identity.issued()).isNotEmpty().allSatisfy(t -> assertThat(log).doesNotContain(t));
            assertThat(log).doesNotContain(FakeIdentity.IDENTITY_HEADER);
        }
        identity.close();
        azure.close();
    }

    /** The child's log stays in target/ for a look after a failure. */
    static void keepLog(String log) {
        try {
            java.nio.file.Files.writeString(Path.of("target", "EntraManagedIdentityTest-gateway.log"), log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(3, 1), Chunks.done());
    }

    GatewayClient.Answer chat(String content) {
        return client.chat(session, token, content);
    }

    static String bearer(RecordedRequest r) {
        assertThat(r.headers().get("api-key")).as("no api-key with Entra ID").isNull();
        List<String> auth = r.headerValues("authorization");
        assertThat(auth).hasSize(1);
        assertThat(auth.get(0)).startsWith("Bearer ");
        return auth.get(0).substring("Bearer ".length());
    }

    void awaitIssued(int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (identity.issued().size() < n) {
            assertThat(System.nanoTime()).as("token %d not fetched within %s; issued %s", n, WAIT, identity.issued())
                    .isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    @Test
    @Order(1)
    void oneTokenFromTheManagedIdentityServesManyChats() {
        for (int i = 0; i < 5; i++) {
            azure.enqueue(answer("answer " + i));
            GatewayClient.Answer a = chat("question " + i);
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            assertThat(a.text()).isEqualTo("answer " + i);
        }

        List<RecordedRequest> calls = azure.requests();
        assertThat(calls).hasSize(5).allSatisfy(r -> {
            assertThat(bearer(r)).isEqualTo("mi-token-1");
            assertThat(r.path()).isEqualTo("/openai/deployments/" + DEPLOYMENT + "/chat/completions");
        });
        assertThat(identity.issued()).containsExactly("mi-token-1");
        FakeIdentity.Request asked = identity.requests().get(0);
        assertThat(asked.method()).isEqualTo("GET");
        assertThat(asked.path()).isEqualTo("/msi/token");
        assertThat(asked.identityHeader()).isEqualTo(FakeIdentity.IDENTITY_HEADER);
        assertThat(asked.query()).contains("resource=https%3A%2F%2Fcognitiveservices.azure.com")
                .contains("api-version=2019-08-01");
    }

    @Test
    @Order(2)
    void a401RenewsTheTokenOnceAndTriesOnceMore() {
        identity.lifetimeSeconds(6); // the next token is short-lived: step 3 watches it being renewed
        azure.reset();
        azure.enqueue(Script.json(401, "{\"error\":{\"code\":\"PermissionDenied\",\"message\":\"Principal does not"
                + " have access to API/Operation.\"}}"));
        azure.enqueue(answer("after renewal"));

        GatewayClient.Answer a = chat("again");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("after renewal");
        assertThat(azure.requests()).extracting(EntraManagedIdentityTest::bearer)
                .containsExactly("mi-token-1", "mi-token-2");
        assertThat(identity.issued()).containsExactly("mi-token-1", "mi-token-2");
    }

    @Test
    @Order(3)
    void theTokenIsRenewedBeforeItExpiresWithoutAChatWaitingForIt() {
        // mi-token-2 lives 6 s: the gateway renews it after about 3 s on its own thread
        identity.lifetimeSeconds(240);
        awaitIssued(3);
        assertThat(identity.issued()).containsExactly("mi-token-1", "mi-token-2", "mi-token-3");
        azure.reset();
        azure.enqueue(answer("fresh"));

        GatewayClient.Answer a = chat("with the renewed token");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(azure.requests()).extracting(EntraManagedIdentityTest::bearer).containsExactly("mi-token-3");
        assertThat(identity.issued()).as("the chat fetched no token").hasSize(3);
    }

    @Test
    @Order(4)
    void aSecond401IsNotRetriedAgain() {
        azure.reset();
        azure.enqueue(Script.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Unauthorized\"}}"));
        azure.enqueue(Script.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Unauthorized\"}}"));

        GatewayClient.Answer a = chat("refused twice");

        assertThat(a.status()).isEqualTo(503);
        assertThat(a.body()).isEqualTo(
                "{\"error\":{\"code\":\"provider_unavailable\",\"message\":\"No provider could answer; retry later\"}}");
        assertThat(azure.requests()).extracting(EntraManagedIdentityTest::bearer)
                .containsExactly("mi-token-3", "mi-token-4");
    }
}
