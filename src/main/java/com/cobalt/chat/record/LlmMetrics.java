package com.cobalt.chat.record;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.DoubleStream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.component.micrometer.MicrometerUtils;

/**
 * The gateway's own meters, in the registry Camel scrapes at /observe/metrics (Prometheus names in comments).
 * Labels are bounded: provider, token type, role, and the A/B variant (a configured split arm, or "none") - never a
 * user or session id. The counters the routes can say
 * for themselves (llm_requests_total, llm_fallback_triggered_total) stay in the YAML.
 */
public class LlmMetrics {

    private static final Duration[] LATENCY_BUCKETS = DoubleStream
            .of(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
            .mapToObj(s -> Duration.ofMillis((long) (s * 1000))).toArray(Duration[]::new);

    private final CamelContext camel;
    private volatile MeterRegistry registry;
    /**
     * The meters already found, by name and labels: a chat's counts and timings go straight to their meter instead of
     * building an id, running the registry's filters and looking it up again every time.
     */
    private final Map<MeterKey, Meter> meters = new ConcurrentHashMap<>();

    private record MeterKey(String name, String provider, String variant, String type) {
    }

    public LlmMetrics(CamelContext camel) {
        this.camel = camel;
    }

    /** llm_request_duration_seconds{provider}: from the chat request to the end of its answer. */
    public void requestDuration(String provider, String variant, long millis) {
        latency("llm_request_duration", "Time from the chat request to the end of its answer", provider, variant,
                millis);
    }

    /** llm_time_to_first_token_seconds{provider}: from the chat request to its first content on the wire. */
    public void timeToFirstToken(String provider, String variant, long millis) {
        latency("llm_time_to_first_token", "Time from the chat request to its first content", provider, variant,
                millis);
    }

    /** The token types of llm_tokens_used_total: the cached and reasoning ones are parts of prompt and completion. */
    public static final List<String> TOKEN_TYPES = List.of("prompt", "completion", "cached_prompt", "reasoning");

    /**
     * As {@link #tokens(String, String, int, int, boolean)}, plus the part of the prompt served from the provider's
     * cache ({@code type="cached_prompt"}) and the part of the completion spent reasoning ({@code type="reasoning"}),
     * counted where the provider reported them.
     */
    public void tokens(String provider, String variant, int prompt, int completion, boolean estimated,
                       Integer cached, Integer reasoning) {
        tokens(provider, variant, prompt, completion, estimated);
        if (cached != null && cached > 0) {
            counter("llm_tokens_used", "Tokens per provider (reported or estimated)", provider, variant,
                    "cached_prompt").increment(cached);
        }
        if (reasoning != null && reasoning > 0) {
            counter("llm_tokens_used", "Tokens per provider (reported or estimated)", provider, variant, "reasoning")
                    .increment(reasoning);
        }
    }

    /** llm_tokens_used_total{provider,type}, and llm_tokens_estimated_total for the part the gateway counted. */
    public void tokens(String provider, String variant, int prompt, int completion, boolean estimated) {
        counter("llm_tokens_used", "Tokens per provider (reported or estimated)", provider, variant, "prompt")
                .increment(prompt);
        counter("llm_tokens_used", "Tokens per provider (reported or estimated)", provider, variant, "completion")
                .increment(completion);
        if (estimated) {
            counter("llm_tokens_estimated", "Tokens the gateway counted itself", provider, variant, "prompt")
                    .increment(prompt);
            counter("llm_tokens_estimated", "Tokens the gateway counted itself", provider, variant, "completion")
                    .increment(completion);
        }
    }

    /** llm_cost_usd_total{provider} for priced answers; llm_cost_unknown_total{provider} counts the others. */
    public void cost(String provider, String variant, BigDecimal usd) {
        if (usd == null) {
            counter("llm_cost_unknown", "Answers of a model without a price", provider, variant, null).increment();
        } else {
            counter("llm_cost_usd", "Cost in USD of priced answers", provider, variant, null)
                    .increment(usd.doubleValue());
        }
    }

    /** The request outcomes llm_requests_total counts (chat-record, provider-call and provider-fallback). */
    public static final List<String> REQUEST_STATUSES = List.of("success", "error", "rejected", "cancelled");
    /** The label camel-micrometer adds to the meters routes increment; not part of the documented labels. */
    static final String CAMEL_CONTEXT_TAG = "camelContext";

    /**
     * The meters the routes increment carry exactly the documented labels: camel-micrometer's camelContext label is
     * dropped from the gateway's own meters. Called while the gateway is configured, before Camel registers its
     * meters: Micrometer warns of a filter added after the first meter.
     */
    public void documentedLabelsOnly() {
        registry().config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return ownMeter(id.getName()) && id.getTag(CAMEL_CONTEXT_TAG) != null
                        ? id.replaceTags(id.getTags().stream().filter(t -> !t.getKey().equals(CAMEL_CONTEXT_TAG))
                                .toList())
                        : id;
            }
        });
    }

    /**
     * From start-up on, every documented meter exists for each configured provider and variant, zero-valued until
     * something happens, so dashboards, alerts and rate() see a series before the first request; and the meters
     * the routes increment carry exactly the documented labels (camel-micrometer's camelContext label is dropped).
     * Call once the registry exists and before any traffic.
     */
    public void registerAtStart(Collection<String> providers, Collection<String> variants) {
        MeterRegistry r = registry();
        for (String provider : providers) {
            for (String variant : variants) {
                for (String status : REQUEST_STATUSES) {
                    Counter.builder("llm_requests_total").description("Provider attempts by outcome")
                            .tag("provider", provider).tag("status", status).tag("variant", variant).register(r);
                }
                for (String type : TOKEN_TYPES) {
                    counter("llm_tokens_used", "Tokens per provider (reported or estimated)", provider, variant, type);
                }
                for (String type : new String[] {"prompt", "completion"}) {
                    counter("llm_tokens_estimated", "Tokens the gateway counted itself", provider, variant, type);
                }
                counter("llm_cost_unknown", "Answers of a model without a price", provider, variant, null);
                counter("llm_cost_usd", "Cost in USD of priced answers", provider, variant, null);
                timer("llm_request_duration", "Time from the chat request to the end of its answer", provider, variant);
                timer("llm_time_to_first_token", "Time from the chat request to its first content", provider,
                        variant);
            }
            for (String to : providers) {
                if (!to.equals(provider)) {
                    Counter.builder("llm_fallback_triggered_total").description("Fallbacks taken")
                            .tag("from", provider).tag("to", to).register(r);
                }
            }
        }
    }

    /**
     * The process beside the chats: heap and GC (jvm_memory_*, jvm_gc_*), threads, CPU (process_cpu_usage,
     * system_cpu_*), open files (process_files_*) and uptime. Bound here, after {@link #documentedLabelsOnly()}, rather
     * than by camel.metrics.binders, which binds them before any filter can be set. Returns what must be closed when
     * the gateway stops (the GC meters listen to the JVM's notifications).
     */
    public AutoCloseable bindProcessMeters() {
        MeterRegistry r = registry();
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(r);
        io.micrometer.core.instrument.binder.jvm.JvmGcMetrics gc =
                new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics();
        gc.bindTo(r);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(r);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(r);
        new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(r);
        new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(r);
        return gc;
    }

    /** The codes whose chat_errors_total exists from start (zero-valued): the ones alerts are written on. */
    public static final Map<String, Integer> ERRORS_AT_START = Map.of(
            "rate_limit_exceeded", 429, "concurrent_streams_exceeded", 429, "daily_quota_exceeded", 429,
            "rate_limited", 429, "provider_unavailable", 503, "overloaded", 503, "database_unavailable", 503,
            "invalid_token", 401, "token_expired", 401);
    private static final java.util.regex.Pattern ERROR_CODE = java.util.regex.Pattern.compile("[a-z][a-z0-9_]{0,47}");
    private final Map<String, Counter> errors = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * chat_errors_total{status,code}: requests the gateway answered with an error before any answer began, by status
     * and the gateway's code (a bounded set: its own constants; anything else counts as "other"). 429s and 503s are
     * the refusals an operator watches.
     */
    public void error(int status, String code) {
        String c = code != null && ERROR_CODE.matcher(code).matches() ? code : "other";
        errors.computeIfAbsent(status + " " + c, k -> Counter.builder("chat_errors_total")
                .description("Requests answered with an error, by status and code").tag("status", String.valueOf(status))
                .tag("code", c).register(registry())).increment();
    }

    /** The chat_errors_total series that exist from start, zero-valued. */
    public void registerErrorsAtStart() {
        ERRORS_AT_START.forEach((code, status) -> errors.computeIfAbsent(status + " " + code, k ->
                Counter.builder("chat_errors_total").description("Requests answered with an error, by status and code")
                        .tag("status", String.valueOf(status)).tag("code", code).register(registry())));
    }

    static boolean ownMeter(String name) {
        return name.startsWith("llm_") || name.startsWith("chat_");
    }

    /** chat_active_streams: answers being relayed right now. */
    public void activeStreams(Supplier<Number> count) {
        Gauge.builder("chat_active_streams", count).description("Answers being streamed to clients right now")
                .register(registry());
    }

    public MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = MicrometerUtils.getOrCreateMeterRegistry(camel.getRegistry(), MicrometerConstants.METRICS_REGISTRY_NAME);
            registry = r;
        }
        return r;
    }

    /** A counter labelled provider and variant, and type unless {@code type} is null. */
    private Counter counter(String name, String description, String provider, String variant, String type) {
        return (Counter) meters.computeIfAbsent(new MeterKey(name, provider, variant, type), k -> {
            Counter.Builder b = Counter.builder(name).description(description).tag("provider", provider)
                    .tag("variant", variant);
            return (type == null ? b : b.tag("type", type)).register(registry());
        });
    }

    private void latency(String name, String description, String provider, String variant, long millis) {
        timer(name, description, provider, variant).record(millis, TimeUnit.MILLISECONDS);
    }

    private Timer timer(String name, String description, String provider, String variant) {
        return (Timer) meters.computeIfAbsent(new MeterKey(name, provider, variant, null),
                k -> Timer.builder(name).description(description).tag("provider", provider).tag("variant", variant)
                        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry()));
    }
}
