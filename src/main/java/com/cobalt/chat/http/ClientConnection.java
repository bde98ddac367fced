package com.cobalt.chat.http;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * The caller's HTTP connection and the Vert.x context (event loop) it lives on. Kept as an exchange property so it
 * survives the circuit breaker's exchange copy; the SSE relay writes to it directly. {@code startedNanos} is when the
 * request arrived: time to first token and duration are measured from it. {@code requestId} is sent back as
 * {@code X-Request-Id} and names the exchange in the logs.
 */
public record ClientConnection(HttpServerRequest request, HttpServerResponse response, Context context,
                               long startedNanos, String requestId) {

    public static final String PROPERTY = "cobaltClient";

    public boolean gone() {
        return response.closed() || response.ended();
    }
}
