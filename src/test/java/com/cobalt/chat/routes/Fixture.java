package com.cobalt.chat.routes;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.cobalt.chat.config.BreakerSettings;
import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.CatalogSettings;
import com.cobalt.chat.config.SplitArm;
import com.cobalt.chat.http.Authenticator;
import com.cobalt.chat.http.ErrorResponses;
import com.cobalt.chat.http.RequestBodies;
import com.cobalt.chat.limit.LimitRules;
import com.cobalt.chat.limit.LocalLimitLedger;
import com.cobalt.chat.limit.UserLimits;
import com.cobalt.chat.model.Catalog;
import com.cobalt.chat.model.ModelAvailability;
import com.cobalt.chat.model.ModelListing;
import com.cobalt.chat.model.ModelSplit;
import com.cobalt.chat.model.SessionModels;
import com.cobalt.chat.openai.ModelCatalog;
import com.cobalt.chat.openai.OpenAiCompletions;
import com.cobalt.chat.openai.OpenAiRequests;
import com.cobalt.chat.provider.ProviderAdmin;
import com.cobalt.chat.provider.ProviderBreakers;
import com.cobalt.chat.provider.ProviderFailures;
import com.cobalt.chat.provider.ProviderHealth;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.provider.ProviderStats;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.record.ExchangeObserver;
import com.cobalt.chat.record.LlmMetrics;
import com.cobalt.chat.record.PriceTable;
import com.cobalt.chat.record.TokenEstimator;
import com.cobalt.chat.record.UsageReports;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.UserMessageWrites;
import com.cobalt.chat.store.Conversations;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.testing.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.spi.Registry;

/**
 * The real beans the routes call, wired as GatewayConfiguration wires them, over a small catalog and an H2 database
 * in memory. Only the upstream client is a stub ({@link StubUpstream}): no route test touches the network.
 *
 * <p>Catalog: {@code llama} on sambanova (primary, default) and on azure (fallback); {@code gpt-4o} on azure with
 * the equivalent {@code llama}; {@code gpt-4o-mini} on azure alone, without an equivalent; {@code local-model} on
 * the declared provider {@code openai-local}.
 */
final class Fixture implements AutoCloseable {

    static final String SECRET = "route-tests-secret-route-tests-secret-0123456789";
    static final List<String> PROVIDERS = List.of("sambanova", "azure", "openai-local");
    static final int MAX_TOKENS = 2048;

    final TestClock clock = new TestClock();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final List<SplitArm> split = new ArrayList<>();

    final Database database;
    final ChatStore store;
    final ProviderSelection selection;
    final CatalogSettings catalogSettings;
    final Catalog catalog;
    final ProviderHealth health;
    final ProviderBreakers breakers;
    final StubUpstream upstream = new StubUpstream();
    final LocalLimitLedger limits;
    final Authenticator authenticator;
    /** Where the user's messages are written, as in the gateway: threads of their own, beside the route's. */
    final ExecutorService messageWriters = Executors.newFixedThreadPool(2);

    Fixture() {
        this(new LimitRules(100, 10_000, 4));
    }

    Fixture(LimitRules rules) {
        database = new Database("jdbc:h2:mem:routes-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
        store = new ChatStore(database.dataSource(), clock, 20);
        selection = new ProviderSelection("sambanova", "azure", PROVIDERS, Map.of());
        catalogSettings = new CatalogSettings(List.of(
                new CatalogModel("llama", "sambanova", "Meta-Llama-3.3-70B-Instruct", null, null),
                new CatalogModel("llama", "azure", "llama-deployment", null, null),
                new CatalogModel("gpt-4o", "azure", "gpt-4o-prod", 128000, 16384),
                new CatalogModel("gpt-4o-mini", "azure", "gpt-4o-mini-prod", null, null),
                new CatalogModel("local-model", "openai-local", "qwen2.5-7b", null, null)),
                new LinkedHashMap<>(Map.of("sambanova", "llama", "azure", "gpt-4o", "openai-local", "local-model")),
                Map.of("gpt-4o", "llama"), split, false);
        catalog = new Catalog(catalogSettings, selection);
        health = new ProviderHealth(clock, PROVIDERS);
        Map<String, BreakerSettings> breakerSettings = new LinkedHashMap<>();
        PROVIDERS.forEach(p -> breakerSettings.put(p, BreakerSettings.DEFAULTS));
        breakers = new ProviderBreakers(breakerSettings, clock);
        limits = new LocalLimitLedger(database.dataSource(), clock, rules);
        authenticator = new Authenticator(false, SECRET, null, null, null, "admin");
    }

    /** Binds every bean a route file refers to, under the name the route uses. */
    void bind(CamelContext camel, Registry registry) {
        TokenEstimator tokens = new TokenEstimator();
        Properties prices = new Properties();
        prices.setProperty("llm.price.azure.gpt-4o", "2.50,10.00");
        registry.bind(MicrometerConstants.METRICS_REGISTRY_NAME, meters);
        registry.bind("clock", clock);
        breakers.all().forEach((name, breaker) -> registry.bind(ProviderBreakers.beanName(name), breaker));
        registry.bind("providerBreakers", breakers);
        registry.bind("providerHealth", health);
        registry.bind("brokenStreams", new com.cobalt.chat.provider.BrokenStreams(breakers, health));
        registry.bind("providerSelection", selection);
        registry.bind("providerAdmin", new ProviderAdmin(selection, breakers, health));
        registry.bind("providerFailures", new ProviderFailures(catalog));
        registry.bind("catalog", catalog);
        registry.bind("sessionModels", new SessionModels(catalog, new ModelSplit(split, new Random(7))));
        registry.bind("modelListing", new ModelListing(catalog, new ModelAvailability(breakers, health)));
        registry.bind("upstreamClient", upstream);
        registry.bind("chatStore", store);
        registry.bind("userMessageWrites", new UserMessageWrites(store, messageWriters));
        registry.bind("conversations", new Conversations(catalog, tokens, MAX_TOKENS));
        registry.bind("userLimits", new UserLimits(limits));
        registry.bind("sessionCreationRate", new com.cobalt.chat.limit.SessionCreationRate(100_000, clock));
        registry.bind("authenticator", authenticator);
        registry.bind("requestBodies", new RequestBodies(4000));
        registry.bind("openAiRequests", new OpenAiRequests(MAX_TOKENS, 4000));
        registry.bind("webAssets", new com.cobalt.chat.web.WebAssets());
        registry.bind("modelCatalog", new ModelCatalog(catalog, clock));
        registry.bind("openAiCompletions", new OpenAiCompletions(clock));
        registry.bind("errorResponses", new ErrorResponses());
        registry.bind("sseRelay", new SseRelay());
        // never started: the route tests' answers are short; the checkpoints have tests of their own
        com.cobalt.chat.store.AnswerCheckpoints checkpoints = new com.cobalt.chat.store.AnswerCheckpoints(
                database.dataSource(), clock, java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(60), true);
        registry.bind("answerCheckpoints", checkpoints);
        registry.bind("chatRecorder", new ChatRecorder(store, tokens, new PriceTable(prices), checkpoints));
        Map<String, ProviderStats> stats = new LinkedHashMap<>();
        PROVIDERS.forEach(p -> stats.put(p, new ProviderStats(p, breakers.of(p), health)));
        registry.bind("exchangeObserver", new ExchangeObserver(new LlmMetrics(camel), stats, clock));
        registry.bind("usageReports", new UsageReports(database.dataSource(), clock));
    }

    static String token(String user) {
        return com.auth0.jwt.JWT.create().withSubject(user).withExpiresAt(java.time.Instant.now().plusSeconds(600))
                .sign(com.auth0.jwt.algorithms.Algorithm.HMAC256(SECRET));
    }

    static String adminToken(String user) {
        return com.auth0.jwt.JWT.create().withSubject(user).withClaim("roles", List.of("admin"))
                .withExpiresAt(java.time.Instant.now().plusSeconds(600))
                .sign(com.auth0.jwt.algorithms.Algorithm.HMAC256(SECRET));
    }

    /** A session of {@code user}, as session-create stores it; returns its id. */
    String session(String user, String title) {
        return store.createSession(user, new com.cobalt.chat.store.NewSession(title, null)).id();
    }

    /** Rows of a query on the test database, each column by its lower-case label. */
    List<Map<String, Object>> rows(String sql, Object... args) {
        try (java.sql.Connection c = database.dataSource().getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                List<Map<String, Object>> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(java.util.Locale.ROOT), rs.getObject(i));
                    }
                    out.add(row);
                }
                return out;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        messageWriters.shutdownNow();
        limits.close();
        database.close();
    }
}
