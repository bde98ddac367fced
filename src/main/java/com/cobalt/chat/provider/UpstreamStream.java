package com.cobalt.chat.provider;

import java.util.concurrent.atomic.AtomicReference;

import com.cobalt.chat.config.ProviderSettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;

/**
 * An upstream answer whose status and headers have arrived with 2xx: a live, paused SSE response, or (when the
 * provider answered a whole JSON completion although a stream was asked) its body re-framed as SSE to replay.
 * {@code earlyFailure} holds a connection failure that happened while the stream waited, paused, for the relay.
 */
public record UpstreamStream(ProviderSettings provider, HttpClientRequest request, HttpClientResponse response,
                             Buffer replay, AtomicReference<Throwable> earlyFailure) {

    public static final String PROPERTY = "cobaltUpstream";

    public boolean live() {
        return replay == null;
    }
}
