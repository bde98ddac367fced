package com.cobalt.chat.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the image Jib built ({@code target/jib-image.tar}) the way a container runtime would, without one: its
 * layers unpacked into a root file system, its entrypoint, environment and user from its own config, the JVM as
 * PID 1 of a PID namespace of its own. The gateway starts from the image's COBALT_HOME (routes and
 * application.properties in the image), answers a chat with the demo provider, and a SIGTERM to PID 1 drains it
 * (exit 143). Needs the tar (.ci/run builds it with deploy/image/build-offline.sh; or
 * {@code mvn -Pimage package jib:buildTar}) and root for chroot and unshare; skipped, saying so, otherwise.
 */
class ImageTarTest {

    static final Path TAR = DeployManifestsTest.REPO.resolve("target/jib-image.tar");
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    Path root;
    Process process;

    @AfterEach
    void cleanUp() throws Exception {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theImageStartsAsItsUserFromItsHomeAnswersAChatAndDrainsOnSigtermToPid1() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(TAR),
                "no " + TAR + ": build it with deploy/image/build-offline.sh (or mvn -Pimage package jib:buildTar)");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/chroot"))
                && Files.isExecutable(Path.of("/usr/bin/unshare")), "running the image needs root, chroot and unshare");

        root = Files.createTempDirectory("image-root");
        Path unpacked = Files.createTempDirectory("image-tar");
        run("tar", "-xf", TAR.toString(), "-C", unpacked.toString());
        JsonNode manifest = GatewayClient.json(Files.readString(unpacked.resolve("manifest.json"))).get(0);
        JsonNode config = GatewayClient.json(Files.readString(unpacked.resolve(manifest.get("Config").asText())))
                .get("config");
        for (JsonNode layer : manifest.get("Layers")) {
            run("tar", "-xf", unpacked.resolve(layer.asText()).toString(), "-C", root.toString());
        }
        run("rm", "-rf", unpacked.toString());

        assertThat(config.get("User").asText()).isEqualTo("65532:65532");
        assertThat(Files.isRegularFile(root.resolve("app/application.properties"))).isTrue();
        assertThat(Files.isRegularFile(root.resolve("app/routes/chat-http.camel.yaml"))).isTrue();

        int port = freePort();
        int management = freePort();
        // a container runtime mounts /proc (the JVM's launcher finds its libraries through /proc/self/exe)
        Files.createDirectories(root.resolve("proc"));
        List<String> command = new ArrayList<>(List.of("/usr/bin/unshare", "--pid", "--fork", "--mount",
                "--mount-proc=" + root.resolve("proc"), "/usr/sbin/chroot",
                "--userspec=" + config.get("User").asText(), root.toString()));
        config.get("Entrypoint").forEach(a -> command.add(a.asText()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        config.get("Env").forEach(e -> {
            String[] kv = e.asText().split("=", 2);
            pb.environment().put(kv[0], kv[1]);
        });
        pb.environment().putAll(Map.of("LLM_PROVIDER", "demo", "DEMO_TOKEN_DELAY_MS", "1",
                "CHAT_JWT_SECRET", RunningGateway.JWT_SECRET, "HTTP_PORT", String.valueOf(port),
                "MANAGEMENT_PORT", String.valueOf(management), "LLM_CATALOG_CHECK_ENABLED", "false",
                "CHAT_DB_URL", "jdbc:h2:mem:image;DB_CLOSE_DELAY=-1"));
        Path log = Files.createTempFile("image-run", ".log");
        process = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();

        String ready = "http://127.0.0.1:" + management + "/observe/health/ready";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline && process.isAlive()) {
            try {
                status = HTTP.send(HttpRequest.newBuilder(URI.create(ready)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException notYet) {
                process.waitFor(200, TimeUnit.MILLISECONDS);
            }
        }
        assertThat(status).as(() -> "ready; the image's output:\n" + read(log)).isEqualTo(200);
        assertThat(read(log)).contains("Configuration home: /app (COBALT_HOME)");

        GatewayClient client = new GatewayClient("http://127.0.0.1:" + port);
        String token = Jwt.token("image-user");
        GatewayClient.Answer answer = client.chat(client.createSession(token), token, "Hello from a container");
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body()).endsWith("data: [DONE]\n\n");

        // the JVM is PID 1 of its namespace: SIGTERM to it drains and exits with the signal's status
        ProcessHandle java = process.descendants().filter(p -> p.info().command().orElse("").endsWith("/java"))
                .findFirst().orElseThrow(() -> new AssertionError("no java process under unshare"));
        assertThat(java.destroy()).isTrue();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        assertThat(process.exitValue()).as(() -> read(log)).isEqualTo(143);
        assertThat(read(log)).contains("Shutting down: new requests get 503");
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    static int freePort() throws IOException {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
