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
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CHAT_ROUTES_RELOAD=true: the gateway watches its routes directory (here a copy of routes/) and loads an added or
 * changed route file without a restart; a file that does not parse or does not build is logged with its error, and
 * a file whose route id belongs to another file is refused: the routes that were running keep serving.
 */
class RouteReloadTest {

    @TempDir
    static Path home;
    static Path routes;
    static RunningGateway gateway;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String GUARD = "com.cobalt.chat.RouteReloadGuard";

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

    /** A route answering GET on the path with the constant, and with the extra step when it is not null. */
    static String route(String id, String path, String answer, String extraStep) {
        return """
                - route:
                    id: %s
                    routeConfigurationId: api-errors
                    from:
                      id: %s-endpoint
                      uri: platform-http:%s
                      parameters:
                        httpMethodRestrict: GET
                      steps:
                        - setBody:
                            id: %s-answer
                            constant: "%s"
                """.formatted(id, id, path, id, answer) + (extraStep == null ? "" : extraStep);
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

    /** Polls until a line of the logger at the level has exactly the message, or the deadline passes. */
    static boolean awaitLine(LogCapture log, String logger, String level, String message) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (log.lines(logger).stream().anyMatch(l -> l.level().equals(level) && l.message().equals(message))) {
                return true;
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        return false;
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

    /**
     * Black-box probe, 2026-12-05: an added file whose route had the id of another file's route (models-list)
     * silently replaced that route - GET /api/v1/models answered 404 and nothing was logged.
     */
    @Test
    void anAddedFileTakingAnotherFilesRouteIdIsRefusedAndTheRunningRouteKeepsServing() throws Exception {
        HttpResponse<String> models = get("/api/v1/models");
        assertThat(models.statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/extra").statusCode()).isEqualTo(404);

        String refusal = "Route file zz-extra.camel.yaml not reloaded: route id models-list is already loaded from"
                + " models-list.camel.yaml; the running routes keep serving unchanged";
        try (LogCapture log = LogCapture.start()) {
            Files.writeString(routes.resolve("zz-extra.camel.yaml"), route("models-list", "/api/v1/extra", "extra",
                    null));
            assertThat(awaitLine(log, GUARD, "WARN", refusal)).as(text(log)).isTrue();
            // the watcher reports files in order: once a file written after it serves, the refused file's every
            // report (a new file is reported created, then modified) has been handled
            Files.writeString(routes.resolve("marker-reload.camel.yaml"), route("marker-reload", "/api/v1/marker",
                    "marker", null));
            assertThat(awaitBody("/api/v1/marker", "marker")).isEqualTo("marker");
            assertThat(log.lines(GUARD)).extracting(LogCapture.Line::level, LogCapture.Line::message)
                    .containsExactly(Tuple.tuple("WARN", refusal));
            // nothing of the refused route beyond its id and file reaches the log
            assertThat(text(log)).doesNotContain("/api/v1/extra").doesNotContain("extra-answer");
        }
        HttpResponse<String> after = get("/api/v1/models");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.body()).isEqualTo(models.body());
        HttpResponse<String> extra = get("/api/v1/extra");
        assertThat(extra.statusCode()).isEqualTo(404);
        assertThat(extra.body()).isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"No such resource\"}}");

        // the file the route was loaded from at start still replaces it
        try (LogCapture log = LogCapture.start()) {
            Path own = routes.resolve("models-list.camel.yaml");
            Files.writeString(own, Files.readString(own).replace("description: \"GET /api/v1/models:",
                    "description: \"Changed. GET /api/v1/models:"));
            assertThat(awaitLine(log, "org.apache.camel.support.RouteWatcherReloadStrategy", "INFO",
                    "    Started models-list (platform-http:///api/v1/models) (source: models-list.camel.yaml:7)"))
                    .as(text(log)).isTrue();
            assertThat(log.lines(GUARD)).isEmpty();
        }
        assertThat(get("/api/v1/models").body()).isEqualTo(models.body());
    }

    @Test
    void aChangedFileThatFailsToBuildLeavesItsRoutesServing() throws Exception {
        Files.writeString(routes.resolve("goodbye-reload.camel.yaml"),
                route("goodbye-reload", "/api/v1/goodbye", "first", null));
        assertThat(awaitBody("/api/v1/goodbye", "first")).isEqualTo("first");

        try (LogCapture log = LogCapture.start()) {
            // parses, but the endpoint refuses the option when the route is built
            Files.writeString(routes.resolve("goodbye-reload.camel.yaml"), route("goodbye-reload", "/api/v1/goodbye",
                    "second", """
                                    - to:
                                        id: goodbye-nowhere
                                        uri: direct:nowhere?noSuchOption=true
                            """));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && log.lines().stream().noneMatch(l -> l.level().equals("WARN")
                    && l.message().contains("goodbye-reload.camel.yaml") && l.message().contains("noSuchOption"))) {
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            }
            HttpResponse<String> goodbye = get("/api/v1/goodbye");
            assertThat(goodbye.statusCode()).isEqualTo(200);
            assertThat(goodbye.body()).isEqualTo("first");
            String prefix = "Route file goodbye-reload.camel.yaml not reloaded: Failed to create route: goodbye-reload"
                    + " at: >>> to[direct:nowhere?noSuchOption=true] <<<";
            assertThat(log.lines(GUARD)).as(text(log)).hasSize(1).allSatisfy(l -> {
                assertThat(l.level()).isEqualTo("WARN");
                assertThat(l.message()).startsWith(prefix).endsWith("; the running routes keep serving unchanged");
            });
        }
    }
}
