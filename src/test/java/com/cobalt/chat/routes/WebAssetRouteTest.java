package com.cobalt.chat.routes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

/**
 * routes/web-page.camel.yaml, web-assets.camel.yaml and web-asset.camel.yaml: GET / and /assets/... answered from
 * the jar with validators, a 304 for the browser's current copy, the page's policy, and 404 for anything else.
 */
class WebAssetRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("web-page.camel.yaml", "web-assets.camel.yaml", "web-asset.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("web-page");
        fromDirect("web-assets");
    }

    Exchange get(String route, String path, Map<String, Object> headers) {
        Map<String, Object> h = new java.util.HashMap<>(headers);
        h.put(Exchange.HTTP_PATH, path);
        return request(route, null, null, h);
    }

    @Test
    void thePageIsServedWithItsTypeValidatorsAndPolicy() {
        Exchange e = get("web-page", "/", Map.of());

        assertThat(e.getException()).isNull();
        assertThat(status(e)).isNull();
        Map<String, Object> h = e.getMessage().getHeaders();
        assertThat(h.get("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat((String) h.get("ETag")).matches("\"[A-Za-z0-9_-]{22}\"");
        assertThat((String) h.get("Last-Modified")).endsWith(" GMT");
        assertThat(h.get("Cache-Control")).isEqualTo("no-cache");
        assertThat((String) h.get("Content-Security-Policy")).startsWith("default-src 'none'; script-src 'self'; "
                + "style-src 'self';");
        assertThat(new String(e.getMessage().getBody(byte[].class), StandardCharsets.UTF_8))
                .startsWith("<!doctype html>");
    }

    @Test
    void aLibraryFromItsWebjarAndA304ForTheCurrentCopy() {
        Exchange first = get("web-assets", "/assets/lib/marked.js", Map.of());
        assertThat(first.getMessage().getHeader("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(new String(first.getMessage().getBody(byte[].class), StandardCharsets.UTF_8)).contains("marked");
        String etag = first.getMessage().getHeader("ETag", String.class);

        Exchange again = get("web-assets", "/assets/lib/marked.js", Map.of("If-None-Match", etag));
        assertThat(status(again)).isEqualTo(304);
        assertThat(again.getMessage().getBody(String.class)).isEmpty();
        assertThat(again.getMessage().getHeader("ETag")).isEqualTo(etag);
    }

    @Test
    void aPathThatIsNoFileIs404() {
        for (String path : List.of("/assets/", "/assets/lib/", "/assets/../pom.xml", "/assets/lib/marked.esm.js")) {
            assertError(get("web-assets", path, Map.of()), 404, "not_found");
        }
    }
}
