package com.cobalt.chat.record;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.component.micrometer.MicrometerUtils;

/**
 * Latency histograms with fixed buckets, which the micrometer endpoint cannot declare: the proposal's
 * {@code llm_request_duration_seconds{provider}}, in the registry Camel scrapes at /observe/metrics.
 */
public class LatencyMetrics {

    private static final java.time.Duration[] BUCKETS = java.util.stream.DoubleStream
            .of(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
            .mapToObj(s -> java.time.Duration.ofMillis((long) (s * 1000))).toArray(java.time.Duration[]::new);

    private final CamelContext camel;
    private volatile MeterRegistry registry;

    public LatencyMetrics(CamelContext camel) {
        this.camel = camel;
    }

    /** Called by chat-record: {@code requestDuration(${variable.provider}, ${variable.durationNanos})}. */
    public void requestDuration(String provider, long nanos) {
        Timer.builder("llm_request_duration")
                .description("Time from the chat request to the end of its answer")
                .tag("provider", provider)
                .serviceLevelObjectives(BUCKETS)
                .register(registry())
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    private MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = MicrometerUtils.getOrCreateMeterRegistry(camel.getRegistry(), MicrometerConstants.METRICS_REGISTRY_NAME);
            registry = r;
        }
        return r;
    }
}
