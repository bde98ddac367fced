package com.cobalt.chat.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.cobalt.chat.http.ApiError;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.apache.camel.Variable;

/**
 * The web page's files, read from the jar once at start: the page at {@code /}, its own scripts and styles under
 * {@code /assets/}, and the three libraries it uses under {@code /assets/lib/}, taken from their webjars (marked, the
 * Markdown renderer; DOMPurify, the HTML sanitizer; uPlot, the chart). Each file carries a strong ETag (a hash of its
 * bytes) and a Last-Modified date, so a browser revalidates and gets a 304 instead of the file again. A file the
 * list names but the jar lacks refuses the start; a path that is not in the list is 404 {@code not_found}.
 */
public final class WebAssets {

    /** The page and the app's own files: URL path -> resource under {@code web/} in the jar. */
    static final Map<String, String> APP_FILES = Map.of(
            "/", "index.html",
            "/assets/style.css", "assets/style.css",
            "/assets/app.js", "assets/app.js",
            "/assets/api.js", "assets/api.js",
            "/assets/chat.js", "assets/chat.js",
            "/assets/operator.js", "assets/operator.js",
            "/assets/render.js", "assets/render.js");

    /** The libraries: URL path -> {webjar, file inside it}. The webjar's version is read from its pom.properties. */
    static final Map<String, List<String>> LIBRARY_FILES = Map.of(
            "/assets/lib/marked.js", List.of("marked", "lib/marked.esm.js"),
            "/assets/lib/purify.js", List.of("dompurify", "dist/purify.es.mjs"),
            "/assets/lib/uPlot.js", List.of("uplot", "dist/uPlot.esm.js"),
            "/assets/lib/uPlot.css", List.of("uplot", "dist/uPlot.min.css"));

    /** Read: RFC 1123 dates, whose day may be one digit, as RFC 9110 asks recipients to accept. */
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;
    /**
     * Written: RFC 9110's IMF-fixdate, a two-digit day ("Sat, 05 Dec 2026 ..."). Java's RFC_1123_DATE_TIME writes
     * "Sat, 5 Dec 2026", which HTTP senders must not (black-box probe, 2026-12-05).
     */
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ENGLISH);

    /** One file as served. */
    public record Asset(String path, byte[] body, String contentType, String etag, Instant lastModified) {

        /** The Last-Modified header's value. */
        public String lastModifiedHeader() {
            return IMF_FIXDATE.format(ZonedDateTime.ofInstant(lastModified, ZoneOffset.UTC));
        }
    }

    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final List<String> libraries;

    public WebAssets() {
        this(WebAssets.class.getClassLoader(), Instant.now());
    }

    WebAssets(ClassLoader loader, Instant startedAt) {
        APP_FILES.forEach((path, resource) -> assets.put(path, load(loader, path, "web/" + resource, startedAt)));
        java.util.TreeSet<String> versions = new java.util.TreeSet<>();
        LIBRARY_FILES.forEach((path, source) -> {
            String version = webjarVersion(loader, source.get(0));
            versions.add(source.get(0) + " " + version);
            assets.put(path, load(loader, path, "META-INF/resources/webjars/" + source.get(0) + "/" + version + "/"
                    + source.get(1), startedAt));
        });
        this.libraries = List.copyOf(versions);
    }

    /** The webjars served, with their versions (for the start-up log). */
    public List<String> libraries() {
        return libraries;
    }

    /** The file at this request path, or 404 {@code not_found}. */
    public Asset find(@Header(Exchange.HTTP_PATH) String path) {
        Asset asset = path == null ? null : assets.get(path.isEmpty() ? "/" : path);
        if (asset == null) {
            throw new ApiError(404, "not_found", "No such resource");
        }
        return asset;
    }

    /**
     * Whether the browser's copy is still current (answer 304): its If-None-Match names this ETag (or is *), or,
     * without If-None-Match, its If-Modified-Since is not before the file's date (RFC 9110, 13.1.3).
     */
    public boolean unchanged(@Variable("asset") Asset asset, @Header("If-None-Match") String ifNoneMatch,
                             @Header("If-Modified-Since") String ifModifiedSince) {
        if (ifNoneMatch != null) {
            for (String tag : ifNoneMatch.split(",")) {
                String t = tag.trim();
                if (t.startsWith("W/")) {
                    t = t.substring(2);
                }
                if (t.equals("*") || t.equals(asset.etag())) {
                    return true;
                }
            }
            return false;
        }
        if (ifModifiedSince != null) {
            try {
                Instant since = ZonedDateTime.parse(ifModifiedSince.trim(), HTTP_DATE).toInstant();
                return !asset.lastModified().isAfter(since);
            } catch (DateTimeParseException e) {
                return false;
            }
        }
        return false;
    }

    public String etag(@Variable("asset") Asset asset) {
        return asset.etag();
    }

    public String lastModified(@Variable("asset") Asset asset) {
        return asset.lastModifiedHeader();
    }

    public String contentType(@Variable("asset") Asset asset) {
        return asset.contentType();
    }

    public byte[] body(@Variable("asset") Asset asset) {
        return asset.body();
    }

    private static String webjarVersion(ClassLoader loader, String name) {
        String pom = "META-INF/maven/org.webjars.npm/" + name + "/pom.properties";
        try (InputStream in = loader.getResourceAsStream(pom)) {
            if (in == null) {
                throw new IllegalStateException("The webjar " + name + " is not on the class path (" + pom + ")");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Asset load(ClassLoader loader, String path, String resource, Instant startedAt) {
        URL url = loader.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("The web page's file " + resource + " is not in the jar");
        }
        try {
            URLConnection connection = url.openConnection();
            connection.setUseCaches(false);
            long modified = connection.getLastModified();
            byte[] body;
            try (InputStream in = connection.getInputStream()) {
                body = in.readAllBytes();
            }
            Instant lastModified = (modified > 0 ? Instant.ofEpochMilli(modified) : startedAt)
                    .truncatedTo(ChronoUnit.SECONDS);
            return new Asset(path, body, typeOf(resource), etag(body), lastModified);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String typeOf(String resource) {
        if (resource.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (resource.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (resource.endsWith(".js") || resource.endsWith(".mjs")) {
            return "text/javascript; charset=utf-8";
        }
        throw new IllegalStateException("No content type for " + resource);
    }

    private static String etag(byte[] body) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(hash).substring(0, 22) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
