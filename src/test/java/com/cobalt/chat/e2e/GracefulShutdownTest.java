package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real process and a real SIGTERM: {@code java com.cobalt.chat.Application} in the repository root against a
 * fake SambaNova, with a file H2 database and a one-second shutdown grace. After the signal, new requests get 503
 * {@code shutting_down}; a stream that outlives the grace is ended with an {@code error} event and stored as
 * interrupted; a stream that finishes within the grace is delivered whole and stored complete. The stored rows are
 * read from the database file after the process is gone.
 *
 * <p>Both processes start together in {@link #startAll()} (one JVM start's worth of waiting, not two); each test
 * owns one of them and kills it forcibly when done.
 */
class GracefulShutdownTest {

    static final String SSE = "text/event-stream; charset=utf-8";
    static final String REFUSED = "{\"error\":{\"code\":\"shutting_down\",\"message\":\"The gateway is shutting down\"}}";
    static final String ENDED = "event: error\n"
            + "data: {\"error\":{\"code\":\"shutting_down\","
            + "\"message\":\"The gateway is shutting down; the partial answer was kept\"}}\n\n";
    static final List<String> CLEARED_PREFIXES =
            List.of("LLM_", "SAMBANOVA_", "AZURE_", "CHAT_", "DEMO_", "HTTP_", "MANAGEMENT_", "CAMEL_");
    /**
     * The JVM's status after SIGTERM: 128 + 15. Camel Main's shutdown hook waits for the context to stop, so the
     * hooks finish after the graceful stop and the JVM then exits with the signal's status; the {@code
     * System.exit(code)} in {@code Application.main} comes while the hooks run and does not change it.
     */
    static final int SIGTERM_EXIT = 143;

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    static Gateway stalling;
    static Gateway quick;

    @BeforeAll
    static void startAll() {
        // both fakes bind before either gateway's ports are drawn: a fake bound later could take one of them
        FakeUpstream stallUpstream = FakeUpstream.start();
        FakeUpstream quickUpstream = FakeUpstream.start();
        stalling = Gateway.start("stall", stallUpstream);
        quick = Gateway.start("quick", quickUpstream);
        // both ready before either test runs, so no JVM start competes with a test's timing
        stalling.awaitReady();
        quick.awaitReady();
    }

    @AfterAll
    static void stopAll() {
        for (Gateway g : new Gateway[] {stalling, quick}) {
            if (g != null) {
                g.kill();
            }
        }
    }

    @Test
    void aStreamThatOutlivesTheGraceIsEndedWithShuttingDownAndStoredInterruptedWhileNewRequestsGet503() throws Exception {
        Gateway g = stalling;
        try {
            g.warmUp();
            g.upstream.enqueue(Script.sse(Chunks.delta("Partial ")).stall());
            String session = g.createSession();

            LiveBody stream = g.openChat(session, "Tell me a long story");
            assertThat(stream.status).isEqualTo(200);
            assertThat(stream.contentType).isEqualTo(SSE);
            stream.awaitText("data: {\"content\":\"Partial \",\"done\":false}\n\n", Duration.ofSeconds(5));
            long sigterm = g.sigterm();

            // new requests until the process has exited (at most 20 s); (a) is asserted last, after what it would hide
            Shutdown shutdown = g.pollNewRequestsUntilExit(stream, sigterm, Duration.ofSeconds(20));
            assertThat(shutdown.streamAtFirst503()).as("the stream when the first 503 came; " + shutdown)
                    .isEqualTo("data: {\"content\":\"Partial \",\"done\":false}\n\n");
            assertThat(shutdown.streamEndedAtFirst503()).as("the stream had ended when the first 503 came").isFalse();

            // (b) after the 1 s grace the open stream ends with the shutting_down error event, no [DONE]
            String body = stream.awaitEnd(Duration.ofSeconds(5));
            assertThat(body).as(g::describe).isEqualTo("data: {\"content\":\"Partial \",\"done\":false}\n\n" + ENDED);
            assertThat(body).doesNotContain("[DONE]");
            assertThat(stream.endedMillisAfter(sigterm)).as("the stream gets the 1 s grace, then ends")
                    .isBetween(1000L, 10_000L);

            // (c) the process exits by itself, with the SIGTERM status, within 20 s
            assertThat(g.process.exitValue()).as(g::describe).isEqualTo(SIGTERM_EXIT);

            // (d) the upstream request was cancelled
            assertThat(g.upstream.awaitDisconnect(Duration.ofSeconds(2))).as("upstream saw the disconnect").isTrue();
            assertThat(g.upstream.requestCount()).isEqualTo(1);

            // (e) the partial answer is in the database file
            assertThat(g.storedMessages(session)).as(g::describe).containsExactly(
                    new Stored("user", "Tell me a long story", "complete"),
                    new Stored("assistant", "Partial ", "interrupted"));

            // (a) after the signal, the first answer that is not an accepted 201 is the 503 shutting_down, and so is
            // every later one until the server no longer answers
            shutdown.assertRefusedWith503(g);
        } finally {
            g.kill();
        }
    }

    @Test
    void aStreamThatFinishesWithinTheGraceIsDeliveredWholeAndStoredComplete() throws Exception {
        Gateway g = quick;
        try {
            g.warmUp();
            g.upstream.enqueue(Script.sse(Chunks.delta("Quick"))
                    .delay(Duration.ofMillis(300))
                    .chunk(Chunks.delta(" answer"))
                    .chunk(Chunks.finish("stop"))
                    .chunk(Chunks.done()));
            String session = g.createSession();

            LiveBody stream = g.openChat(session, "Be quick");
            assertThat(stream.status).isEqualTo(200);
            assertThat(stream.contentType).isEqualTo(SSE);
            stream.awaitText("data: {\"content\":\"Quick\",\"done\":false}\n\n", Duration.ofSeconds(5));
            long sigterm = g.sigterm();

            // the signal must come while the stream is live: the gateway refused a new request before it ended
            Shutdown shutdown = g.pollNewRequestsUntilExit(stream, sigterm, Duration.ofSeconds(20));
            assertThat(shutdown.streamAtFirst503()).as("a 503 came; " + shutdown).isNotNull();
            assertThat(shutdown.streamEndedAtFirst503()).as("the stream had ended when the first 503 came; " + shutdown)
                    .isFalse();

            String body = stream.awaitEnd(Duration.ofSeconds(5));
            assertThat(body).as(g::describe).isEqualTo(
                    "data: {\"content\":\"Quick\",\"done\":false}\n\n"
                            + "data: {\"content\":\" answer\",\"done\":false}\n\n"
                            + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                            + "data: [DONE]\n\n");

            assertThat(g.process.exitValue()).as(g::describe).isEqualTo(SIGTERM_EXIT);
            assertThat(g.upstream.disconnects()).as("the upstream stream ended cleanly").isZero();

            assertThat(g.storedMessages(session)).as(g::describe).containsExactly(
                    new Stored("user", "Be quick", "complete"),
                    new Stored("assistant", "Quick answer", "complete"));

            shutdown.assertRefusedWith503(g);
        } finally {
            g.kill();
        }
    }

    // ------------------------------------------------------------------------------------------ the process

    record Stored(String role, String content, String status) {
    }

    /**
     * What new requests got after the SIGTERM, in order: {@code 201} (accepted before the gateway noticed the
     * signal), {@code 503 <body>}, {@code <status> <body>} for anything else, or {@code gone: <exception>} once the
     * server no longer answers; and the open stream's text, and whether it had ended, when the first 503 came.
     */
    record Shutdown(List<String> answers, String streamAtFirst503, boolean streamEndedAtFirst503) {

        /** After the accepted ones, the first answer is the 503 and every later one a 503 or a closed server. */
        void assertRefusedWith503(Gateway g) {
            List<String> afterSignal = answers.stream().dropWhile("201"::equals).toList();
            String trail = "\nanswers to POST /api/v1/chat/sessions after SIGTERM: " + answers + g.describe();
            assertThat(afterSignal).as(trail).isNotEmpty();
            // with a Retry-After, as every other 503: the balancer's other instances can take the retry at once
            String refused = "503 " + REFUSED + " Retry-After: 1";
            assertThat(afterSignal.get(0)).as(trail).isEqualTo(refused);
            assertThat(afterSignal).as(trail)
                    .allSatisfy(a -> assertThat(a.equals(refused) || a.startsWith("gone: ")).as(a).isTrue());
        }
    }

    /** One gateway process with its own fake upstream, ports and database directory. */
    static final class Gateway {
        final String name;
        final FakeUpstream upstream;
        final Path dataDir;
        final String baseUrl;
        final Process process;
        final Output out;
        final Output err;
        volatile boolean terminated;

        private Gateway(String name, FakeUpstream upstream, Path dataDir, int httpPort, Process process) {
            this.name = name;
            this.upstream = upstream;
            this.dataDir = dataDir;
            this.baseUrl = "http://127.0.0.1:" + httpPort;
            this.process = process;
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.out = new Output(process.getInputStream(), name + "-stdout");
            this.err = new Output(process.getErrorStream(), name + "-stderr");
        }

        static Gateway start(String name, FakeUpstream upstream) {
            try {
                Path dataDir = Files.createTempDirectory("graceful-shutdown-" + name);
                int httpPort = freePort();
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                        "com.cobalt.chat.Application");
                pb.directory(Path.of(System.getProperty("user.dir")).toFile());
                Map<String, String> env = pb.environment();
                env.keySet().removeIf(k -> CLEARED_PREFIXES.stream().anyMatch(k::startsWith));
                env.put("LLM_PROVIDER", "sambanova");
                env.put("SAMBANOVA_API_BASE", upstream.baseUrl() + "/v1");
                env.put("SAMBANOVA_API_KEY", "k");
                env.put("SAMBANOVA_MODEL", "m");
                // the catalog check asks the fake for its models in the background once the gateway is up: it could
                // take the warm-up chat's script off the fake's queue (as it did once in CI), leaving the chat a 500
                env.put("LLM_CATALOG_CHECK_ENABLED", "false");
                env.put("CHAT_AUTH_DISABLED", "true");
                env.put("HTTP_PORT", String.valueOf(httpPort));
                env.put("MANAGEMENT_PORT", String.valueOf(freePort()));
                env.put("CHAT_DB_URL", jdbcUrl(dataDir));
                env.put("CHAT_SHUTDOWN_GRACE_SECONDS", "1");
                return new Gateway(name, upstream, dataDir, httpPort, pb.start());
            } catch (IOException e) {
                upstream.close();
                throw new UncheckedIOException(e);
            }
        }

        static String jdbcUrl(Path dataDir) {
            return "jdbc:h2:file:" + dataDir.resolve("db").toAbsolutePath();
        }

        /** Polls GET /api/v1/chat/sessions until it answers 200. */
        void awaitReady() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            String last = "nothing yet";
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new AssertionError("the gateway exited before it answered" + describe());
                }
                try {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/chat/sessions"))
                            .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        return;
                    }
                    last = r.statusCode() + " " + r.body();
                } catch (IOException e) {
                    last = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            throw new AssertionError("the gateway did not answer within 40 s (last: " + last + ")" + describe());
        }

        String createSession() throws IOException, InterruptedException {
            HttpResponse<String> r = postSession();
            if (r.statusCode() != 201) {
                throw new AssertionError("session not created: " + r.statusCode() + " " + r.body());
            }
            return GatewayClient.json(r.body()).get("id").asText();
        }

        HttpResponse<String> postSession() throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/chat/sessions"))
                    .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        }

        /**
         * Sends POST /api/v1/chat/sessions every 20 ms until the process has exited
         * (AssertionError if that takes longer than {@code exitTimeout} from the SIGTERM). Repeated answers are
         * recorded once in a row, so the list stays short.
         */
        Shutdown pollNewRequestsUntilExit(LiveBody stream, long sigterm, Duration exitTimeout)
                throws InterruptedException {
            long deadline = sigterm + exitTimeout.toNanos();
            List<String> answers = new ArrayList<>();
            String streamAtFirst503 = null;
            boolean streamEndedAtFirst503 = false;
            while (process.isAlive()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the gateway did not exit within " + exitTimeout + " of SIGTERM; "
                            + "answers so far: " + answers + describe());
                }
                String answer;
                try {
                    HttpResponse<String> r = postSession();
                    answer = r.statusCode() == 201 ? "201" : r.statusCode() + " " + r.body()
                            + r.headers().firstValue("Retry-After").map(v -> " Retry-After: " + v).orElse("");
                    if (r.statusCode() == 503 && streamAtFirst503 == null) {
                        streamEndedAtFirst503 = stream.hasEnded();
                        streamAtFirst503 = stream.text();
                    }
                } catch (IOException e) {
                    answer = "gone: " + e.getClass().getSimpleName();
                }
                if (answers.isEmpty() || !answers.get(answers.size() - 1).equals(answer)) {
                    answers.add(answer);
                }
                process.waitFor(20, TimeUnit.MILLISECONDS);
            }
            return new Shutdown(answers, streamAtFirst503, streamEndedAtFirst503);
        }

        LiveBody openChat(String session, String content) throws IOException, InterruptedException {
            HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/chat/sessions/" + session + "/messages"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"content\":" + Chunks.json(content) + "}")).build();
            HttpResponse<InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
            return new LiveBody(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), r.body());
        }

        /** One complete chat in a session of its own, so the test's stream does not meet a cold JVM. */
        void warmUp() throws IOException, InterruptedException {
            upstream.enqueue(Script.sse(Chunks.delta("Warm"), Chunks.finish("stop"), Chunks.done()));
            String session = createSession();
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                            URI.create(baseUrl + "/api/v1/chat/sessions/" + session + "/messages"))
                    .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"content\":\"Hi\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(() -> r.body() + "\n--- gateway stderr ---\n" + err.text(Duration.ZERO)
                    + "\n--- gateway stdout ---\n" + out.text(Duration.ZERO)).isEqualTo(200);
            assertThat(r.body()).isEqualTo("data: {\"content\":\"Warm\",\"done\":false}\n\n"
                    + "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n"
                    + "data: [DONE]\n\n");
            upstream.takeRequest(Duration.ofSeconds(1));
            upstream.reset();
        }

        /** The session's messages as stored in the database file, oldest first (user before assistant). */
        List<Stored> storedMessages(String session) throws SQLException {
            List<Stored> rows = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(jdbcUrl(dataDir), "sa", "");
                 PreparedStatement s = c.prepareStatement("SELECT role, content, status FROM chat_message"
                         + " WHERE session_id = ? ORDER BY created_at, CASE role WHEN 'user' THEN 0 ELSE 1 END")) {
                s.setString(1, session);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Stored(rs.getString(1), rs.getString(2), rs.getString(3)));
                    }
                }
            }
            return rows;
        }

        void kill() {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            upstream.close();
            if (!process.isAlive()) {
                deleteQuietly(dataDir);
            }
        }

        /**
         * Sends SIGTERM; returns when, in {@link System#nanoTime()}. Through the {@link ProcessHandle}: {@link
         * Process#destroy()} sends the same signal but also closes this side of the output pipes, which would lose
         * the gateway's shutdown log.
         */
        long sigterm() {
            terminated = true;
            long now = System.nanoTime();
            assertThat(process.toHandle().destroy()).as("SIGTERM sent").isTrue();
            return now;
        }

        /** The process's state and output; after the SIGTERM it first waits a while for the exit, for the whole log. */
        String describe() {
            if (terminated) {
                try {
                    process.waitFor(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Duration wait = process.isAlive() ? Duration.ZERO : Duration.ofSeconds(2);
            String stdout = out.text(wait);
            int started = stdout.indexOf(") started in ");
            if (started >= 0) { // the startup log is long and rarely the point
                stdout = "(startup log left out)\n" + stdout.substring(stdout.lastIndexOf('\n', started) + 1);
            }
            return "\n--- " + name + " gateway: " + (process.isAlive() ? "running" : "exit " + process.exitValue())
                    + "\n--- stderr ---\n" + err.text(wait) + "\n--- stdout ---\n" + stdout;
        }

        private static void deleteQuietly(Path dir) {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp dir left behind is harmless
            }
        }
    }

    /** A process's output stream, drained on its own thread as it comes (a full pipe would block the process). */
    static final class Output {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CompletableFuture<Void> closed = new CompletableFuture<>();

        Output(InputStream in, String name) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (in) {
                    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                        synchronized (buffer) {
                            buffer.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // the process is gone; what was read is kept
                }
                closed.complete(null);
            }, "drain-" + name);
            t.setDaemon(true);
            t.start();
        }

        /** The output so far, after waiting up to {@code wait} for its end. */
        String text(Duration wait) {
            try {
                closed.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // not ended yet: what is there so far
            }
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** A response body read on its own thread as it arrives, so the test can wait for parts of it with deadlines. */
    static final class LiveBody {
        final int status;
        final String contentType;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final CompletableFuture<String> end = new CompletableFuture<>();
        private volatile long endedNanos;

        LiveBody(int status, String contentType, InputStream in) {
            this.status = status;
            this.contentType = contentType;
            Thread t = new Thread(() -> {
                byte[] buf = new byte[4096];
                try (in) {
                    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                        synchronized (received) {
                            received.write(buf, 0, n);
                            received.notifyAll();
                        }
                    }
                    endedNanos = System.nanoTime();
                    end.complete(text());
                } catch (IOException e) {
                    end.completeExceptionally(new AssertionError("the stream failed after: " + text(), e));
                }
                synchronized (received) {
                    received.notifyAll();
                }
            }, "live-body");
            t.setDaemon(true);
            t.start();
        }

        boolean hasEnded() {
            return end.isDone();
        }

        String text() {
            synchronized (received) {
                return received.toString(StandardCharsets.UTF_8);
            }
        }

        /** Waits until the body so far begins with {@code expected} (then checks that it is exactly that). */
        void awaitText(String expected, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (received) {
                while (!received.toString(StandardCharsets.UTF_8).startsWith(expected) && !end.isDone()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    TimeUnit.NANOSECONDS.timedWait(received, left);
                }
            }
            assertThat(text()).as("the body so far").isEqualTo(expected);
        }

        /** Milliseconds from {@code since} (a {@link System#nanoTime()}) to the end of the body. */
        long endedMillisAfter(long since) {
            assertThat(end).as("the body has ended").isDone();
            return TimeUnit.NANOSECONDS.toMillis(endedNanos - since);
        }

        /** Waits for the end of the body and returns all of it. */
        String awaitEnd(Duration timeout) throws Exception {
            try {
                return end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("the stream did not end within " + timeout + "; so far: " + text());
            } catch (java.util.concurrent.ExecutionException e) {
                throw (e.getCause() instanceof AssertionError a) ? a : new AssertionError(e.getCause());
            }
        }
    }

    static int freePort() {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
