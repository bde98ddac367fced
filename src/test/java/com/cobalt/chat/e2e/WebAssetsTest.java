package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The web page's files over real HTTP (no browser needed): served from the jar with validators and a 304 for an
 * unchanged file, the Content-Security-Policy on every one, the gateway's other headers kept, and the strict
 * answers for what is not there.
 */
class WebAssetsTest {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    static RunningGateway gateway;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageAndEveryFileItLoadsAreServedWithValidatorsAndThePolicy() throws Exception {
        HttpResponse<String> page = send("GET", "/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).startsWith("<!doctype html>").contains("<script type=\"module\" src=\"/assets/app.js\">");

        // every script and style the page names, and every module those import, is there
        List<String> files = new java.util.ArrayList<>(List.of("/"));
        Matcher refs = Pattern.compile("(?:src|href)=\"(/assets/[^\"]+)\"").matcher(page.body());
        while (refs.find()) {
            files.add(refs.group(1));
        }
        for (String module : List.of("app.js", "chat.js", "operator.js", "render.js", "api.js")) {
            Matcher imports = Pattern.compile("from '\\./([^']+)'|import\\('\\./([^']+)'\\)")
                    .matcher(send("GET", "/assets/" + module).body());
            while (imports.find()) {
                files.add("/assets/" + (imports.group(1) != null ? imports.group(1) : imports.group(2)));
            }
        }
        assertThat(files).contains("/assets/lib/marked.js", "/assets/lib/purify.js", "/assets/lib/uPlot.js",
                "/assets/lib/uPlot.css", "/assets/style.css", "/assets/operator.js");
        for (String file : files) {
            HttpResponse<String> r = send("GET", file);
            assertThat(r.statusCode()).as(file).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).as(file).hasValueSatisfying(t -> assertThat(t)
                    .isIn("text/html; charset=utf-8", "text/javascript; charset=utf-8", "text/css; charset=utf-8"));
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(file).hasValue(CSP);
            assertThat(r.headers().firstValue("X-Content-Type-Options")).as(file).hasValue("nosniff");
            assertThat(r.headers().firstValue("Cache-Control")).as(file).hasValue("no-cache");
            assertThat(r.headers().firstValue("Referrer-Policy")).as(file).hasValue("no-referrer");
            assertThat(r.headers().firstValue("ETag")).as(file).hasValueSatisfying(e -> assertThat(e)
                    .matches("\"[A-Za-z0-9_-]{22}\""));
            assertThat(r.headers().firstValue("Last-Modified")).as(file).isPresent();
            assertThat(r.headers().firstValue("X-Request-Id")).as(file).isPresent();
        }
    }

    /**
     * Last-Modified is an IMF-fixdate (RFC 9110 5.6.7): a two-digit day. Java's RFC 1123 formatter wrote "Sat, 5 Dec
     * 2026 08:17:58 GMT" on the first nine days of each month (black-box probe, 2026-12-05).
     */
    @Test
    void lastModifiedIsAnImfFixdate() throws Exception {
        String imfFixdate = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                + " \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";
        assertThat(send("GET", "/").headers().firstValue("Last-Modified")).hasValueSatisfying(v -> assertThat(v)
                .matches(imfFixdate));
        assertThat(new com.cobalt.chat.web.WebAssets.Asset("/", new byte[0], "text/html", "\"e\"",
                java.time.Instant.parse("2026-12-05T08:07:09Z")).lastModifiedHeader())
                .isEqualTo("Sat, 05 Dec 2026 08:07:09 GMT");
    }

    @Test
    void anUnchangedFileIs304ByETagOrDateAndAChangedOneIsSentAgain() throws Exception {
        HttpResponse<String> first = send("GET", "/assets/chat.js");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        String modified = first.headers().firstValue("Last-Modified").orElseThrow();

        HttpResponse<String> byTag = send("GET", "/assets/chat.js", "If-None-Match", etag);
        assertThat(byTag.statusCode()).isEqualTo(304);
        assertThat(byTag.body()).isEmpty();
        assertThat(byTag.headers().firstValue("ETag")).hasValue(etag);
        assertThat(byTag.headers().firstValue("Cache-Control")).hasValue("no-cache");

        assertThat(send("GET", "/assets/chat.js", "If-None-Match", "\"other\", W/" + etag).statusCode())
                .as("one of a list, weak comparison").isEqualTo(304);
        assertThat(send("GET", "/assets/chat.js", "If-Modified-Since", modified).statusCode()).isEqualTo(304);

        HttpResponse<String> stale = send("GET", "/assets/chat.js", "If-None-Match", "\"not-this-one\"");
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo(first.body());
        HttpResponse<String> old = send("GET", "/assets/chat.js", "If-Modified-Since", "Mon, 1 Jan 2001 00:00:00 GMT");
        assertThat(old.statusCode()).isEqualTo(200);
        assertThat(send("GET", "/assets/chat.js", "If-None-Match", "\"not-this-one\"", "If-Modified-Since", modified)
                .statusCode()).as("If-None-Match wins over the date").isEqualTo(200);
    }

    @Test
    void headAnswersTheHeadersAndWhatIsNotThereOrNotAllowedIsTheJsonError() throws Exception {
        HttpResponse<String> head = send("HEAD", "/");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("Content-Security-Policy")).hasValue(CSP);

        for (String path : List.of("/assets/nope.js", "/assets/", "/assets/../application.properties",
                "/assets/lib/marked.esm.js", "/index.html", "/favicon.ico")) {
            HttpResponse<String> r = send("GET", path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"No such resource\"}}");
            assertThat(r.headers().firstValue("Cache-Control")).as(path).hasValue("no-store");
        }
        HttpResponse<String> post = send("POST", "/");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.body()).isEqualTo(
                "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"Method not allowed on this resource\"}}");
    }

    @Test
    void aRequestsOwnCachingHeadersAreNeverEchoedOnTheApi() throws Exception {
        HttpResponse<String> r = send("GET", "/api/v1/models", "Cache-Control", "max-age=999",
                "ETag", "\"mine\"", "Content-Security-Policy", "default-src *");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(r.headers().firstValue("ETag")).isEmpty();
        assertThat(r.headers().firstValue("Content-Security-Policy")).isEmpty();
    }
}
