package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.cobalt.chat.record.TokenEstimator;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.Postgres;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with real processes: a gateway streaming an answer is killed with SIGKILL, and the answer is found
 * after a restart (or by the other instance) as {@code interrupted} with the text of its last checkpoint - a prefix
 * of what the client had received, at least as long as the checkpoint the test saw before the kill. Checkpoints every
 * 0.2 s and leases of 2 s keep it fast. On PostgreSQL a live instance's stream is never swept by another instance.
 */
class CrashRecoveryTest {

    static final Path REPO = Path.of(System.getProperty("user.dir"));
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final String QUESTION = "Tell me a long story";
    static final int PIECES = 120;

    @TempDir
    Path temp;

    FakeUpstream upstream;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void startUpstream() {
        upstream = FakeUpstream.start();
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        upstream.close();
    }

    @Test
    void anAnswerStreamingWhenTheProcessIsKilledIsInterruptedWithItsCheckpointedTextAfterARestartOnH2() throws Exception {
        Map<String, String> db = Map.of("CHAT_DB_URL", "jdbc:h2:file:" + temp.resolve("crash"));
        killMidStreamAndRestart(db);
    }

    @Test
    void anAnswerStreamingWhenTheProcessIsKilledIsInterruptedWithItsCheckpointedTextAfterARestartOnPostgres()
            throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("crash")) {
            killMidStreamAndRestart(postgres(schema));
        }
    }

    @Test
    void anotherInstanceNeverSweepsALiveInstancesStreamButSweepsItOnceTheInstanceIsDeadAndItsLeaseExpired()
            throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("crash2")) {
            Gateway a = start(postgres(schema));
            Gateway b = start(postgres(schema));
            String token = Jwt.token("crash-two");
            String session = a.client.createSession(token);

            // A streams an answer and holds it for longer than two leases while B keeps checking
            CountDownLatch release = new CountDownLatch(1);
            upstream.enqueue(Script.sse(Chunks.delta("Still "), Chunks.delta("alive"))
                    .holdUntil(release)
                    .chunk(Chunks.delta(" and done.")).chunk(Chunks.finish("stop")).chunk(Chunks.usage(6, 3))
                    .chunk(Chunks.done()));
            LiveRead held = LiveRead.open(a.client.openChat(session, token, QUESTION));
            JsonNode seen = awaitAnswer(b, session, token, m -> "streaming".equals(m.get("status").asText())
                    && "Still alive".equals(m.get("content").asText()));
            assertThat(seen.get("content").asText()).isEqualTo("Still alive");
            // lease 2 s, B sweeps on its 0.2 s ticks: a lease A did not renew would be swept within this
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3500);
            while (System.nanoTime() < until) { // each GET paces the loop
                JsonNode answer = b.client.session(session, token).get("messages").get(1);
                assertThat(answer.get("status").asText()).as("A's live answer, as B sees it").isEqualTo("streaming");
            }
            release.countDown();
            assertThat(held.awaitEnd()).isEqualTo("data: {\"content\":\"Still \",\"done\":false}\n\n"
                    + "data: {\"content\":\"alive\",\"done\":false}\n\n"
                    + "data: {\"content\":\" and done.\",\"done\":false}\n\n"
                    + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                    + "data: [DONE]\n\n");
            JsonNode done = b.client.session(session, token).get("messages").get(1);
            assertThat(done.get("status").asText()).isEqualTo("complete");
            assertThat(done.get("content").asText()).isEqualTo("Still alive and done.");

            // A streams again and dies: B sweeps the answer once A's lease ran out
            upstream.enqueue(slowStory());
            LiveRead live = LiveRead.open(a.client.openChat(session, token, QUESTION));
            String checkpointed = completedCheckpoint(b, session, token, 3);
            a.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            String received = live.awaitEnd();

            JsonNode swept = awaitAnswer(b, session, token, 3,
                    m -> "interrupted".equals(m.get("status").asText()));
            assertCheckpointed(swept.get("content").asText(), checkpointed, LiveRead.text(received));
        }
    }

    @Test
    void anAnswerLostInACrashIsInTheUsageReportWithItsEstimatedTokensAfterTheSweepOnH2() throws Exception {
        usageOfAnAnswerLostInACrash(Map.of("CHAT_DB_URL", "jdbc:h2:file:" + temp.resolve("crash-usage")));
    }

    @Test
    void anAnswerLostInACrashIsInTheUsageReportWithItsEstimatedTokensAfterTheSweepOnPostgres() throws Exception {
        try (Postgres.Schema schema = Postgres.newSchema("crashusage")) {
            usageOfAnAnswerLostInACrash(postgres(schema));
        }
    }

    // ------------------------------------------------------------------------------- the kill and the restart

    /**
     * The provider produced (and billed) the tokens of an answer lost with its instance: the sweep stores them,
     * estimated - the prompt as the gateway sent it (system prompt, the earlier exchange, the question), the
     * checkpointed text as completion - and priced (application.properties: 0.60 and 1.20 USD per million).
     */
    void usageOfAnAnswerLostInACrash(Map<String, String> db) throws Exception {
        String model = "Meta-Llama-3.3-70B-Instruct";
        Gateway first = start(db);
        String token = Jwt.token("crash-usage");
        String session = first.client.createSession(token, "{\"system_prompt\":\"You are a storyteller.\"}");
        upstream.enqueue(Script.sse(Chunks.delta("Hello there."), Chunks.finish("stop"), Chunks.usage(11, 3),
                Chunks.done()));
        assertThat(first.client.chat(session, token, "Hi").body()).endsWith("data: [DONE]\n\n");
        upstream.takeRequest(Duration.ofSeconds(5));
        upstream.enqueue(slowStory());
        LiveRead live = LiveRead.open(first.client.openChat(session, token, QUESTION));
        List<ContextMessage> sent = List.of(new ContextMessage("system", "You are a storyteller."),
                new ContextMessage("user", "Hi"), new ContextMessage("assistant", "Hello there."),
                new ContextMessage("user", QUESTION));
        assertThat(GatewayClient.json(upstream.takeRequest(Duration.ofSeconds(5)).body()).get("messages").toString())
                .isEqualTo(GatewayClient.JSON.writeValueAsString(sent));
        completedCheckpoint(first, session, token, 3);
        first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        live.awaitEnd();

        Gateway second = start(db);
        JsonNode answer = awaitAnswer(second, session, token, 3, m -> "interrupted".equals(m.get("status").asText()));
        String stored = answer.get("content").asText();
        assertThat(pieces(stored)).isGreaterThanOrEqualTo(5);
        TokenEstimator estimator = new TokenEstimator();
        int prompt = estimator.prompt(sent, model);
        int completion = estimator.completion(stored, model);
        assertThat(completion).isGreaterThan(5);

        HttpResponse<String> r = second.client.get("/api/v1/usage?group_by=model", token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode total = GatewayClient.json(r.body()).get("total");
        assertThat(total.get("answers").asLong()).isEqualTo(2);
        assertThat(total.get("estimated_answers").asLong()).isEqualTo(1);
        assertThat(total.get("estimated_prompt_tokens").asLong()).isEqualTo(prompt);
        assertThat(total.get("estimated_completion_tokens").asLong()).isEqualTo(completion);
        assertThat(total.get("prompt_tokens").asLong()).isEqualTo(11 + prompt);
        assertThat(total.get("completion_tokens").asLong()).isEqualTo(3 + completion);
        assertThat(total.get("unpriced_answers").asLong()).isZero();
        BigDecimal cost = new BigDecimal("0.60").multiply(BigDecimal.valueOf(11 + prompt))
                .add(new BigDecimal("1.20").multiply(BigDecimal.valueOf(3 + completion)))
                .divide(BigDecimal.valueOf(1_000_000));
        assertThat(total.get("cost_usd").decimalValue()).isEqualByComparingTo(cost);
        assertThat(GatewayClient.json(r.body()).get("groups").get(0).get("key").asText()).isEqualTo(model);
    }


    void killMidStreamAndRestart(Map<String, String> db) throws Exception {
        Gateway first = start(db);
        String token = Jwt.token("crash-alice");
        String session = first.client.createSession(token);
        upstream.enqueue(slowStory());

        LiveRead live = LiveRead.open(first.client.openChat(session, token, QUESTION));
        String checkpointed = completedCheckpoint(first, session, token, 1);
        first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        String received = live.awaitEnd();
        assertThat(received).doesNotContain("[DONE]").doesNotContain("event: error");

        Gateway second = start(db);
        JsonNode answer = awaitAnswer(second, session, token, m -> "interrupted".equals(m.get("status").asText()));
        JsonNode messages = second.client.session(session, token).get("messages");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("role").asText()).isEqualTo("user");
        assertThat(messages.get(0).get("content").asText()).isEqualTo(QUESTION);
        assertThat(messages.get(0).get("status").asText()).isEqualTo("complete");
        assertThat(answer.get("role").asText()).isEqualTo("assistant");
        assertThat(answer.get("model").asText()).isEqualTo("Meta-Llama-3.3-70B-Instruct");
        assertCheckpointed(answer.get("content").asText(), checkpointed, LiveRead.text(received));

        // the interrupted exchange is not context for the next message
        upstream.takeRequest(Duration.ofSeconds(5));
        upstream.enqueue(Script.sse(Chunks.delta("Fresh."), Chunks.finish("stop"), Chunks.usage(3, 1), Chunks.done()));
        GatewayClient.Answer next = second.client.chat(session, token, "And now?");
        assertThat(next.body()).endsWith("data: [DONE]\n\n");
        assertThat(GatewayClient.json(upstream.takeRequest(Duration.ofSeconds(5)).body()).get("messages").toString())
                .isEqualTo("[{\"role\":\"user\",\"content\":\"And now?\"}]");
    }

    /**
     * Waits until the answer is streaming with at least 5 pieces, then until a later checkpoint shows more text, and
     * returns the earlier text: the tick that wrote it had finished (on H2 including its CHECKPOINT to the file)
     * before the next tick wrote the later one. That is the last checkpoint the kill must not lose.
     */
    static String completedCheckpoint(Gateway via, String session, String token, int index) {
        String first = awaitAnswer(via, session, token, index, m -> "streaming".equals(m.get("status").asText())
                && pieces(m.get("content").asText()) >= 5).get("content").asText();
        awaitAnswer(via, session, token, index, m -> "streaming".equals(m.get("status").asText())
                && m.get("content").asText().length() > first.length());
        return first;
    }

    /** 120 pieces "w000 ", "w001 ", ... 50 ms apart (6 s), then the upstream stalls: the kill comes well before. */
    static Script slowStory() {
        Script s = Script.sse();
        for (int i = 0; i < PIECES; i++) {
            s.chunk(Chunks.delta(piece(i))).delay(Duration.ofMillis(50));
        }
        return s.stall();
    }

    static String piece(int i) {
        return String.format("w%03d ", i);
    }

    static int pieces(String text) {
        return text.length() / piece(0).length();
    }

    /**
     * The stored text is whole pieces from the start, a prefix of what the client received before the kill, and holds
     * at least everything of the checkpoint the test saw.
     */
    static void assertCheckpointed(String stored, String checkpointed, String received) {
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < pieces(stored); i++) {
            expected.append(piece(i));
        }
        assertThat(stored).isEqualTo(expected.toString());
        assertThat(received).startsWith(stored);
        assertThat(stored).startsWith(checkpointed);
        assertThat(pieces(stored)).isGreaterThanOrEqualTo(5);
    }

    // ------------------------------------------------------------------------------- processes

    record Gateway(Process process, GatewayClient client, String log) {
    }

    Map<String, String> postgres(Postgres.Schema schema) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CHAT_DB_URL", schema.url());
        env.put("CHAT_DB_USER", Postgres.USER);
        env.put("CHAT_DB_PASSWORD", "");
        return env;
    }

    Gateway start(Map<String, String> db) throws Exception {
        int port = freePort();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("LLM_PROVIDER", "sambanova");
        env.put("SAMBANOVA_API_BASE", upstream.baseUrl() + "/v1");
        env.put("SAMBANOVA_API_KEY", "sn-test-key-0001");
        env.put("SAMBANOVA_MODEL", "Meta-Llama-3.3-70B-Instruct");
        env.put("CHAT_JWT_SECRET", RunningGateway.JWT_SECRET);
        env.put("HTTP_PORT", String.valueOf(port));
        env.put("MANAGEMENT_PORT", String.valueOf(freePort()));
        env.put("LLM_MAX_RETRIES", "0");
        env.put("LLM_CATALOG_CHECK_ENABLED", "false");
        env.put("CHAT_CHECKPOINT_SECONDS", "0.2");
        env.put("CHAT_STREAM_LEASE_SECONDS", "2");
        env.putAll(db);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "com.cobalt.chat.Application");
        pb.directory(REPO.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LLM_") || k.startsWith("CHAT_")
                || k.startsWith("SAMBANOVA_") || k.startsWith("AZURE_") || k.startsWith("HTTP_")
                || k.startsWith("MANAGEMENT_") || k.equals("COBALT_HOME") || k.startsWith("CAMEL_"));
        pb.environment().putAll(env);
        File log = temp.resolve("gateway-" + port + ".log").toFile();
        pb.redirectErrorStream(true).redirectOutput(log);
        Process p = pb.start();
        processes.add(p);
        Gateway g = new Gateway(p, new GatewayClient("http://127.0.0.1:" + port), log.toString());
        awaitReady(g, port);
        return g;
    }

    static void awaitReady(Gateway g, int port) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/models");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && g.process.isAlive()) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2))
                        .header("Authorization", "Bearer " + Jwt.token("ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            g.process.waitFor(100, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("the gateway did not start: " + java.nio.file.Files.readString(Path.of(g.log)));
    }

    static JsonNode awaitAnswer(Gateway via, String session, String token, Predicate<JsonNode> condition) {
        return awaitAnswer(via, session, token, 1, condition);
    }

    /** Polls the session until its message number {@code index} meets the condition (10 s at most). */
    static JsonNode awaitAnswer(Gateway via, String session, String token, int index, Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode messages = null;
        while (System.nanoTime() < deadline) {
            messages = via.client.session(session, token).get("messages");
            if (messages.size() > index && condition.test(messages.get(index))) {
                return messages.get(index);
            }
            try {
                via.process.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("session " + session + " never had the expected answer: " + messages);
    }

    static int freePort() {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }

    /** The client's side of a live answer: read on a thread of its own, to its end (or the connection's). */
    static final class LiveRead {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CompletableFuture<Void> done;

        private LiveRead(InputStream in) {
            done = CompletableFuture.runAsync(() -> {
                byte[] buffer = new byte[4096];
                try (in) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        synchronized (got) {
                            got.write(buffer, 0, n);
                        }
                    }
                } catch (IOException connectionGone) {
                    // the process died: what arrived before is what the client got
                }
            });
        }

        static LiveRead open(HttpResponse<InputStream> response) {
            assertThat(response.statusCode()).isEqualTo(200);
            return new LiveRead(response.body());
        }

        String awaitEnd() throws Exception {
            done.get(15, TimeUnit.SECONDS);
            synchronized (got) {
                return got.toString(StandardCharsets.UTF_8);
            }
        }

        /** The answer text of the complete data events. */
        static String text(String body) {
            StringBuilder text = new StringBuilder();
            int end;
            int from = 0;
            while ((end = body.indexOf("\n\n", from)) >= 0) {
                String event = body.substring(from, end);
                from = end + 2;
                if (event.startsWith("data: {")) {
                    JsonNode n = GatewayClient.json(event.substring(6));
                    if (!n.path("done").asBoolean(true)) {
                        text.append(n.get("content").asText());
                    }
                }
            }
            return text.toString();
        }
    }
}
