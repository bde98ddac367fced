package com.cobalt.chat.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.auth0.jwk.Jwk;
import com.auth0.jwk.JwkException;
import com.auth0.jwk.JwkProvider;
import com.auth0.jwk.JwkProviderBuilder;
import com.auth0.jwk.JwksHttpClient;
import com.auth0.jwk.JwksHttpResponse;
import com.auth0.jwk.NetworkException;
import com.auth0.jwk.RateLimitReachedException;
import com.auth0.jwk.SigningKeyNotFoundException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identity provider's signing keys for RS256 and ES256 tokens, from its JWKS (CHAT_JWT_JWKS_URL).
 *
 * <p>Built on {@code com.auth0:jwks-rsa}, the companion library of java-jwt (the verifier the gateway already uses),
 * kept by the same team: it turns RSA and EC JWKs into {@code java.security} keys, keeps them per key id and rate
 * limits refreshes ({@code JwkProviderBuilder.cached} + {@code rateLimited}) - the parts that are easy to get subtly
 * wrong by hand. Its lookup order: a key id seen before is answered from memory; any other one takes a token from
 * the refresh bucket ({@value #REFRESH_BURST} at once, then one per minute) and is searched in the last fetched set,
 * which is fetched again when the id is not in it. The first fetch happens on the first token, never at startup.
 *
 * <p>The fetch itself is ours (the library's {@link JwksHttpClient} hook): the JDK HttpClient with a connect timeout
 * and a bound on the whole fetch (a stalled identity provider never holds a request longer than
 * {@link #FETCH_TIMEOUT}), a size cap, a status check, and a record of whether the last fetch worked. That record
 * decides what a lookup refused by the rate limit means: during an outage the key may well be valid (503), after a
 * good fetch that lacked it the key is unknown (401); a key in the last good set is still used.
 *
 * <p>Nothing here logs a token or key material; fetch failures are logged with the JWKS address and the failure's
 * type.
 */
final class JwksKeys {

    private static final Logger LOG = LoggerFactory.getLogger(JwksKeys.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_JWKS_BYTES = 512 * 1024;
    /** Lookups of a key id not seen before that may reach the identity provider at once; one more per minute. */
    static final int REFRESH_BURST = 10;
    static final int KEYS_IN_MEMORY = 50;
    static final Duration KEY_MEMORY = Duration.ofHours(1);

    /** No key with that id in a fresh JWKS: the token is not ours to accept (401). */
    static final class UnknownKey extends Exception {
        UnknownKey() {
            super(null, null, false, false);
        }
    }

    /** The JWKS cannot be fetched and the key is not in memory: the token may be valid, we cannot tell (503). */
    static final class Unavailable extends Exception {
        Unavailable() {
            super(null, null, false, false);
        }
    }

    private final String display;
    private final HttpClient http;
    private final JwkProvider provider;
    private volatile boolean lastFetchFailed;
    private volatile List<Jwk> lastGoodKeys = List.of();

    /** This machine: 127.0.0.0/8, ::1 or localhost (a name is not resolved; only the literal ones count). */
    static boolean loopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.equals("::1") || h.matches("127(\\.\\d{1,3}){3}");
    }

    JwksKeys(String jwksUrl) {
        URI uri = URI.create(jwksUrl);
        this.display = uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
        if ("http".equalsIgnoreCase(uri.getScheme()) && !loopback(uri.getHost())) {
            // the keys decide who anyone is: read over plain HTTP, whoever is on the way can hand in their own and
            // sign tokens for any user (security probe). Not refused - an identity service inside a cluster is often
            // reached so - but said once, at start
            LOG.warn("CHAT_JWT_JWKS_URL {} is plain http:// to another host: anyone on the network path could"
                    + " substitute the signing keys; use https://", display);
        }
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        try {
            this.provider = new JwkProviderBuilder(uri.toURL())
                    .cached(KEYS_IN_MEMORY, KEY_MEMORY)
                    .rateLimited(REFRESH_BURST, 1, TimeUnit.MINUTES)
                    .httpClient(new Fetcher(uri))
                    .build();
        } catch (IOException e) {
            throw new IllegalArgumentException("not a URL: " + display, e);
        }
    }

    /** Where the keys come from, without any user info or query. */
    String display() {
        return display;
    }

    /** The key the token's header names ({@code kid}; a set of one key also serves a token without one). */
    Jwk key(String kid) throws UnknownKey, Unavailable {
        try {
            return provider.get(kid);
        } catch (NetworkException e) {
            throw new Unavailable();
        } catch (RateLimitReachedException e) {
            Jwk known = find(lastGoodKeys, kid);
            if (known != null) {
                return known;
            }
            if (lastFetchFailed) {
                throw new Unavailable();
            }
            throw new UnknownKey();
        } catch (SigningKeyNotFoundException e) {
            throw new UnknownKey();
        } catch (JwkException e) {
            LOG.warn("Looking up a signing key in the JWKS at {} failed: {}", display, e.getClass().getSimpleName());
            throw new UnknownKey();
        }
    }

    /** The same search as the library's: by id, or the only key of the set when the token names none. */
    private static Jwk find(List<Jwk> keys, String kid) {
        if (kid == null) {
            return keys.size() == 1 ? keys.get(0) : null;
        }
        for (Jwk k : keys) {
            if (kid.equals(k.getId())) {
                return k;
            }
        }
        return null;
    }

    /** Fetches the JWKS for the library: bounded in time and size, and only a 200 with a JSON key set counts. */
    private final class Fetcher implements JwksHttpClient {

        private final URI uri;

        Fetcher(URI uri) {
            this.uri = uri;
        }

        @Override
        public JwksHttpResponse fetch(URL ignored) throws IOException {
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(FETCH_TIMEOUT)
                    .header("Accept", "application/json").GET().build();
            CompletableFuture<HttpResponse<byte[]>> pending =
                    http.sendAsync(request, info -> new CappedBody(MAX_JWKS_BYTES));
            try {
                HttpResponse<byte[]> response = pending.get(FETCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (response.statusCode() != 200) {
                    throw failed("HTTP status " + response.statusCode());
                }
                String body = new String(response.body(), StandardCharsets.UTF_8);
                List<Jwk> keys = parse(body);
                lastGoodKeys = keys;
                lastFetchFailed = false;
                LOG.info("Fetched the JWKS from {}: {} key(s)", display, keys.size());
                return new JwksHttpResponse(body, response.headers().map());
            } catch (TimeoutException e) {
                pending.cancel(true);
                throw failed("no answer within " + FETCH_TIMEOUT.toMillis() + " ms");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw failed(cause.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pending.cancel(true);
                throw failed("interrupted");
            }
        }

        private List<Jwk> parse(String body) throws IOException {
            JsonNode keys;
            try {
                keys = JSON.readTree(body).path("keys");
            } catch (IOException e) {
                throw failed("the answer is not JSON");
            }
            if (!keys.isArray()) {
                throw failed("the answer has no \"keys\" array");
            }
            List<Jwk> parsed = new ArrayList<>();
            for (JsonNode k : keys) {
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> values = JSON.convertValue(k, Map.class);
                    parsed.add(Jwk.fromValues(values));
                } catch (IllegalArgumentException e) {
                    // a key the library cannot read; the library's own parse decides what that means for the set
                }
            }
            return List.copyOf(parsed);
        }

        private IOException failed(String why) {
            lastFetchFailed = true;
            LOG.warn("The JWKS at {} could not be fetched: {}", display, why);
            return new IOException("JWKS fetch failed: " + why);
        }
    }

    /** A response body of at most {@code max} bytes; a larger one fails the fetch instead of filling the heap. */
    private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {

        private final int max;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        CappedBody(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (out.size() + b.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("the JWKS is larger than " + max + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }
}
