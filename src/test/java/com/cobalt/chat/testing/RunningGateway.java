package com.cobalt.chat.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

import com.cobalt.chat.Application;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

/**
 * The real application (application.properties and routes/*.camel.yaml from the repository root, the same
 * Camel Main bootstrap as {@code java -jar}) started in-process on free loopback ports, with an in-memory H2
 * database of its own and the given property overrides.
 */
public final class RunningGateway implements AutoCloseable {

    public static final String JWT_SECRET = "test-secret-for-hs256-that-is-long-enough-0123456789";

    private final Main main;
    private final int port;
    private final int managementPort;

    private RunningGateway(Main main, int port, int managementPort) {
        this.main = main;
        this.port = port;
        this.managementPort = managementPort;
    }

    /** Defaults for tests: auth on with {@link #JWT_SECRET}, breaker that never opens, fast demo. */
    public static Map<String, String> defaults() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("chat.auth.disabled", "false");
        p.put("chat.jwt.secret", JWT_SECRET);
        p.put("chat.db.url", "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        p.put("llm.breaker.minimum-number-of-calls", "1000");
        p.put("llm.breaker.sliding-window-size", "1000");
        p.put("llm.max-retries", "0");
        p.put("chat.rate-limit-per-minute", "100000");
        p.put("chat.daily-message-quota", "1000000");
        p.put("chat.max-concurrent-streams", "100000");
        p.put("chat.max-sessions-per-user", "100000");
        p.put("chat.session-create-rate-per-minute", "100000");
        p.put("demo.token-delay-ms", "1");
        p.put("llm.fallback-provider", "");
        // the catalog check would take the fake upstreams' first scripted answers; CatalogCheckTest turns it on
        p.put("llm.catalog-check.enabled", "false");
        return p;
    }

    public static RunningGateway start(Map<String, String> overrides) {
        return start(overrides, Map.of());
    }

    /** With beans bound before the gateway configures itself, e.g. {@code "clock"} -> a {@link TestClock}. */
    public static RunningGateway start(Map<String, String> overrides, Map<String, Object> beans) {
        return start(overrides, beans, RunningGateway::freePort);
    }

    /** With the ports drawn from {@code ports} (RunningGatewayTest hands out a taken one). */
    static RunningGateway start(Map<String, String> overrides, Map<String, Object> beans, IntSupplier ports) {
        for (int attempt = 1; ; attempt++) {
            // a port found free can be taken before the gateway binds it (the two may even be the same one): then
            // the start is tried again on other ports; any other failure is the test's
            int port = ports.getAsInt();
            int managementPort = ports.getAsInt();
            while (managementPort == port) {
                managementPort = ports.getAsInt();
            }
            Map<String, String> props = defaults();
            props.putAll(overrides);
            props.put("http.port", String.valueOf(port));
            props.put("management.port", String.valueOf(managementPort));
            Main main = new Main();
            main.setPropertyPlaceholderLocations(Application.PROPERTIES_LOCATION);
            props.forEach(main::addOverrideProperty);
            beans.forEach(main::bind);
            try {
                main.start();
                return new RunningGateway(main, port, managementPort);
            } catch (Exception e) {
                stopQuietly(main);
                if (attempt < 3 && portTaken(e)) {
                    continue;
                }
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                throw new IllegalStateException("gateway failed to start: " + root, e);
            }
        }
    }

    private static boolean portTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // the gateway's own refusal says "(the port is already in use)"; the JDK's "Address already in use"
            if (t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("already in use")) {
                return true;
            }
        }
        return false;
    }

    private static void stopQuietly(Main main) {
        try {
            main.stop();
        } catch (Exception ignored) {
            // it did not start; nothing of it is left to stop
        }
    }

    /** The gateway with sambanova as primary at {@code upstream}, plus overrides. */
    public static RunningGateway sambanovaAt(FakeUpstream upstream, Map<String, String> overrides) {
        return sambanovaAt(upstream, overrides, Map.of());
    }

    public static RunningGateway sambanovaAt(FakeUpstream upstream, Map<String, String> overrides,
                                             Map<String, Object> beans) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "sambanova");
        p.put("sambanova.api-base", upstream.baseUrl() + "/v1");
        p.put("sambanova.api-key", "sn-test-key-0001");
        p.put("sambanova.model", "Meta-Llama-3.3-70B-Instruct");
        p.putAll(overrides);
        return start(p, beans);
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    public CamelContext camel() {
        return main.getCamelContext();
    }

    @Override
    public void close() {
        try {
            main.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every port {@link #freePort()} handed out in this JVM. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /**
     * A port free now that this JVM never handed out before: Linux gives a port just closed out again about once in
     * 5,000 draws, so a chat port and a management port drawn one after the other could be the same one.
     */
    public static int freePort() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0)) {
                s.setReuseAddress(true);
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
