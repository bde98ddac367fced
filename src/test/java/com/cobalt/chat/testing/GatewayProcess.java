package com.cobalt.chat.testing;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The real gateway in a JVM of its own, configured by environment variables only - as in production. For what reads
 * the process environment directly (azure-identity's managed identity reads IDENTITY_ENDPOINT itself) and JVM options
 * such as a trust store. Its log goes to a file the test can read.
 */
public final class GatewayProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final int port;
    private final int managementPort;
    private final Path log;

    private GatewayProcess(Process process, int port, int managementPort, Path log) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
        this.log = log;
    }

    /** Starts it with the test defaults (JWT secret, own in-memory database, no retries) plus {@code env}. */
    public static GatewayProcess start(Map<String, String> env, List<String> jvmOptions, Path dir) throws Exception {
        int port = freePort();
        int managementPort = freePort();
        Map<String, String> e = new LinkedHashMap<>();
        e.put("CHAT_JWT_SECRET", RunningGateway.JWT_SECRET);
        e.put("CHAT_DB_URL", "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        e.put("HTTP_PORT", String.valueOf(port));
        e.put("MANAGEMENT_PORT", String.valueOf(managementPort));
        e.put("LLM_MAX_RETRIES", "0");
        e.put("LLM_CATALOG_CHECK_ENABLED", "false");
        e.put("LLM_BREAKER_MINIMUM_NUMBER_OF_CALLS", "1000");
        e.put("LLM_BREAKER_SLIDING_WINDOW_SIZE", "1000");
        e.putAll(env);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "com.cobalt.chat.Application"));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.directory(Path.of("").toAbsolutePath().toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LLM_") || k.startsWith("CHAT_")
                || k.startsWith("SAMBANOVA_") || k.startsWith("AZURE_") || k.startsWith("HTTP_")
                || k.startsWith("MANAGEMENT_") || k.startsWith("IDENTITY_") || k.startsWith("MSI_")
                || k.equals("COBALT_HOME") || k.startsWith("CAMEL_"));
        pb.environment().putAll(e);
        Path log = dir.resolve("gateway-" + port + ".log");
        File logFile = log.toFile();
        pb.redirectErrorStream(true).redirectOutput(logFile);
        GatewayProcess g = new GatewayProcess(pb.start(), port, managementPort, log);
        g.awaitReady();
        return g;
    }

    private void awaitReady() throws Exception {
        URI uri = URI.create(baseUrl() + "/api/v1/models");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && process.isAlive()) {
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
            process.waitFor(100, TimeUnit.MILLISECONDS);
        }
        String out = log();
        close();
        throw new AssertionError("the gateway did not start: " + out);
    }

    /** The process, to signal it and watch it end. */
    public Process process() {
        return process;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    /** Everything the process has logged so far. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
