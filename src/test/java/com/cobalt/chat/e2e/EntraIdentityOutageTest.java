package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeIdentity;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.GatewayProcess;
import com.cobalt.chat.testing.Jwt;
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
 * AZURE_AI_AUTH=entra while the identity endpoint is out: README promises that the provider then fails like any
 * other and the fallback takes the chat. A black-box probe found chats waiting instead: with an endpoint that hangs,
 * every chat of the Azure provider hung for good (each one's worker waited behind the fetch lock); with one that
 * answers 500, each chat made a fetch of its own, one after another, each as long as azure-identity's retries (25 to
 * 90 s a chat). Now a chat waits for the token at most LLM_FIRST_TOKEN_TIMEOUT_MS, and not at all once a fetch has
 * failed; the credentials thread keeps trying, and Azure gets its token as soon as the endpoint answers again.
 * The managed identity is the App Service one (IDENTITY_ENDPOINT, plain HTTP on loopback); SambaNova, a second fake,
 * is the fallback.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EntraIdentityOutageTest {

    static final long FIRST_TOKEN_MS = 6000;
    static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    static Path dir;
    FakeUpstream azure;
    FakeUpstream sambanova;
    FakeIdentity identity;
    GatewayProcess gateway;
    GatewayClient client;
    String token;
    String session;

    @BeforeAll
    void start() throws Exception {
        azure = FakeUpstream.start();
        sambanova = FakeUpstream.start();
        identity = FakeIdentity.appService("outage-token");
        identity.hold(); // from the start: the gateway's first fetch gets no answer
        gateway = GatewayProcess.start(Map.ofEntries(
                Map.entry("LLM_PROVIDER", "azure"),
                Map.entry("LLM_FALLBACK_PROVIDER", "sambanova"),
                Map.entry("AZURE_AI_ENDPOINT", azure.baseUrl()),
                Map.entry("AZURE_AI_DEPLOYMENT", "gpt-4o-prod"),
                Map.entry("AZURE_AI_AUTH", "entra"),
                Map.entry("IDENTITY_ENDPOINT", identity.baseUrl() + "/msi/token"),
                Map.entry("IDENTITY_HEADER", FakeIdentity.IDENTITY_HEADER),
                Map.entry("SAMBANOVA_API_BASE", sambanova.baseUrl() + "/v1"),
                Map.entry("SAMBANOVA_API_KEY", "sn-test-key-0001"),
                Map.entry("SAMBANOVA_MODEL", "Meta-Llama-3.3-70B-Instruct"),
                Map.entry("LLM_FIRST_TOKEN_TIMEOUT_MS", Long.toString(FIRST_TOKEN_MS))), List.of(), dir);
        client = new GatewayClient(gateway.baseUrl());
        token = Jwt.token("entra-outage-user");
        session = client.createSession(token);
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
            String log = gateway.log();
            assertThat(identity.issued()).allSatisfy(t -> assertThat(log).doesNotContain(t));
            assertThat(log).doesNotContain(FakeIdentity.IDENTITY_HEADER);
        }
        identity.close();
        azure.close();
        sambanova.close();
    }

    static Script answer(String text) {
        return Script.sse(Chunks.delta(text), Chunks.finish("stop"), Chunks.usage(3, 1), Chunks.done());
    }

    /** One chat answered by the fallback, and how long it took. */
    long fallbackChat(String text) {
        sambanova.enqueue(answer(text));
        long t0 = System.nanoTime();
        GatewayClient.Answer a = client.chat(session, token, "question for " + text);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo(text);
        return ms;
    }

    void await(String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s within %s", what, WAIT).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    @Test
    @Order(1)
    void anIdentityEndpointThatHangsCostsAChatAtMostTheFirstTokenTimeout() {
        await("the gateway's first token fetch", () -> !identity.requests().isEmpty());

        long ms = fallbackChat("fallback while the identity endpoint hangs");

        assertThat(ms).isLessThan(FIRST_TOKEN_MS + 5000);
        assertThat(azure.requestCount()).isZero();
    }

    @Test
    @Order(2)
    void onceAFetchFailedChatsGoToTheFallbackWithoutWaiting() {
        identity.failWith(500);
        identity.release();
        await("the failed fetch in the log", () -> gateway.log().contains("Entra ID: no token from managed-identity"));

        for (int i = 0; i < 3; i++) {
            long ms = fallbackChat("fallback " + i);
            assertThat(ms).as("chat %d waited for a token", i).isLessThan(FIRST_TOKEN_MS / 2);
        }
        assertThat(azure.requestCount()).isZero();
    }

    @Test
    @Order(3)
    void theTokenComesAsSoonAsTheIdentityEndpointAnswersAgain() {
        identity.failWith(0);
        await("a token from the recovered identity endpoint", () -> !identity.issued().isEmpty());
        await("the token kept", () -> gateway.log().contains("Entra ID: first token from managed-identity"));

        azure.enqueue(answer("from azure"));
        GatewayClient.Answer a = client.chat(session, token, "back to azure");

        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isEqualTo("from azure");
        assertThat(azure.requests()).singleElement().satisfies(r -> assertThat(r.headerValues("authorization"))
                .containsExactly("Bearer " + identity.issued().get(0)));
    }
}
