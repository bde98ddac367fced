package com.cobalt.chat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.ProviderKind;
import com.cobalt.chat.http.AsyncPlatformHttpEngine;
import com.cobalt.chat.limit.LimitLedger;
import com.cobalt.chat.provider.ProviderBreakers;
import com.cobalt.chat.provider.ProviderHealth;
import com.cobalt.chat.health.AcceptingRequests;
import com.cobalt.chat.health.DatabaseReadiness;
import com.cobalt.chat.health.EventLoopLiveness;
import com.cobalt.chat.model.ModelAvailability;
import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.provider.ProviderStats;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.record.GatewayStats;
import com.cobalt.chat.record.LlmMetrics;
import com.cobalt.chat.provider.UpstreamClient;
import com.cobalt.chat.store.AnswerCheckpoints;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.UsageBacklog;
import com.cobalt.chat.store.Database;
import com.cobalt.chat.stream.LiveStreams;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.Route;
import org.apache.camel.component.platform.http.PlatformHttpEndpoint;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens around the routes' lifetime. At start: a readiness check per provider, the provider selection on
 * JMX and in metrics, the optional health probe. At shutdown (SIGTERM): new requests get 503 at once, streams in
 * flight get the grace period to finish and are then ended and stored as interrupted; the client, the pool and
 * Vert.x close after the HTTP servers.
 */
final class GatewayLifecycle extends LifecycleStrategySupport {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayLifecycle.class);
    static final String DEMO_ROUTE = "demo-upstream";

    private final GatewaySettings settings;
    private final ProviderSelection selection;
    private final ProviderBreakers breakers;
    private final ProviderHealth health;
    private final Map<String, ProviderStats> stats;
    private final LlmMetrics metrics;
    private final UpstreamClient upstreamClient;
    private final LiveStreams liveStreams;
    private final AsyncPlatformHttpEngine engine;
    private final Vertx vertx;
    private final Database database;
    private final LimitLedger limits;
    private final AnswerCheckpoints checkpoints;
    private final ChatStore chatStore;
    private final int probeSeconds;
    private final int graceSeconds;
    private final List<ObjectName> mbeans = new ArrayList<>();
    private final ModelAvailability availability;
    private DatabaseReadiness databaseReadiness;
    private final LimitsUpkeep limitsUpkeep;
    /** The health probes' timers (LLM_HEALTH_PROBE_SECONDS): cancelled before the provider client closes. */
    private final List<Long> probeTimers = new ArrayList<>();

    GatewayLifecycle(GatewaySettings settings, ProviderSelection selection, ProviderBreakers breakers,
                     ProviderHealth health, ModelAvailability availability, Map<String, ProviderStats> stats,
                     LlmMetrics metrics, UpstreamClient upstreamClient, LiveStreams liveStreams,
                     AsyncPlatformHttpEngine engine, Vertx vertx, Database database, LimitLedger limits,
                     AnswerCheckpoints checkpoints, ChatStore chatStore, int probeSeconds,
                     int graceSeconds) {
        this.settings = settings;
        this.selection = selection;
        this.availability = availability;
        this.breakers = breakers;
        this.health = health;
        this.stats = stats;
        this.metrics = metrics;
        this.upstreamClient = upstreamClient;
        this.liveStreams = liveStreams;
        this.engine = engine;
        this.vertx = vertx;
        this.database = database;
        this.limits = limits;
        this.checkpoints = checkpoints;
        this.chatStore = chatStore;
        this.probeSeconds = probeSeconds;
        this.graceSeconds = graceSeconds;
        this.limitsUpkeep = new LimitsUpkeep(vertx, limits);
    }

    /** Set once the context has started and everything below ran: readiness is DOWN until then. */
    private volatile boolean started;

    @Override
    public void onContextStarting(CamelContext camel) {
        // Camel must wait for the streams longer than the grace period it gives them, and leave time for the
        // clean-up after it within the whole stop's bound (STOP_BOUND_AFTER_GRACE_SECONDS)
        camel.getShutdownStrategy().setTimeout(graceSeconds + STOP_BOUND_AFTER_GRACE_SECONDS - 5L);
        StopDeadline.bound(graceSeconds + STOP_BOUND_AFTER_GRACE_SECONDS);
        // before the management server listens: a registry without any check yet answers /observe/health/ready
        // with 200 while the chat routes are still being added to the HTTP router (404 for every chat); with this
        // check in it, readiness is DOWN until the context has started
        HealthCheckRegistry checks = HealthCheckRegistry.get(camel);
        if (checks != null) {
            checks.register(new AcceptingRequests(() -> started, engine::draining));
        }
        // last of the start: the chat port accepts connections only once every route is there, the demo provider's
        // (started in onContextStarted) included. Camel calls its startup listeners after every lifecycle strategy,
        // and a failure there fails the start (exit 2), where one in onContextStarted is only logged
        try {
            camel.addStartupListener(opensTheChatPort());
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the chat port's opening", e);
        }
    }

    private StartupListener opensTheChatPort() {
        return new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                // not yet: the routes are started, the lifecycle strategies not all run
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                engine.listen();
                started = true;
            }
        };
    }

    @Override
    public void onContextStarted(CamelContext camel) {
        checkpoints.start();
        engine.jsonErrorsOnManagementPort(camel);
        // readiness is about this instance (its database, not shutting down): a provider that fails is the
        // fallback's business, and taking every instance out of the balancer for it would be a full outage
        HealthCheckRegistry checks = HealthCheckRegistry.get(camel);
        if (checks != null) {
            databaseReadiness = new DatabaseReadiness(database.dataSource());
            checks.register(databaseReadiness);
            checks.register(new EventLoopLiveness(vertx));
        }
        MeterRegistry meters = metrics.registry();
        List<String> variants = new ArrayList<>();
        variants.add(ChatRecorder.NO_VARIANT);
        settings.catalog().split().forEach(arm -> variants.add(arm.model()));
        metrics.registerAtStart(settings.providers().keySet(), variants);
        metrics.registerErrorsAtStart();
        metrics.activeStreams(liveStreams::count);
        FunctionCounter.builder("chat_history_reads_total", chatStore, ChatStore::historyReadsFromCopies)
                .description("Session chats by where their history came from: this instance's copy or the database")
                .tag("source", "copy").register(meters);
        FunctionCounter.builder("chat_history_reads_total", chatStore, ChatStore::historyReadsFromDatabase)
                .description("Session chats by where their history came from: this instance's copy or the database")
                .tag("source", "database").register(meters);
        Gauge.builder("chat_usage_rows_waiting", chatStore.usageBacklog(), b -> b.waiting())
                .description("Usage rows kept in memory because the database was out of reach when their answer ended")
                .register(meters);
        FunctionCounter.builder("chat_usage_rows_dropped_total", chatStore.usageBacklog(), b -> b.dropped())
                .description("Usage rows lost: more than " + UsageBacklog.MAX_ROWS + " waited for the database, or it"
                        + " refused the row")
                .register(meters);
        for (String p : settings.providers().keySet()) {
            Gauge.builder("llm_provider_up", () -> availability.providerUp(p) ? 1 : 0)
                    .description("1 while the provider takes calls: breaker not open, no cooldown, probe not failing")
                    .tag("provider", p).register(meters);
            for (String role : new String[] {"primary", "fallback"}) {
                Gauge.builder("llm_provider_selected", () -> selection.isSelected(p, role) ? 1 : 0)
                        .description("1 when the provider currently has this role")
                        .tag("provider", p).tag("role", role).register(meters);
            }
            Gauge.builder("llm_circuit_breaker_state", () -> breakers.of(p).getState().getOrder())
                    .description("0 closed, 1 open, 2 half-open, 3 disabled, 4 forced open, 5 metrics only")
                    .tag("provider", p).register(meters);
            if (probeSeconds > 0) {
                probeTimers.add(vertx.setPeriodic(probeSeconds * 1000L, id -> upstreamClient.probe(p)));
            }
        }
        limitsUpkeep.start();
        // the demo simulator's endpoint is public: served only when a demo provider is configured
        if (settings.providers().values().stream().anyMatch(p -> p.kind() == ProviderKind.DEMO)) {
            try {
                camel.getRouteController().startRoute(DEMO_ROUTE);
            } catch (Exception e) {
                throw new IllegalStateException("the demo provider's route did not start", e);
            }
        }
        withoutRoutesStoppedByDesign(camel, checks);
        logEndpoints(camel);
        String context = camel.getManagementName() != null ? camel.getManagementName() : camel.getName();
        register("com.cobalt.chat:context=" + ObjectName.quote(context) + ",type=ProviderSelection", selection);
        register("com.cobalt.chat:context=" + ObjectName.quote(context) + ",type=Gateway",
                new GatewayStats(metrics, liveStreams::count));
        stats.forEach((p, s) -> register("com.cobalt.chat:context=" + ObjectName.quote(context)
                + ",type=Provider,name=" + p, s));
        // the chat port opens after this, in onCamelContextFullyStarted (see onContextStarting)
    }

    /**
     * A route that is not started by design (the demo provider's without a demo provider) is no part of readiness:
     * Camel's route and consumer checks call a route that does not start itself UP, "externally managed", so
     * readiness listed a route that serves nothing (ops probe). Its id joins the registry's exclusions (which drop
     * both its route: and its consumer: check); a route that runs stays, and a stopped auto-started one is DOWN.
     */
    private static void withoutRoutesStoppedByDesign(CamelContext camel, HealthCheckRegistry checks) {
        if (checks == null) {
            return;
        }
        List<String> excluded = new ArrayList<>();
        if (checks.getExcludePattern() != null && !checks.getExcludePattern().isBlank()) {
            excluded.add(checks.getExcludePattern());
        }
        for (Route route : camel.getRoutes()) {
            if (!route.isAutoStartup()
                    && !camel.getRouteController().getRouteStatus(route.getRouteId()).isStarted()) {
                excluded.add(route.getRouteId());
            }
        }
        checks.setExcludePattern(String.join(",", excluded));
    }

    /**
     * Every HTTP endpoint the started routes serve, one log line each with its method. (Camel's own "HTTP endpoints summary"
     * keeps one method per path, so GET and DELETE of a session, or GET and POST of the sessions, show as one.)
     */
    private static void logEndpoints(CamelContext camel) {
        List<String> endpoints = new ArrayList<>();
        for (Route route : camel.getRoutes()) {
            // a route that is not started serves nothing: the demo provider's without a demo provider answers 404,
            // and was listed all the same (ops probe, 2026-12-05)
            if (route.getEndpoint() instanceof PlatformHttpEndpoint http
                    && camel.getRouteController().getRouteStatus(route.getRouteId()).isStarted()) {
                String methods = http.getHttpMethodRestrict() == null ? "ANY" : http.getHttpMethodRestrict();
                endpoints.add(String.format("%-6s %s  (route %s)", methods, http.getPath(), route.getRouteId()));
            }
        }
        endpoints.sort(java.util.Comparator.comparing(e -> e.substring(7)));
        // one log line each: the log writes a line break inside a message as the two characters \n (log4j2.xml)
        endpoints.forEach(e -> LOG.info("Chat API endpoint: {}", e));
    }

    /** The whole stop is bounded at the grace plus this (README "Shutdown, step by step"; {@link StopDeadline}). */
    static final long STOP_BOUND_AFTER_GRACE_SECONDS = 15;

    @Override
    public void onContextStopping(CamelContext camel) {
        engine.drain();
        LOG.info("Shutting down: new requests get 503; {} stream(s) in flight get {} s to finish",
                liveStreams.count(), graceSeconds);
        vertx.setTimer(Math.max(1, graceSeconds * 1000L), t -> {
            if (liveStreams.count() > 0) {
                LOG.warn("Grace period over: ending {} stream(s); their partial answers are stored as interrupted",
                        liveStreams.count());
                liveStreams.endAll();
            }
            int waiting = upstreamClient.shutDownPending();
            if (waiting > 0) {
                LOG.warn("Grace period over: {} chat(s) still waiting for their provider's first output get 503"
                        + " shutting_down", waiting);
            }
        });
    }

    @Override
    public void onContextStopped(CamelContext camel) {
        unregisterMBeans();
        if (databaseReadiness != null) {
            databaseReadiness.close();
        }
        probeTimers.forEach(vertx::cancelTimer);
        upstreamClient.close();
        // the streams have ended and stored their answers: no more checkpoints, then the pool closes
        checkpoints.close();
        // usage rows still waiting for the database (it was out of reach): one last write before the pool closes
        chatStore.usageBacklog().close();
        // no upkeep of the limits from here (a run under way ends first): the ledger and the database close next
        limitsUpkeep.stop();
        try {
            limits.close();
        } catch (RuntimeException e) {
            LOG.warn("Could not store this instance's limit counts: {}", e.getClass().getSimpleName());
        }
        database.close();
        vertx.close();
    }

    private void register(String name, Object mbean) {
        try {
            ObjectName objectName = new ObjectName(name);
            ManagementFactory.getPlatformMBeanServer().registerMBean(mbean, objectName);
            mbeans.add(objectName);
        } catch (Exception e) {
            LOG.warn("Not available on JMX: {} ({})", name, e.getClass().getSimpleName());
        }
    }

    private void unregisterMBeans() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (ObjectName name : mbeans) {
            try {
                server.unregisterMBean(name);
            } catch (Exception e) {
                LOG.debug("MBean {} already gone", name);
            }
        }
        mbeans.clear();
    }
}
