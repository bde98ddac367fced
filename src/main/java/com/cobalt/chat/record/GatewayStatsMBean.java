package com.cobalt.chat.record;

/** The gateway-wide figures of /observe/metrics, on JMX next to the per-provider MBeans. */
public interface GatewayStatsMBean {

    /** Answers being streamed right now (chat_active_streams). */
    int getActiveStreams();

    /** Provider attempts of all providers and outcomes (sum of llm_requests_total). */
    double getRequests();

    /** Times the fallback provider took over (sum of llm_fallback_triggered_total). */
    double getFallbacksTriggered();

    /** USD of priced answers (sum of llm_cost_usd_total). */
    double getCostUsd();
}
