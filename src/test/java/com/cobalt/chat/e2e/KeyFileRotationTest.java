package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys from files (the Kubernetes secret-volume pattern), over real HTTP against a fake Azure / SambaNova: a file
 * replaced while the gateway runs is used for new requests within 10 seconds, whitespace and the trailing newline
 * are not part of the key, and a file that disappears keeps the last key with a warning that never shows it.
 */
@Timeout(120)
class KeyFileRotationTest {

    static final Duration WAIT = Duration.ofSeconds(10);
    static final String KEY_ONE = "az-DISTINCTIVE-rotating-key-one";
    static final String KEY_TWO = "az-DISTINCTIVE-rotating-key-two";
    static final String KEY_THREE = "az-DISTINCTIVE-rotating-key-three";

    @TempDir
    Path dir;
    FakeUpstream upstream;
    RunningGateway gateway;
    GatewayClient client;
    String token;
    String session;
    Path keyFile;

    @BeforeEach
    void start() throws IOException {
        upstream = FakeUpstream.start();
        keyFile = dir.resolve("api-key");
        writeKey(KEY_ONE + "\n");
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    void startAzure() {
        gateway = RunningGateway.start(Map.of(
                "llm.provider", "azure",
                "azure.ai.endpoint", upstream.baseUrl(),
                "azure.ai.api-key-file", keyFile.toString(),
                "azure.ai.deployment", "gpt-4o"));
        client = new GatewayClient(gateway);
        token = Jwt.token("rotator");
        session = client.createSession(token);
    }

    /** Like a secret volume: the new content appears at once (written aside, then moved over the old file). */
    void writeKey(String content) throws IOException {
        Path tmp = dir.resolve("api-key.tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, keyFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits up to {@link #WAIT} for a log line with exactly this message. */
    static void awaitMessage(LogCapture logs, String message) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (logs.lines().stream().noneMatch(l -> l.message().equals(message))) {
            assertThat(System.nanoTime()).as("no such line within " + WAIT + ": " + message).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** One chat answered by the fake; returns the request it got. */
    RecordedRequest chat() {
        upstream.enqueue(Script.sse(Chunks.delta("ok"), Chunks.finish("stop"), Chunks.done()));
        GatewayClient.Answer answer = client.chat(session, token, "Hi");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("ok");
        return upstream.takeRequest(WAIT);
    }

    /**
     * Chats until one carries {@code header: value} (every request before it carried {@code before}); returns the
     * time from now to the start of the first chat that used it. The loop itself may run longer on a busy machine.
     */
    long chatsUntilUsed(String header, String value, String before) {
        long started = System.nanoTime();
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() - started < 3 * WAIT.toNanos()) {
            long sentAt = System.nanoTime();
            String sent = chat().header(header);
            if (sent.equals(value)) {
                assertThat(seen).as("keys sent before the new one").allMatch(before::equals);
                return TimeUnit.NANOSECONDS.toMillis(sentAt - started);
            }
            seen.add(sent);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
        throw new AssertionError("the new key was not used within " + 3 * WAIT.toSeconds() + " s; " + seen.size()
                + " chats sent the old one");
    }

    @Test
    void aReplacedKeyFileIsUsedForNewRequestsWithinTenSecondsWithoutARestart() throws IOException {
        startAzure();
        assertThat(chat().headerValues("api-key")).containsExactly(KEY_ONE);

        writeKey("\t " + KEY_TWO + "  \n\n");
        long ms = chatsUntilUsed("api-key", KEY_TWO, KEY_ONE);

        assertThat(ms).isLessThan(WAIT.toMillis());
        assertThat(chat().headerValues("api-key")).containsExactly(KEY_TWO);
        assertThat(upstream.requests()).allSatisfy(r -> assertThat(r.headers().get("authorization")).isNull());
    }

    @Test
    void aKeyFileThatDisappearsKeepsTheLastKeyAndWarnsWithoutIt() throws IOException {
        startAzure();
        assertThat(chat().headerValues("api-key")).containsExactly(KEY_ONE);
        try (LogCapture logs = LogCapture.start()) {
            Files.delete(keyFile);
            String warning = "Provider azure: cannot read the key file " + keyFile
                    + " (NoSuchFileException); requests keep the last key";
            awaitMessage(logs, warning);

            assertThat(chat().headerValues("api-key")).containsExactly(KEY_ONE);
            assertThat(logs.lines().stream().filter(l -> l.message().equals(warning))).hasSize(1)
                    .allSatisfy(l -> assertThat(l.level()).isEqualTo("WARN"));

            writeKey(KEY_THREE);
            assertThat(chatsUntilUsed("api-key", KEY_THREE, KEY_ONE)).isLessThan(WAIT.toMillis());
            assertThat(logs.lines()).noneMatch(l -> l.all().contains(KEY_ONE) || l.all().contains(KEY_THREE));
        }
    }

    /**
     * Two keys pasted into the file while rotating: sent, the line break failed every request inside the HTTP client
     * and each chat waited out the first-token timeout (black-box probe). The last usable key stays in use.
     */
    @Test
    void aKeyFileWithTwoLinesKeepsTheLastKeyAndWarnsWithoutEither() throws IOException {
        startAzure();
        assertThat(chat().headerValues("api-key")).containsExactly(KEY_ONE);
        try (LogCapture logs = LogCapture.start()) {
            writeKey(KEY_TWO + "\n" + KEY_THREE + "\n");
            awaitMessage(logs, "Provider azure: cannot read the key file " + keyFile
                    + " (it holds a line break (one key per file or variable)); requests keep the last key");

            assertThat(chat().headerValues("api-key")).containsExactly(KEY_ONE);
            assertThat(logs.lines()).noneMatch(l -> l.all().contains(KEY_TWO) || l.all().contains(KEY_THREE));
        }
    }

    @Test
    void a401WithTheKeyStillInTheFileIsNotRetried() {
        startAzure();
        upstream.enqueue(Script.json(401, "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid"
                + " subscription key or wrong API endpoint.\"}}"));

        GatewayClient.Answer answer = client.chat(session, token, "Hi");

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.body()).isEqualTo("{\"error\":{\"code\":\"provider_unavailable\",\"message\":\"No provider could answer; retry later\"}}");
        assertThat(upstream.requestCount()).isEqualTo(1);
        assertThat(upstream.takeRequest(WAIT).headerValues("api-key")).containsExactly(KEY_ONE);
    }

    @Test
    void sambanovaTakesItsKeyFromSambanovaApiKeyFile() throws IOException {
        writeKey(KEY_ONE + "\r\n");
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("sambanova.api-key", "",
                "sambanova.api-key-file", keyFile.toString()));
        client = new GatewayClient(gateway);
        token = Jwt.token("rotator");
        session = client.createSession(token);

        assertThat(chat().headerValues("authorization")).containsExactly("Bearer " + KEY_ONE);
        writeKey(KEY_TWO);
        assertThat(chatsUntilUsed("authorization", "Bearer " + KEY_TWO, "Bearer " + KEY_ONE))
                .isLessThan(WAIT.toMillis());
    }
}
