package com.cobalt.chat.provider;

import java.util.Map;

import com.cobalt.chat.http.ApiError;

/**
 * A chat still waiting for its provider's first output when the shutdown grace ended ({@link
 * UpstreamClient#shutDownPending}): nothing of its answer was sent, so it gets what every request refused at shutdown
 * gets, 503 {@code shutting_down} with {@code Retry-After}, and a balancer or an SDK sends it again to another
 * instance. Not the provider's failure: no fallback, nothing counted against its breaker.
 */
public final class ShuttingDown extends ApiError {

    public ShuttingDown() {
        super(503, "shutting_down", "The gateway is shutting down; retry the request", Map.of("Retry-After", "1"));
    }
}
