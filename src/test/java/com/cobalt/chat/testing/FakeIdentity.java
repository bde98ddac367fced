package com.cobalt.chat.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * A fake Microsoft identity endpoint on loopback that speaks the real wire formats:
 * <ul>
 *   <li>the App Service / Container Apps managed identity protocol (plain HTTP, as on App Service):
 *       {@code GET /msi/token?api-version=2019-08-01&resource=...} with the {@code X-IDENTITY-HEADER} secret, answered
 *       {@code {"access_token","expires_on","resource","token_type"}};</li>
 *   <li>Entra ID's OAuth 2.0 client-credentials token endpoint (HTTPS, with a certificate from a test key store):
 *       {@code POST /{tenant}/oauth2/v2.0/token} with a form, answered {@code {"token_type","expires_in","access_token"}}.</li>
 * </ul>
 * Every token it issues is distinct ({@code <prefix>-1}, {@code <prefix>-2}, ...) and recorded, so a test can tell which
 * token a request carried and how many the gateway asked for.
 */
public final class FakeIdentity implements AutoCloseable {

    public static final String IDENTITY_HEADER = "test-identity-header-secret";
    public static final String STORE_PASSWORD = "changeit";

    /** One request the fake answered: its path, query, the identity header, and the form of a POST. */
    public record Request(String method, String path, String query, String identityHeader, Map<String, String> form) {
    }

    private final HttpServer server;
    private final String scheme;
    private final String prefix;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<String> issued = new CopyOnWriteArrayList<>();
    private final AtomicInteger counter = new AtomicInteger();
    private volatile long lifetimeSeconds = 3600;
    private volatile int failWith;
    private volatile CountDownLatch held;

    private FakeIdentity(HttpServer server, String scheme, String prefix) {
        this.server = server;
        this.scheme = scheme;
        this.prefix = prefix;
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-identity");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** The App Service managed identity endpoint, plain HTTP on loopback. */
    public static FakeIdentity appService(String tokenPrefix) {
        try {
            return new FakeIdentity(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50),
                    "http", tokenPrefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An Entra ID authority over HTTPS with a self-signed certificate for 127.0.0.1, made with the JDK's keytool into
     * {@code keyStore} (PKCS12, password {@value #STORE_PASSWORD}); the same file serves the client as its trust store.
     */
    public static FakeIdentity authority(String tokenPrefix, Path keyStore) {
        try {
            if (!Files.exists(keyStore)) {
                String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
                Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "fake-authority", "-keyalg", "RSA",
                        "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1",
                        "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", STORE_PASSWORD,
                        "-keypass", STORE_PASSWORD).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("keytool failed: " + out);
                }
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                ks.load(in, STORE_PASSWORD.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, STORE_PASSWORD.toCharArray());
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf.getKeyManagers(), null, null);
            HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            https.setHttpsConfigurator(new HttpsConfigurator(ssl));
            return new FakeIdentity(https, "https", tokenPrefix);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the fake authority", e);
        }
    }

    /** {@code http(s)://127.0.0.1:port} */
    public String baseUrl() {
        return scheme + "://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Tokens issued from now on live this long. */
    public void lifetimeSeconds(long seconds) {
        lifetimeSeconds = seconds;
    }

    /** From now on every request is answered with this status (0: answer normally). */
    public void failWith(int status) {
        failWith = status;
    }

    /** From now on every request waits, unanswered, until {@link #release()}: an identity endpoint that hangs. */
    public void hold() {
        held = new CountDownLatch(1);
    }

    /** The held requests are answered (as {@link #failWith(int)} says), and new ones no longer wait. */
    public void release() {
        CountDownLatch h = held;
        held = null;
        if (h != null) {
            h.countDown();
        }
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The tokens issued so far, in order. */
    public List<String> issued() {
        return List.copyOf(issued);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> form = "POST".equals(exchange.getRequestMethod()) ? parse(body) : Map.of();
            String path = exchange.getRequestURI().getPath();
            requests.add(new Request(exchange.getRequestMethod(), path, exchange.getRequestURI().getRawQuery(),
                    exchange.getRequestHeaders().getFirst("X-IDENTITY-HEADER"), form));
            CountDownLatch h = held;
            if (h != null) {
                try {
                    h.await(5, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (failWith != 0) {
                send(exchange, failWith, failWith == 401
                        ? "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000222: The provided client"
                                + " secret keys for app are expired.\",\"error_codes\":[7000222]}"
                        : "{\"error\":\"temporarily_unavailable\",\"error_description\":\"fake says no\"}");
                return;
            }
            if (path.equals("/msi/token")) {
                if (!IDENTITY_HEADER.equals(exchange.getRequestHeaders().getFirst("X-IDENTITY-HEADER"))) {
                    send(exchange, 401, "{\"error\":\"invalid_header\"}");
                    return;
                }
                String token = issue();
                long expiresOn = Instant.now().getEpochSecond() + lifetimeSeconds;
                send(exchange, 200, "{\"access_token\":\"" + token + "\",\"expires_on\":\"" + expiresOn
                        + "\",\"resource\":\"https://cognitiveservices.azure.com\",\"token_type\":\"Bearer\"}");
            } else if (path.endsWith("/oauth2/v2.0/token")) {
                String token = issue();
                send(exchange, 200, "{\"token_type\":\"Bearer\",\"expires_in\":" + lifetimeSeconds
                        + ",\"ext_expires_in\":" + lifetimeSeconds + ",\"access_token\":\"" + token + "\"}");
            } else {
                send(exchange, 404, "{\"error\":\"not_found\"}");
            }
        }
    }

    private String issue() {
        String token = prefix + "-" + counter.incrementAndGet();
        issued.add(token);
        return token;
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> parse(String form) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : form.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                m.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
