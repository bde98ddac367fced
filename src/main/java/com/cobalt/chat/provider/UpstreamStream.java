package com.cobalt.chat.provider;

import com.cobalt.chat.config.ProviderSettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;

/**
 * An upstream answer whose status and headers have arrived with 2xx: a live, paused SSE response, or (when the
 * provider answered a whole JSON completion although a stream was asked) its body re-framed as SSE to replay.
 */
public record UpstreamStream(ProviderSettings provider, HttpClientRequest request, HttpClientResponse response,
                             Buffer replay, long startedNanos) {

    public static final String PROPERTY = "cobaltUpstream";

    public boolean live() {
        return replay == null;
    }
}
