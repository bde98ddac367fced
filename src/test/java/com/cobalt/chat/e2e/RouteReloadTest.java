package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CHAT_ROUTES_RELOAD=true: the gateway watches its routes directory (here a copy of routes/) and loads an added or
 * changed route file without a restart; a file that does not parse is logged with its error and the routes that
 * were running keep serving.
 */
class RouteReloadTest {

    @TempDir
    static Path home;
    static Path routes;
    static RunningGateway gateway;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws IOException {
        routes = home.resolve("routes");
        Files.createDirectories(routes);
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, routes.resolve(f.getFileName()));
            }
        }
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "chat.auth.disabled", "true",
                "chat.routes.reload", "true", "chat.routes.directory", routes.toString()));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static String helloRoute(String answer) {
        return """
                - route:
                    id: hello-reload
                    description: A route added while the gateway runs
                    routeConfigurationId: api-errors
                    from:
                      id: hello-reload-endpoint
                      uri: platform-http:/api/v1/hello
                      parameters:
                        httpMethodRestrict: GET
                      steps:
                        - setBody:
                            id: hello-answer
                            constant: "%s"
                """.formatted(answer);
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path)).timeout(Duration.ofSeconds(5))
                .GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Polls until the path answers 200 with the body, or the deadline passes; returns the last answer's body. */
    static String awaitBody(String path, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get(path);
            last = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200 && r.body().equals(expected)) {
                return r.body();
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        return last;
    }

    static String text(LogCapture log) {
        return log.lines().stream().map(LogCapture.Line::all).collect(Collectors.joining("\n"));
    }

    @Test
    void anAddedThenChangedRouteFileServesWithoutARestartAndABrokenOneLeavesTheRunningRoutesServing()
            throws Exception {
        assertThat(get("/api/v1/hello").statusCode()).isEqualTo(404);

        Files.writeString(routes.resolve("hello-reload.camel.yaml"), helloRoute("first"));
        assertThat(awaitBody("/api/v1/hello", "first")).isEqualTo("first");

        Files.writeString(routes.resolve("hello-reload.camel.yaml"), helloRoute("second"));
        assertThat(awaitBody("/api/v1/hello", "second")).isEqualTo("second");

        try (LogCapture log = LogCapture.start()) {
            Files.writeString(routes.resolve("hello-reload.camel.yaml"), "- route:\n    id: hello-reload\n    from: [");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && !text(log).contains("hello-reload.camel.yaml")) {
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            }
            assertThat(text(log)).contains("hello-reload.camel.yaml");
        }
        assertThat(get("/api/v1/hello").body()).isEqualTo("second");
        assertThat(get("/api/v1/chat/sessions").statusCode()).isEqualTo(200);
    }
}
