package com.cobalt.chat;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.random.RandomGenerator;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.InvalidConfigurationException;
import com.cobalt.chat.config.UnknownVariables;
import com.cobalt.chat.config.ProviderProperties;
import com.cobalt.chat.config.RuntimeSettings;
import com.cobalt.chat.config.SettingsLoader;
import com.cobalt.chat.credential.ProviderCredentials;
import com.cobalt.chat.demo.DemoProvider;
import com.cobalt.chat.http.AsyncPlatformHttpEngine;
import com.cobalt.chat.http.Authenticator;
import com.cobalt.chat.http.ErrorResponses;
import com.cobalt.chat.web.WebAssets;
import com.cobalt.chat.http.RequestBodies;
import com.cobalt.chat.limit.LimitLedger;
import com.cobalt.chat.limit.LimitRules;
import com.cobalt.chat.limit.LocalLimitLedger;
import com.cobalt.chat.limit.SessionCreationRate;
import com.cobalt.chat.limit.SharedLimitLedger;
import com.cobalt.chat.limit.UserLimits;
import com.cobalt.chat.model.Catalog;
import com.cobalt.chat.model.CatalogCheck;
import com.cobalt.chat.model.ModelAvailability;
import com.cobalt.chat.model.ModelListing;
import com.cobalt.chat.model.ModelSplit;
import com.cobalt.chat.model.SessionModels;
import com.cobalt.chat.openai.ModelCatalog;
import com.cobalt.chat.openai.OpenAiCompletions;
import com.cobalt.chat.openai.OpenAiRequests;
import com.cobalt.chat.provider.ProviderAdmin;
import com.cobalt.chat.provider.BrokenStreams;
import com.cobalt.chat.provider.ProviderBreakers;
import com.cobalt.chat.provider.ProviderFailures;
import com.cobalt.chat.provider.ProviderHealth;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.provider.ProviderStats;
import com.cobalt.chat.provider.ProviderTrust;
import com.cobalt.chat.provider.UpstreamClient;
import com.cobalt.chat.provider.WeightedBalance;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.record.EntryRouteMetrics;
import com.cobalt.chat.record.ExchangeObserver;
import com.cobalt.chat.record.LlmMetrics;
import com.cobalt.chat.record.PriceTable;
import com.cobalt.chat.record.TokenEstimator;
import com.cobalt.chat.record.UsageReports;
import com.cobalt.chat.store.AnswerCheckpoints;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.Conversations;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.store.UserMessageWrites;
import com.cobalt.chat.stream.LiveStreams;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.trace.ChatTracing;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
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
    static final String RECORD_THREAD_POOL = "chatRecord";

    @Override
    public void configure(CamelContext camel) throws Exception {
        Set<String> readKeys = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Function<String, String> properties = key -> {
            readKeys.add(key);
            return camel.resolvePropertyPlaceholders("{{" + key + ":}}");
        };
        Set<String> priceKeys = camel.getPropertiesComponent().loadProperties(k -> k.startsWith(PriceTable.PREFIX))
                .stringPropertyNames();
        // the settings and the OTEL_* variables in one refusal: a bad OTEL_EXPORTER_OTLP_ENDPOINT was left out of
        // it when any setting was wrong too, and came up only at the next start (black-box probe)
        List<String> problems = new java.util.ArrayList<>();
        GatewaySettings loaded = null;
        try {
            loaded = SettingsLoader.load(properties, catalogProviderIds(camel), declaredProviderIds(camel), priceKeys);
        } catch (InvalidConfigurationException invalid) {
            problems.addAll(invalid.problems());
        }
        try {
            ChatTracing.validate(properties); // a bad OTEL_EXPORTER_OTLP_ENDPOINT is refused before anything opens
        } catch (InvalidConfigurationException invalid) {
            problems.addAll(invalid.problems());
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        GatewaySettings settings = loaded;
        RuntimeSettings runtime = settings.runtime();
        requirePortFree("MANAGEMENT_PORT", settings.managementHost(), runtime.managementPort());
        // the chat port opens last (AsyncPlatformHttpEngine.listen): a busy one is refused before anything starts
        requirePortFree("HTTP_PORT", settings.httpHost(), runtime.httpPort());
        if (settings.authDisabled()) {
            LOG.warn("CHAT_AUTH_DISABLED=true: authentication is OFF and every caller is the single user 'local'."
                    + " Use this for demos and local runs only.");
            if (!SettingsLoader.isLoopback(settings.httpHost())) {
                LOG.warn("CHAT_AUTH_DISABLED_ALLOW_REMOTE=true: the chat API listens on {} with authentication off",
                        settings.httpHost());
            }
        }
        // the bind addresses as validated (the default depends on whether auth is on), set on Camel's two servers
        // before they listen (their camel.server.* / camel.management.* properties are read before this runs)
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                // Camel's main server takes a free loopback port: the chat port opens once the gateway has started
                // (AsyncPlatformHttpEngine.listen)
                context.hasServices(MainHttpServer.class).forEach(s -> {
                    s.setHost(AsyncPlatformHttpEngine.CAMEL_SERVER_HOST);
                    s.setPort(AsyncPlatformHttpEngine.CAMEL_SERVER_PORT);
                });
                context.hasServices(ManagementHttpServer.class).forEach(s -> s.setHost(settings.managementHost()));
            }
        });
        LOG.info("Providers: {}; primary={}, fallback={}", settings.providers().values().stream()
                        .map(p -> p.id() + " (" + p.kind().id() + ")").collect(java.util.stream.Collectors.joining(", ")),
                settings.primary(), settings.fallback() == null ? "none" : settings.fallback());
        List<String> providerIds = List.copyOf(settings.providers().keySet());

        // routes name classes in expressions (the simple language's `is`), resolved per evaluation otherwise
        camel.setClassResolver(new CachingClassResolver(camel.getClassResolver()));
        if (Boolean.parseBoolean(properties.apply("chat.routes.reload").trim())) {
            // a reloaded file replaces its own routes only, and keeps them when its new version fails to build
            RouteReloadGuard.install(camel);
        }
        Registry registry = camel.getRegistry();
        // a test may bind its own clock first (cooldowns and breakers then move when it says)
        Clock clock = registry.lookupByNameAndType("clock", Clock.class);
        if (clock == null) {
            clock = Clock.systemUTC();
        }
        // native epoll where Netty has it for this machine, NIO elsewhere (pom.xml says why)
        // at least as many event loops as the chat API's servers (Vert.x's own default is two per core)
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(
                Math.max(runtime.eventLoops(), VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE)));
        LOG.info("Network transport: {}", vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
        Database database = openDatabase(properties, runtime.dbPoolSize(), runtime.dbConnectionTimeoutMs());
        LimitRules rules = new LimitRules(settings.rateLimitPerMinute(), settings.dailyMessageQuota(),
                settings.maxConcurrentStreams());
        LimitLedger limits = settings.limitsShared()
                ? new SharedLimitLedger(database.dataSource(), clock, rules,
                        Duration.ofSeconds(runtime.streamLeaseSeconds()))
                : new LocalLimitLedger(database.dataSource(), clock, rules);
        // where the limits live in the chat database, a chat's admission and its session's read are one statement
        ChatStore chatStore = new ChatStore(database.dataSource(), clock, settings.maxContextMessages(),
                settings.maxSessionsPerUser(), (long) runtime.historyCacheMb() << 20, limits.slotsInChatDatabase());
        AnswerCheckpoints checkpoints = new AnswerCheckpoints(database.dataSource(), clock,
                Duration.ofMillis(settings.checkpointMs()), Duration.ofSeconds(settings.streamLeaseSeconds()),
                settings.databaseEmbedded());
        registry.bind("answerCheckpoints", checkpoints);
        ProviderHealth providerHealth = new ProviderHealth(clock, providerIds);
        ProviderBreakers breakers = new ProviderBreakers(settings.breakers(), clock);
        Map<String, String> aliases = new LinkedHashMap<>();
        ProviderProperties.ALIASES.forEach((alias, id) -> {
            if (settings.providers().containsKey(id)) {
                aliases.put(alias, id);
            }
        });
        ProviderSelection selection = new ProviderSelection(settings.primary(), settings.fallback(), providerIds,
                aliases);
        LiveStreams liveStreams = new LiveStreams();
        // a test may bind its own seeded source first, so the A/B split's and the balance's draws are reproducible
        RandomGenerator random = registry.lookupByNameAndType("random", RandomGenerator.class);
        if (random == null) {
            random = new Random();
        }
        WeightedBalance balance = null;
        if (settings.weightedBalance()) {
            Map<String, Integer> weights = new LinkedHashMap<>();
            settings.providers().values().forEach(p -> weights.put(p.id(), p.weight()));
            balance = new WeightedBalance(weights, providerHealth, breakers, random);
            LOG.info("LLM_BALANCE=weighted: a model served by several providers is spread by weight ({})", weights);
        }
        Catalog catalog = new Catalog(settings.catalog(), selection, balance);
        List<String> stranded = catalog.withoutFallback();
        if (!stranded.isEmpty()) {
            LOG.warn("No fallback for {} of {}'s models: the fallback provider {} serves neither them nor an"
                            + " equivalent ({}). Name equivalents in LLM_MODEL_EQUIVALENTS (model=equivalent, ...){}",
                    stranded.size(), settings.primary(), settings.fallback(), String.join(", ", stranded),
                    settings.catalog().implicitEquivalents() ? ""
                            : "; with an LLM_MODELS_<ID> list the providers' default models no longer stand in for"
                            + " each other");
        }
        ProviderCredentials credentials = new ProviderCredentials(settings);
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarted(CamelContext context) {
                credentials.start();
            }

            @Override
            public void onContextStopped(CamelContext context) {
                credentials.close();
            }
        });
        // LLM_TRUSTED_CA_FILE read once, before anything calls a provider: a bad file stops the start
        ProviderTrust providerTrust = ProviderTrust.of(settings.transport().trustedCaFile());
        UpstreamClient upstreamClient = new UpstreamClient(vertx, settings, clock, providerHealth, liveStreams,
                (provider, upstreamName) -> settings.catalog().models().stream()
                        .filter(m -> m.provider().equals(provider) && m.upstreamName().equals(upstreamName))
                        .findFirst().orElse(null),
                credentials, providerTrust);
        // a model configured llm.model.<id>.reasoning = think-tags has its <think> text split from the answer
        upstreamClient.readThinkTags((provider, upstreamName) -> settings.catalog().models().stream()
                .anyMatch(m -> m.thinkTags() && m.provider().equals(provider) && m.upstreamName().equals(upstreamName)));
        ModelSplit split = new ModelSplit(settings.catalog().split(), random);
        ModelAvailability availability = new ModelAvailability(breakers, providerHealth);
        LOG.info("Model catalog: {} (default {}){}", String.join(", ", catalog.ids()), catalog.defaultModel(),
                split.active() ? "; A/B split of new sessions " + settings.catalog().split() : "");
        AsyncPlatformHttpEngine engine = new AsyncPlatformHttpEngine();
        engine.setWorkerPoolSize(runtime.workerPoolSize());
        engine.setWorkerKeepAliveSeconds(runtime.workerKeepAliveSeconds());
        engine.setH2cEnabled(runtime.h2cEnabled());
        engine.setLoopbackHostsOnly(settings.authDisabled() && SettingsLoader.isLoopback(settings.httpHost()));
        engine.setEventLoops(runtime.eventLoops());
        engine.setListenAddress(settings.httpHost(), runtime.httpPort());
        engine.setOpenAiMaxBodyBytes(runtime.openAiMaxBodyBytes());
        engine.setConnectionTimeouts(runtime.requestTimeoutSeconds(), runtime.idleConnectionTimeoutSeconds());
        engine.setChatQueueSize(runtime.chatQueueSize());
        engine.setApiPool(runtime.apiPoolSize(), runtime.apiQueueSize());
        ChatTracing tracing = tracing(camel, properties);
        engine.setTracing(tracing);

        // the chat-record route's threads step (executorService chatRecord): stores answers off the event loop
        camel.getExecutorServiceManager().registerThreadPoolProfile(new ThreadPoolProfileBuilder(RECORD_THREAD_POOL)
                .poolSize(runtime.recordThreads()).maxPoolSize(runtime.recordThreads()).maxQueueSize(10_000)
                // a full queue fails the record step (the client gets the answer_not_stored error event) rather
                // than running JDBC on the event loop the relay finished on
                .rejectedPolicy(ThreadPoolRejectedPolicy.Abort).build());

        // camel_exchanges_* for the routes a request enters, not for the direct: routes they call (EntryRouteMetrics)
        camel.addRoutePolicyFactory(new EntryRouteMetrics());
        registry.bind("vertx", vertx);
        registry.bind("platform-http-engine", engine);
        registry.bind("clock", clock);
        registry.bind("gatewaySettings", settings);
        breakers.all().forEach((name, breaker) -> registry.bind(ProviderBreakers.beanName(name), breaker));
        registry.bind("providerBreakers", breakers);
        registry.bind("providerHealth", providerHealth);
        registry.bind("brokenStreams", new BrokenStreams(breakers, providerHealth));
        registry.bind("providerSelection", selection);
        Map<String, String> authModes = new LinkedHashMap<>();
        Map<String, Integer> weights = new LinkedHashMap<>();
        settings.providers().values().forEach(p -> {
            authModes.put(p.id(), credentials.of(p.id()).mode());
            weights.put(p.id(), p.weight());
        });
        registry.bind("providerAdmin", new ProviderAdmin(selection, breakers, providerHealth, authModes, weights));
        registry.bind("providerFailures", new ProviderFailures(catalog));
        registry.bind("catalog", catalog);
        registry.bind("sessionModels", new SessionModels(catalog, split));
        registry.bind("modelListing", new ModelListing(catalog, availability));
        registry.bind("upstreamClient", upstreamClient);
        registry.bind("chatStore", chatStore);
        // the user's message is written beside the provider call (UserMessageWrites), on threads of the chatRecord
        // profile: JDBC off the route worker, which goes on to the provider meanwhile
        java.util.concurrent.ExecutorService messageWrites =
                camel.getExecutorServiceManager().newThreadPool(chatStore, "chatMessageWrites", RECORD_THREAD_POOL);
        registry.bind("userMessageWrites", new UserMessageWrites(chatStore, messageWrites));
        TokenEstimator tokenEstimator = new TokenEstimator();
        registry.bind("conversations", new Conversations(catalog, tokenEstimator, settings.maxTokens()));
        LOG.info("Per-user limits: {}", settings.limitsShared()
                ? "shared through the database (exact across instances)" : "kept by this instance (alone on its database)");
        // a slot released where an exchange completes on an event loop is freed on the message writes' threads
        registry.bind("userLimits", new UserLimits(limits, chatStore, messageWrites));
        registry.bind("sessionCreationRate", new SessionCreationRate(settings.sessionCreatesPerMinute(), clock));
        registry.bind("authenticator", new Authenticator(settings.authDisabled(), settings.jwtSecret(),
                settings.jwtJwksUrl(), settings.jwtIssuer(), settings.jwtAudience(), properties.apply("chat.admin-role")));
        registry.bind("requestBodies", new RequestBodies(settings.maxMessageLength()));
        registry.bind("openAiRequests", new OpenAiRequests(settings.maxTokens(), settings.maxMessageLength()));
        registry.bind("modelCatalog", new ModelCatalog(catalog, clock));
        registry.bind("openAiCompletions", new OpenAiCompletions(clock));
        WebAssets webAssets = new WebAssets();
        LOG.info("Web page served at / with {}", String.join(", ", webAssets.libraries()));
        registry.bind("webAssets", webAssets);
        registry.bind("sseRelay", new SseRelay());
        // the keys come from the properties; each value resolves as usual, so LLM_PRICE_AZURE_GPT_4O overrides one
        Properties priceProperties = new Properties();
        priceKeys.forEach(k -> priceProperties.setProperty(k, properties.apply(k)));
        // a catalog model's price may come from the environment alone (LLM_PRICE_AZURE_GPT_4O), by its catalog id or
        // by its upstream name (a deployment, a SambaNova model id), so a container needs no file for a new model
        for (CatalogModel m : settings.catalog().models()) {
            for (String name : new String[] {m.id(), m.upstreamName()}) {
                String key = PriceTable.PREFIX + m.provider() + "." + name;
                String price = properties.apply(key);
                if (price != null && !price.isBlank()) {
                    priceProperties.setProperty(key, price);
                }
            }
        }
        ChatRecorder chatRecorder = new ChatRecorder(chatStore, tokenEstimator, new PriceTable(priceProperties),
                checkpoints);
        registry.bind("chatRecorder", chatRecorder);
        // an answer lost with its instance gets an estimated usage when it is swept, priced like any other
        List<CatalogModel> catalogModels = settings.catalog().models();
        checkpoints.estimateSweptUsage((provider, model, prompt, completion) -> chatRecorder.swept(provider, model,
                catalogModels.stream().filter(m -> m.provider().equals(provider) && m.id().equals(model))
                        .map(CatalogModel::upstreamName).findFirst().orElse(null), prompt, completion),
                settings.maxContextMessages());
        // before anything listens: the answers a dead instance (or this one's last run) left streaming are interrupted
        checkpoints.sweepAtStart();
        LlmMetrics metrics = new LlmMetrics(camel);
        metrics.documentedLabelsOnly();
        registry.bind("errorResponses", new ErrorResponses(metrics));
        engine.setErrorCounter((code, status) -> metrics.error(status, code));
        database.meterInto(metrics.registry());
        AutoCloseable processMeters = metrics.bindProcessMeters();
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStopped(CamelContext context) {
                try {
                    processMeters.close();
                } catch (Exception e) {
                    LOG.debug("Process meters did not close: {}", e.getClass().getSimpleName());
                }
            }
        });
        if (balance != null) {
            WeightedBalance shares = balance;
            camel.addLifecycleStrategy(new LifecycleStrategySupport() {
                @Override
                public void onContextStarted(CamelContext context) {
                    for (String p : providerIds) {
                        Gauge.builder("llm_provider_share", () -> shares.share(p))
                                .description("LLM_BALANCE=weighted: the provider's weight times the lowest rate-limit"
                                        + " headroom of its models (x-ratelimit-remaining-*, per deployment); 0 while"
                                        + " one of its models cools down or its breaker is open")
                                .tag("provider", p).register(metrics.registry());
                    }
                }
            });
        }
        Map<String, ProviderStats> stats = new LinkedHashMap<>();
        settings.providers().keySet().forEach(p -> stats.put(p, new ProviderStats(p, breakers.of(p), providerHealth)));
        registry.bind("exchangeObserver", new ExchangeObserver(metrics, stats, clock));
        registry.bind("usageReports", new UsageReports(database.dataSource(), clock));
        registry.bind("demoProvider", new DemoProvider(vertx, runtime.demoTokenDelayMs(),
                properties.apply("demo.model")));

        if (runtime.catalogCheckEnabled()) {
            CatalogCheck check = new CatalogCheck(settings.providers(), settings.catalog().models(), availability,
                    runtime.catalogCheckAzure(), runtime.catalogCheckSeconds(),
                    Duration.ofMillis(settings.responseHeadersTimeoutMs()), id -> credentials.of(id).header(),
                    providerTrust);
            camel.addLifecycleStrategy(new LifecycleStrategySupport() {
                @Override
                public void onContextStarted(CamelContext context) {
                    check.start();
                }

                @Override
                public void onContextStopping(CamelContext context) {
                    check.stop();
                }
            });
        }
        // one route per provider, provider-<id>, made from the provider-call Kamelet when the context starts; chat-router
        // reaches it by the same endpoint URI
        for (String id : providerIds) {
            camel.getEndpoint(providerEndpoint(id));
        }
        camel.addLifecycleStrategy(new GatewayLifecycle(settings, selection, breakers, providerHealth, availability,
                stats, metrics, upstreamClient, liveStreams, engine, vertx, database, limits, checkpoints, chatStore,
                runtime.healthProbeSeconds(), runtime.shutdownGraceSeconds()));
        // every setting has been read by now: a CHAT_/LLM_ variable none of them is, is likely a typo
        java.util.Properties file = camel.getPropertiesComponent().loadProperties();
        Set<String> knownKeys = new java.util.HashSet<>(readKeys);
        knownKeys.addAll(file.stringPropertyNames());
        for (String name : UnknownVariables.among(System.getenv(), knownKeys)) {
            LOG.warn("{} is set, but no setting of the gateway reads it (a typo? README, Configuration, lists them)",
                    name);
        }
        Map<String, String> entries = new TreeMap<>();
        file.stringPropertyNames().forEach(k -> entries.put(k, file.getProperty(k)));
        // settings read only in some configurations: a built-in provider's when it is configured, Entra ID's with entra
        Set<String> settingsKeys = new java.util.HashSet<>(readKeys);
        settingsKeys.addAll(com.cobalt.chat.config.ProviderProperties.builtInProperties());
        settingsKeys.add("llm.entra.credential");
        for (String key : UnknownVariables.unreadProperties(entries, settingsKeys)) {
            LOG.warn("{} is in application.properties, but no setting of the gateway reads it (a typo? README,"
                    + " Configuration, lists them)", key);
        }
    }

    /**
     * Traces when OTEL_EXPORTER_OTLP_ENDPOINT (otel.exporter.otlp.endpoint) is set, else null and no SDK at all. The
     * otel.* entries of the configuration are the SDK's defaults; the OTEL_* environment still wins over them.
     */
    private static ChatTracing tracing(CamelContext camel, Function<String, String> properties) {
        Map<String, String> otel = new TreeMap<>();
        camel.getPropertiesComponent().loadProperties(k -> k.startsWith("otel.")).stringPropertyNames()
                .forEach(k -> otel.put(k, properties.apply(k)));
        ChatTracing tracing = ChatTracing.fromConfiguration(properties, otel);
        if (tracing == null) {
            LOG.info("Traces: off (OTEL_EXPORTER_OTLP_ENDPOINT is not set)");
            return null;
        }
        LOG.info("Traces: on, OTLP export configured by the OTEL_* variables");
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStopped(CamelContext context) {
                tracing.close(); // after the drain: the last chats' spans are exported
            }
        });
        return tracing;
    }

    /** The providers named under llm.models.* in the properties and in the environment (LLM_MODELS_*). */
    private static Set<String> catalogProviderIds(CamelContext camel) {
        Set<String> ids = new TreeSet<>();
        camel.getPropertiesComponent().loadProperties(k -> k.startsWith("llm.models.")).stringPropertyNames()
                .forEach(k -> ids.add(k.substring("llm.models.".length())));
        System.getenv().keySet().stream().filter(k -> k.startsWith("LLM_MODELS_"))
                .forEach(k -> ids.add(ProviderProperties.idOfVariablePart(k.substring("LLM_MODELS_".length()))));
        return ids;
    }

    /**
     * The providers declared besides the built-in ones: llm.provider.<id>.kind in the properties, and
     * LLM_PROVIDER_<ID>_KIND in the environment (AZURE_WEST is the id azure-west).
     */
    private static Set<String> declaredProviderIds(CamelContext camel) {
        Set<String> ids = new TreeSet<>();
        camel.getPropertiesComponent().loadProperties(k -> k.startsWith("llm.provider.") && k.endsWith(".kind"))
                .stringPropertyNames().forEach(k -> ids.add(
                        k.substring("llm.provider.".length(), k.length() - ".kind".length())));
        System.getenv().keySet().stream()
                .filter(k -> k.startsWith("LLM_PROVIDER_") && k.endsWith("_KIND") && k.length() > 18)
                .forEach(k -> ids.add(ProviderProperties.idOfVariablePart(
                        k.substring("LLM_PROVIDER_".length(), k.length() - "_KIND".length()))));
        return ids;
    }

    /** The provider-call Kamelet's endpoint for one provider: the route provider-<id>, as chat-router names it. */
    static String providerEndpoint(String provider) {
        return "kamelet:provider-call/provider-" + provider + "?provider=" + provider + "&noErrorHandler=true";
    }

    /**
     * The management port must be free before Camel's server tries it: that server only logs a bind failure, and the
     * gateway would run with another process answering its health checks and metrics scrapes. (The chat port is
     * checked where its server listens.)
     */
    static void requirePortFree(String variable, String host, int port) {
        if (port == 0) {
            return;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, port));
        } catch (java.io.IOException e) {
            throw new InvalidConfigurationException(List.of(variable + "=" + port + ": cannot listen on " + host + ":"
                    + port + " (the port is already in use)"));
        }
    }

    /** A database that cannot be opened is a configuration problem, told as one line like the others. */
    private static Database openDatabase(Function<String, String> properties, int poolSize, int connectionTimeoutMs) {
        try {
            return new Database(properties.apply("chat.db.url"), properties.apply("chat.db.user"),
                    properties.apply("chat.db.password"), poolSize, connectionTimeoutMs);
        } catch (RuntimeException e) {
            throw new InvalidConfigurationException(List.of(databaseRefusal(e)));
        }
    }

    /**
     * Why the database could not be opened, naming the setting to mend: the login (CHAT_DB_USER, CHAT_DB_PASSWORD:
     * SQLState class 28), a database that does not exist (3D000), nothing listening or an unknown host (CHAT_DB_URL);
     * an embedded H2 file another process holds (90020), a corrupted one (90030), one that cannot be written (an
     * H2 error caused by an I/O failure: a full disk, a read-only folder).
     * Never the password or the driver's message (it may quote the URL's parameters).
     */
    /** H2's "Database may be already in use" (another process holds the file's lock). */
    static final String H2_FILE_IN_USE = "90020";
    /** PostgreSQL's "permission denied" (for a database, a schema, a table). */
    static final String INSUFFICIENT_PRIVILEGE = "42501";
    /** PostgreSQL's "too many connections" (the server's max_connections, or the role's connection limit). */
    static final String TOO_MANY_CONNECTIONS = "53300";
    /** H2's "File corrupted". */
    static final String H2_FILE_CORRUPTED = "90030";

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    static String databaseRefusal(Throwable failure) {
        String state = null;
        Throwable root = failure;
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException sql && sql.getSQLState() != null && state == null) {
                state = sql.getSQLState();
            }
            root = c;
        }
        if (state != null && state.startsWith("28")) {
            return "CHAT_DB_USER / CHAT_DB_PASSWORD: the database refused the login (SQLState " + state + ")";
        }
        if ("3D000".equals(state)) {
            return "CHAT_DB_URL: the database it names does not exist (SQLState 3D000)";
        }
        // said only "cannot open the database (PSQLException, SQLState 42501)" (data probe, 2026-12-05): what the
        // user needs, so an operator knows what to grant
        if (INSUFFICIENT_PRIVILEGE.equals(state)) {
            return "CHAT_DB_USER: the database refused this user a privilege (SQLState 42501): it needs CONNECT on"
                    + " the database, and to own or be allowed to create the gateway's tables in its schema (the"
                    + " migrations), and to read and write them";
        }
        // said only "cannot open the database (PSQLException, SQLState 53300)" (data probe, 2026-12-05): instances
        // times CHAT_DB_POOL_SIZE past the server's max_connections (100 by default) is a scale-out that cannot start
        if (TOO_MANY_CONNECTIONS.equals(state)) {
            return "CHAT_DB_URL: the database server has no connection left for this user (SQLState 53300): raise"
                    + " its max_connections or the user's connection limit, or lower CHAT_DB_POOL_SIZE (each instance"
                    + " opens up to that many)";
        }
        if (root instanceof java.net.ConnectException) {
            return "CHAT_DB_URL: nothing accepts connections at its host and port (ConnectException)";
        }
        if (root instanceof java.net.UnknownHostException) {
            return "CHAT_DB_URL: its host is unknown (UnknownHostException)";
        }
        // the embedded H2's own refusals said only "cannot open the database (MVStoreException, SQLState 90020)"
        // (crash probe, 2026-12-05): what is wrong with the file, and what to do, in words
        if (H2_FILE_IN_USE.equals(state)) {
            return "CHAT_DB_URL: the embedded database's file is in use by another process (SQLState 90020): an H2"
                    + " file serves one gateway; instances that share a database need PostgreSQL";
        }
        if (H2_FILE_CORRUPTED.equals(state)) {
            return "CHAT_DB_URL: the embedded database's file is corrupted (SQLState 90030): restore it from a"
                    + " backup, or move it aside to start with an empty database";
        }
        if (state != null && state.startsWith("90") && causedBy(failure, java.io.IOException.class)) {
            return "CHAT_DB_URL: the embedded database's file cannot be written (" + root.getClass().getSimpleName()
                    + ", SQLState " + state + "): check the free space on its disk and that the user running the"
                    + " gateway may write its folder";
        }
        return "CHAT_DB_URL: cannot open the database (" + root.getClass().getSimpleName()
                + (state == null ? "" : ", SQLState " + state) + ")";
    }
}
