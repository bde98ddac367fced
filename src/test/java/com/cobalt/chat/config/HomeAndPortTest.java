package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as a real process: started from a directory that is not its home, it finds its configuration
 * (COBALT_HOME, else the working directory, else its jar's directory) and keeps its embedded database there; a chat
 * port another process holds is a refusal with exit code 2, not a gateway running without its API; and no
 * refusal claims a SIGTERM.
 */
class HomeAndPortTest {

    static final String JWT_SECRET = "home-test-secret-that-is-long-enough-0123456789";
    static final Path REPO = Path.of(System.getProperty("user.dir"));
    static final List<Process> processes = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    static Path temp;

    @AfterAll
    static void stopAll() {
        processes.forEach(p -> {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        });
    }

    @Test
    void aTakenChatPortIsARefusalNamingThePortWithExit2() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = taken.getLocalPort();
            Map<String, String> env = demoEnv();
            env.put("HTTP_PORT", String.valueOf(port));
            env.put("CHAT_DB_URL", "jdbc:h2:mem:taken");

            Run r = start(REPO, classpath(), env).await(60);

            assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
            assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                    + "  - HTTP_PORT=" + port + ": cannot listen on 127.0.0.1:" + port + " (the port is already in use)\n");
            assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("SIGTERM").doesNotContain(JWT_SECRET);
        }
    }

    /**
     * The chat port accepts connections only once every route is there: asked from the moment the process starts, it
     * refuses connections and then answers, never a 404 in between. It answered Vert.x's HTML 404 and then the
     * gateway's JSON 404 for the routes not added yet, for 0.5 to 1.7 s of every start, and open-source nginx passed
     * them to clients during a rolling restart (black-box probe, 2026-12-05).
     */
    @Test
    void theChatPortOpensOnlyOnceEveryRouteIsThere() throws Exception {
        Map<String, String> env = demoEnv();
        env.put("CHAT_DB_URL", "jdbc:h2:mem:opening");
        Run r = start(REPO, classpath(), env);
        try {
            URI models = URI.create("http://127.0.0.1:" + env.get("HTTP_PORT") + "/api/v1/models");
            URI demo = URI.create("http://127.0.0.1:" + env.get("HTTP_PORT") + "/demo/v1/chat/completions");
            List<String> answers = new ArrayList<>();
            int refused = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && r.process.isAlive()) {
                try {
                    // the models route starts with the others, the demo provider's route last of all
                    HttpResponse<String> m = http.send(HttpRequest.newBuilder(models).timeout(Duration.ofSeconds(5))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    HttpResponse<String> d = http.send(HttpRequest.newBuilder(demo).timeout(Duration.ofSeconds(5))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"stream\":true,\"messages\":[]}")).build(), HttpResponse.BodyHandlers.ofString());
                    answers.add(m.statusCode() + " " + d.statusCode());
                    if (m.statusCode() == 200) {
                        break;
                    }
                } catch (java.net.ConnectException notListening) {
                    refused++;
                }
                r.process.waitFor(5, TimeUnit.MILLISECONDS);
            }
            assertThat(refused).as(r.describe()).isPositive();
            // the first answers are the routes' own, the demo provider's (started last) included
            assertThat(answers).as(r.describe()).containsExactly("200 200");
        } finally {
            r.process.destroy();
            r.process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aConfigurationRefusalDoesNotClaimASigterm() throws Exception {
        Map<String, String> env = demoEnv();
        env.put("CHAT_LIMITS_SHARED", "maybe");
        env.put("CHAT_DB_URL", "jdbc:h2:mem:sigterm");

        Run r = start(REPO, classpath(), env).await(60);

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("  - CHAT_LIMITS_SHARED must be auto, true or false, got: maybe\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("SIGTERM");
    }

    @Test
    void cobaltHomeIsTheConfigurationHomeFromAnyDirectoryAndHoldsTheDatabase() throws Exception {
        Path home = home("home-env");
        Path elsewhere = Files.createDirectories(temp.resolve("elsewhere"));
        Map<String, String> env = demoEnv();
        env.put("COBALT_HOME", home.toString());

        Run r = start(elsewhere, classpath(), env);
        try {
            assertThat(awaitModels(r)).as(r.describe()).contains("\"cobalt-demo\"");
            assertThat(r.stdoutSoFar()).contains("Configuration home: " + home + " (COBALT_HOME)");
            assertThat(home.resolve("data/cobalt-chat.mv.db")).exists();
            assertThat(elsewhere.resolve("data")).doesNotExist();
        } finally {
            r.process.destroy();
            r.process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void withoutCobaltHomeTheJarsDirectoryIsTheHome() throws Exception {
        Path home = home("home-jar");
        Path jar = home.resolve("cobalt-chat.jar");
        jarOfClasses(REPO.resolve("target/classes"), jar);
        Path elsewhere = Files.createDirectories(temp.resolve("elsewhere-jar"));
        List<String> cp = new ArrayList<>(List.of(jar.toString()));
        cp.addAll(classpath().stream().filter(e -> !e.endsWith("classes")).toList());

        Run r = start(elsewhere, cp, demoEnv());
        try {
            assertThat(awaitModels(r)).as(r.describe()).contains("\"cobalt-demo\"");
            assertThat(r.stdoutSoFar()).contains("Configuration home: " + home + " (the directory of cobalt-chat.jar)");
            assertThat(home.resolve("data/cobalt-chat.mv.db")).exists();
        } finally {
            r.process.destroy();
            r.process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aHomeWithoutApplicationPropertiesIsARefusalNamingIt() throws Exception {
        Path empty = Files.createDirectories(temp.resolve("empty-home"));
        Map<String, String> env = demoEnv();
        env.put("COBALT_HOME", empty.toString());

        Run r = start(empty, classpath(), env).await(60);

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - no application.properties in " + empty + " (chosen as COBALT_HOME); set COBALT_HOME to the"
                + " directory that holds application.properties and routes/\n");
    }

    // --- helpers ---

    /** A configuration home: the repository's application.properties and routes, nothing else. */
    static Path home(String name) throws IOException {
        Path home = Files.createDirectories(temp.resolve(name));
        Files.copy(REPO.resolve("application.properties"), home.resolve("application.properties"));
        Path routes = Files.createDirectories(home.resolve("routes"));
        try (Stream<Path> files = Files.list(REPO.resolve("routes"))) {
            for (Path f : files.toList()) {
                Files.copy(f, routes.resolve(f.getFileName()));
            }
        }
        return home.toRealPath();
    }

    static void jarOfClasses(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out);
             Stream<Path> files = Files.walk(classes)) {
            // directory entries too, as maven-jar-plugin writes them: Flyway finds classpath:db/migration in a jar
            // only through its directory entry (without it the gateway started on an empty schema)
            for (Path f : files.filter(f -> !f.equals(classes)).sorted().toList()) {
                String name = classes.relativize(f).toString().replace('\\', '/');
                if (Files.isDirectory(f)) {
                    j.putNextEntry(new JarEntry(name + "/"));
                } else {
                    j.putNextEntry(new JarEntry(name));
                    Files.copy(f, j);
                }
                j.closeEntry();
            }
        }
    }

    static List<String> classpath() {
        return List.of(System.getProperty("java.class.path").split(File.pathSeparator));
    }

    static Map<String, String> demoEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("LLM_PROVIDER", "demo");
        env.put("CHAT_AUTH_DISABLED", "true");
        env.put("CHAT_JWT_SECRET", JWT_SECRET);
        env.put("HTTP_PORT", String.valueOf(freePort()));
        env.put("MANAGEMENT_PORT", String.valueOf(freePort()));
        return env;
    }

    /** GET /api/v1/models until it answers 200, for up to 60 s while the process lives. */
    static String awaitModels(Run r) throws InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + r.env.get("HTTP_PORT") + "/api/v1/models");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && r.process.isAlive()) {
            try {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() == 200) {
                    return answer.body();
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            r.process.waitFor(200, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("the gateway did not answer in time: " + r.describe());
    }

    static Run start(Path dir, List<String> classpath, Map<String, String> env) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", String.join(File.pathSeparator, classpath),
                "com.cobalt.chat.Application");
        pb.directory(dir.toFile());
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> k.startsWith("LLM_") || k.startsWith("CHAT_") || k.startsWith("SAMBANOVA_")
                || k.startsWith("AZURE_") || k.startsWith("HTTP_") || k.startsWith("MANAGEMENT_")
                || k.equals("COBALT_HOME") || k.startsWith("CAMEL_"));
        environment.putAll(env);
        try {
            Process p = pb.start();
            processes.add(p);
            return new Run(p, env);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class Run {
        final Process process;
        final Map<String, String> env;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final CompletableFuture<Void> outDone;
        final CompletableFuture<String> err;
        Integer exitCode;
        String stdout;
        String stderr;

        Run(Process process, Map<String, String> env) {
            this.process = process;
            this.env = env;
            this.outDone = CompletableFuture.runAsync(() -> copy(process.getInputStream(), out));
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            this.err = CompletableFuture.supplyAsync(() -> {
                copy(process.getErrorStream(), e);
                return e.toString(StandardCharsets.UTF_8);
            });
        }

        Run await(int seconds) throws Exception {
            boolean exited = process.waitFor(seconds, TimeUnit.SECONDS);
            if (!exited) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            exitCode = exited ? process.exitValue() : null;
            outDone.get(10, TimeUnit.SECONDS);
            stdout = stdoutSoFar();
            stderr = err.get(10, TimeUnit.SECONDS);
            return this;
        }

        String stdoutSoFar() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }

        String describe() {
            return "exit " + exitCode + "\n--- stderr ---\n" + stderr + "\n--- stdout ---\n" + stdoutSoFar();
        }

        private static void copy(InputStream in, ByteArrayOutputStream to) {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (to) {
                        to.write(buffer, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }
    }

    static int freePort() {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
