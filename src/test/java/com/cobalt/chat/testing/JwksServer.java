package com.cobalt.chat.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An identity provider's JWKS endpoint on loopback, over real HTTP: it publishes the public half of keys generated
 * here (RSA for RS256, P-256 for ES256), counts every fetch, and can go silent (accept and never answer) or away.
 * Tokens are signed with the private halves, as the identity provider would sign them.
 */
public final class JwksServer implements AutoCloseable {

    public static final String PATH = "/.well-known/jwks.json";

    /** A signing key of the identity provider: its key id, JWS algorithm and key pair. */
    public record SigningKey(String kid, String alg, KeyPair pair) {

        public Algorithm algorithm() {
            return switch (alg) {
                case "RS256" -> Algorithm.RSA256((RSAPublicKey) pair.getPublic(), (RSAPrivateKey) pair.getPrivate());
                case "ES256" -> Algorithm.ECDSA256((ECPublicKey) pair.getPublic(), (ECPrivateKey) pair.getPrivate());
                default -> throw new IllegalArgumentException(alg);
            };
        }

        /** The public JWK, as an identity provider publishes it. */
        public Map<String, Object> jwk() {
            Map<String, Object> jwk = new LinkedHashMap<>();
            if (pair.getPublic() instanceof RSAPublicKey rsa) {
                jwk.put("kty", "RSA");
                jwk.put("kid", kid);
                jwk.put("use", "sig");
                jwk.put("alg", alg);
                jwk.put("n", b64(unsigned(rsa.getModulus(), 0)));
                jwk.put("e", b64(unsigned(rsa.getPublicExponent(), 0)));
            } else {
                ECPublicKey ec = (ECPublicKey) pair.getPublic();
                jwk.put("kty", "EC");
                jwk.put("kid", kid);
                jwk.put("use", "sig");
                jwk.put("alg", alg);
                jwk.put("crv", "P-256");
                jwk.put("x", b64(unsigned(ec.getW().getAffineX(), 32)));
                jwk.put("y", b64(unsigned(ec.getW().getAffineY(), 32)));
            }
            return jwk;
        }

        /** A token with this key's kid and the given claims builder's claims, signed with this key. */
        public String sign(JWTCreator.Builder claims) {
            return claims.withKeyId(kid).sign(algorithm());
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-jwks");
        t.setDaemon(true);
        return t;
    });
    private final List<SigningKey> published = new CopyOnWriteArrayList<>();
    /** JWKs published as they are, beside the signing keys: keys the gateway cannot use. */
    private final List<Map<String, Object>> publishedAsIs = new CopyOnWriteArrayList<>();
    private final AtomicInteger fetches = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean silent;

    private JwksServer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.setExecutor(executor);
        server.createContext(PATH, this::serve);
        server.start();
    }

    /** A JWKS endpoint publishing the given keys. */
    public static JwksServer publishing(SigningKey... keys) {
        JwksServer s = new JwksServer();
        s.published.addAll(Arrays.asList(keys));
        return s;
    }

    public static SigningKey rsaKey(String kid) {
        return new SigningKey(kid, "RS256", generate("RSA", null));
    }

    public static SigningKey ecKey(String kid) {
        return new SigningKey(kid, "ES256", generate("EC", new ECGenParameterSpec("secp256r1")));
    }

    /** The claims an identity provider puts in a token for {@code sub}, valid for ten minutes. */
    public static JWTCreator.Builder claims(String sub, String issuer, String audience) {
        JWTCreator.Builder b = JWT.create().withSubject(sub).withIssuedAt(Instant.now())
                .withExpiresAt(Instant.now().plusSeconds(600));
        if (issuer != null) {
            b.withIssuer(issuer);
        }
        if (audience != null) {
            b.withAudience(audience);
        }
        return b;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
    }

    /** Requests the JWKS endpoint has received so far. */
    public int fetches() {
        return fetches.get();
    }

    /** Publishes one more key, as an identity provider does before it starts signing with it. */
    public void publish(SigningKey key) {
        published.add(key);
    }

    /** Publishes a JWK as it stands (a key type the gateway cannot use, say), beside the signing keys. */
    public void publish(Map<String, Object> jwk) {
        publishedAsIs.add(jwk);
    }

    /** From now on every request is accepted and never answered (until {@link #close()}). */
    public void goSilent() {
        silent = true;
    }

    /** Stops listening: connections to the port are refused from now on. */
    public void stop() {
        released.countDown();
        server.stop(0);
    }

    @Override
    public void close() {
        stop();
        executor.shutdownNow();
    }

    private void serve(HttpExchange exchange) throws IOException {
        fetches.incrementAndGet();
        try (exchange) {
            if (silent) {
                try {
                    released.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            List<Map<String, Object>> keys = new ArrayList<>();
            published.forEach(k -> keys.add(k.jwk()));
            keys.addAll(publishedAsIs);
            byte[] body;
            try {
                body = GatewayClient.JSON.writeValueAsBytes(Map.of("keys", keys));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static KeyPair generate(String algorithm, ECGenParameterSpec spec) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (spec != null) {
                g.initialize(spec);
            } else {
                g.initialize(2048);
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Big-endian magnitude without a sign byte, left-padded with zeros to {@code length} when given. */
    private static byte[] unsigned(BigInteger v, int length) {
        byte[] b = v.toByteArray();
        if (b.length > 1 && b[0] == 0) {
            b = Arrays.copyOfRange(b, 1, b.length);
        }
        if (length > b.length) {
            byte[] padded = new byte[length];
            System.arraycopy(b, 0, padded, length - b.length, b.length);
            b = padded;
        }
        return b;
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
