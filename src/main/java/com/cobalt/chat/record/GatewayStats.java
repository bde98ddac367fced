package com.cobalt.chat.record;

import java.util.function.IntSupplier;

import io.micrometer.core.instrument.Counter;

/** Reads the gateway-wide meters from the same registry Prometheus scrapes, so JMX and metrics never disagree. */
public class GatewayStats implements GatewayStatsMBean {

    private final LlmMetrics metrics;
    private final IntSupplier activeStreams;

    public GatewayStats(LlmMetrics metrics, IntSupplier activeStreams) {
        this.metrics = metrics;
        this.activeStreams = activeStreams;
    }

    @Override
    public int getActiveStreams() {
        return activeStreams.getAsInt();
    }

    @Override
    public double getRequests() {
        return sum("llm_requests_total");
    }

    @Override
    public double getFallbacksTriggered() {
        return sum("llm_fallback_triggered_total");
    }

    @Override
    public double getCostUsd() {
        return sum("llm_cost_usd");
    }

    private double sum(String name) {
        return metrics.registry().find(name).counters().stream().mapToDouble(Counter::count).sum();
    }
}
