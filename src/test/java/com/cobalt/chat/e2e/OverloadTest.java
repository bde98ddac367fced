package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.HeldUpstream;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The chat workers run only the blocking steps (the database); when every one of them is busy and the chat queue is
 * full, a new chat is refused at once with 503 overloaded and Retry-After instead of queueing without bound. The
 * workers are made busy for real: the shared limits' row of the user is locked in PostgreSQL by the test, so every
 * admission of that user blocks on the database.
 */
class OverloadTest {

    static final int CHAT_WORKERS = 2;
    static final int CHAT_QUEUE = 2;

    @Test
    void aFullChatPoolRefusesAtOnce() throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("overload");
             HeldUpstream upstream = HeldUpstream.start(0);
             RunningGateway g = RunningGateway.start(Map.ofEntries(Map.entry("chat.db.url", schema.url()),
                     Map.entry("chat.db.user", Postgres.USER), Map.entry("chat.db.password", ""),
                     Map.entry("llm.provider", "sambanova"),
                     Map.entry("sambanova.api-base", upstream.baseUrl() + "/v1"),
                     Map.entry("sambanova.api-key", "sn-test-key-0001"),
                     Map.entry("sambanova.model", "Meta-Llama-3.3-70B-Instruct"),
                     Map.entry("http.worker-pool-size", String.valueOf(CHAT_WORKERS)),
                     Map.entry("http.chat-queue-size", String.valueOf(CHAT_QUEUE)),
                     Map.entry("chat.shutdown-grace-seconds", "1")))) {
            String user = "overloaded-olga";
            String token = Jwt.token(user);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest chat = HttpRequest.newBuilder(URI.create(g.baseUrl() + "/v1/chat/completions"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"Meta-Llama-3.3-70B-Instruct\","
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"wait\"}]}")).build();

            try (Connection lock = DriverManager.getConnection(schema.url(), Postgres.USER, "")) {
                try (Statement s = lock.createStatement()) {
                    s.execute("INSERT INTO user_limit_lock (user_id, last_seq) VALUES ('" + user + "', 0)");
                }
                lock.setAutoCommit(false);
                try (Statement s = lock.createStatement()) {
                    s.execute("SELECT last_seq FROM user_limit_lock WHERE user_id = '" + user + "' FOR UPDATE");
                }

                List<CompletableFuture<HttpResponse<String>>> blocked = new ArrayList<>();
                HttpResponse<String> refused = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (refused == null && System.nanoTime() < deadline) {
                    CompletableFuture<HttpResponse<String>> next = http.sendAsync(chat,
                            HttpResponse.BodyHandlers.ofString());
                    long started = System.nanoTime();
                    try {
                        // a refusal slower than this would be counted as blocked: 300 ms was within a loaded
                        // machine's stalls; a chat the pool holds never answers while the lock is held
                        HttpResponse<String> r = next.get(Duration.ofSeconds(2).toMillis(),
                                java.util.concurrent.TimeUnit.MILLISECONDS);
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                        assertThat((System.nanoTime() - started) / 1_000_000).as("refused at once").isLessThan(2000);
                        refused = r;
                    } catch (java.util.concurrent.TimeoutException stillBlocked) {
                        blocked.add(next); // held by a worker or in the queue
                    }
                }
                assertThat(refused).as("a chat beyond the workers and the queue is refused").isNotNull();
                assertThat(blocked).hasSize(CHAT_WORKERS + CHAT_QUEUE);
                JsonNode error = GatewayClient.json(refused.body()).get("error");
                assertThat(error.get("code").asText()).isEqualTo("overloaded");
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(upstream.requestCount()).isZero();

                // the lock goes: the blocked chats are admitted and reach the provider
                lock.rollback();
                upstream.awaitRequests(CHAT_WORKERS + CHAT_QUEUE, Duration.ofSeconds(20));
                upstream.close();
                CompletableFuture.allOf(blocked.toArray(CompletableFuture[]::new)).get();
                assertThat(blocked).allMatch(b -> b.join().statusCode() == 503
                        && b.join().body().contains("\"code\":\"provider_unavailable\""));
            }
        }
    }
}
