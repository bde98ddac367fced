package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeIdentity;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.GatewayProcess;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * AZURE_AI_AUTH=entra with AKS workload identity: the environment the workload identity webhook sets
 * (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE), the federated token exchanged at a fake Entra ID
 * token endpoint over HTTPS (AZURE_AUTHORITY_HOST, test trust store) as a client assertion.
 */
@Timeout(300)
class EntraWorkloadIdentityTest {

    static final String FEDERATED = "eyJhbGciOiJSUzI1NiJ9.DISTINCTIVE-federated-service-account-token.c2ln";

    @TempDir
    Path dir;

    @Test
    void theFederatedTokenIsExchangedForAnEntraTokenThatAzureGets() throws Exception {
        Path store = dir.resolve("authority.p12");
        Path federated = Files.writeString(dir.resolve("azure-identity-token"), FEDERATED + "\n");
        try (FakeUpstream azure = FakeUpstream.start();
             FakeIdentity authority = FakeIdentity.authority("wi-token", store);
             GatewayProcess gateway = GatewayProcess.start(Map.of(
                     "LLM_PROVIDER", "azure",
                     "AZURE_AI_ENDPOINT", azure.baseUrl() + "/openai/v1",
                     "AZURE_AI_DEPLOYMENT", "gpt-4o-aks",
                     "AZURE_AI_AUTH", "entra",
                     "AZURE_TENANT_ID", "tenant-aks",
                     "AZURE_CLIENT_ID", "client-aks",
                     "AZURE_FEDERATED_TOKEN_FILE", federated.toString(),
                     "AZURE_AUTHORITY_HOST", authority.baseUrl()),
                     List.of("-Djavax.net.ssl.trustStore=" + store, "-Djavax.net.ssl.trustStoreType=PKCS12",
                             "-Djavax.net.ssl.trustStorePassword=" + FakeIdentity.STORE_PASSWORD), dir)) {
            GatewayClient client = new GatewayClient(gateway.baseUrl());
            String token = Jwt.token("aks-user");
            String session = client.createSession(token);
            azure.enqueue(Script.sse(Chunks.delta("from aks"), Chunks.finish("stop"), Chunks.done()));

            GatewayClient.Answer a = client.chat(session, token, "Hi");

            assertThat(a.status()).as(a.body()).isEqualTo(200);
            assertThat(a.text()).isEqualTo("from aks");
            assertThat(azure.requests()).singleElement().satisfies(r -> {
                assertThat(r.path()).isEqualTo("/openai/v1/chat/completions");
                assertThat(r.headerValues("authorization")).containsExactly("Bearer wi-token-1");
                assertThat(r.headers().get("api-key")).isNull();
            });
            assertThat(authority.requests()).singleElement().satisfies(r -> {
                assertThat(r.path()).isEqualTo("/tenant-aks/oauth2/v2.0/token");
                assertThat(r.form()).containsEntry("client_id", "client-aks")
                        .containsEntry("client_assertion", FEDERATED)
                        .containsEntry("client_assertion_type",
                                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                        .containsEntry("grant_type", "client_credentials");
            });
            gateway.close();
            assertThat(gateway.log()).doesNotContain(FEDERATED).doesNotContain("wi-token-1");
        }
    }
}
