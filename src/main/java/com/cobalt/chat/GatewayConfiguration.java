package com.cobalt.chat;

import java.time.Clock;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.SettingsLoader;
import com.cobalt.chat.demo.DemoProvider;
import com.cobalt.chat.http.AsyncPlatformHttpEngine;
import com.cobalt.chat.http.Authenticator;
import com.cobalt.chat.http.ErrorResponses;
import com.cobalt.chat.http.RequestBodies;
import com.cobalt.chat.provider.ProviderBreakers;
import com.cobalt.chat.provider.ProviderFailures;
import com.cobalt.chat.provider.ProviderHealth;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.provider.UpstreamClient;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.record.LatencyMetrics;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Conversations;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.stream.SseRelay;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates the configuration and binds the beans the routes call. Startup fails with every configuration problem
 * in one message before anything listens.
 */
public class GatewayConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayConfiguration.class);

    @Override
    public void configure(CamelContext camel) throws Exception {
        GatewaySettings settings = SettingsLoader.load(key -> camel.resolvePropertyPlaceholders("{{" + key + ":}}"));
        if (settings.authDisabled()) {
            LOG.warn("CHAT_AUTH_DISABLED=true: authentication is OFF and every caller is the single user 'local'."
                    + " Use this for demos and local runs only.");
        }
        LOG.info("Providers: primary={}, fallback={}", settings.primary().id(),
                settings.fallback() == null ? "none" : settings.fallback().id());

        Registry registry = camel.getRegistry();
        // a test may bind its own clock first (cooldowns and breakers then move when it says)
        Clock clock = registry.lookupByNameAndType("clock", Clock.class);
        if (clock == null) {
            clock = Clock.systemUTC();
        }
        int workers = Integer.parseInt(camel.resolvePropertyPlaceholders("{{http.worker-pool-size}}"));
        Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(workers));
        Database database = new Database(
                camel.resolvePropertyPlaceholders("{{chat.db.url}}"),
                camel.resolvePropertyPlaceholders("{{chat.db.user}}"),
                camel.resolvePropertyPlaceholders("{{chat.db.password:}}"),
                Integer.parseInt(camel.resolvePropertyPlaceholders("{{chat.db.pool-size}}")));
        ProviderHealth providerHealth = new ProviderHealth(clock);
        UpstreamClient upstreamClient = new UpstreamClient(vertx, settings, clock, providerHealth);
        ChatStore chatStore = new ChatStore(database.dataSource(), clock);

        registry.bind("vertx", vertx);
        registry.bind("platform-http-engine", new AsyncPlatformHttpEngine());
        registry.bind("latencyMetrics", new LatencyMetrics(camel));
        registry.bind("gatewaySettings", settings);
        registry.bind("clock", clock);
        ProviderBreakers breakers = new ProviderBreakers(
                key -> camel.resolvePropertyPlaceholders("{{" + key + ":}}"), clock);
        breakers.all().forEach((name, breaker) -> registry.bind(ProviderBreakers.beanName(name), breaker));
        registry.bind("providerBreakers", breakers);
        registry.bind("chatStore", chatStore);
        registry.bind("conversations", new Conversations());
        registry.bind("authenticator", new Authenticator(settings.authDisabled(), settings.jwtSecret()));
        registry.bind("requestBodies", new RequestBodies(settings.maxMessageLength()));
        registry.bind("errorResponses", new ErrorResponses());
        registry.bind("providerSelection", new ProviderSelection(settings.primary(), settings.fallback()));
        registry.bind("providerFailures", new ProviderFailures());
        registry.bind("upstreamClient", upstreamClient);
        registry.bind("providerHealth", providerHealth);
        registry.bind("sseRelay", new SseRelay());
        registry.bind("chatRecorder", new ChatRecorder(chatStore));
        registry.bind("demoProvider", new DemoProvider(vertx,
                Long.parseLong(camel.resolvePropertyPlaceholders("{{demo.token-delay-ms}}")),
                camel.resolvePropertyPlaceholders("{{demo.model}}")));

        // closed once the routes and the HTTP servers (which run on this Vert.x) have stopped
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStopped(CamelContext context) {
                upstreamClient.close();
                database.close();
                vertx.close();
            }
        });
    }
}
