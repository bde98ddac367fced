package com.cobalt.chat.stream;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.UpstreamStream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The chat-stream-sse step: relays the opened upstream stream to the caller without holding a thread, and
 * completes the exchange with a {@link StreamOutcome} once the answer ended, broke, or the caller left.
 */
public class SseRelay extends AsyncProcessorSupport {

    private final Vertx vertx;
    private final RelaySettings settings;

    public SseRelay(Vertx vertx, GatewaySettings settings) {
        this.vertx = vertx;
        this.settings = new RelaySettings(settings.streamIdleTimeoutMs(), settings.keepAliveMs(), 5000);
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        UpstreamStream upstream = exchange.getProperty(UpstreamStream.PROPERTY, UpstreamStream.class);
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (upstream == null || client == null) {
            exchange.setException(new IllegalStateException("no upstream stream or client connection to relay"));
            callback.done(true);
            return true;
        }
        RelaySession session = new RelaySession(upstream, client, vertx, settings, (outcome, failure) -> {
            exchange.setProperty(StreamOutcome.PROPERTY, outcome);
            if (failure != null) {
                exchange.setException(failure);
            }
            callback.done(false);
        });
        client.context().runOnContext(v -> session.start());
        return false;
    }

    /**
     * The last step of a streamed answer, after it is stored: {@code data: [DONE]} for a whole answer, then the
     * end of the response. A client that reads [DONE] and then the session finds the answer there.
     */
    public void endStream(Exchange exchange) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        StreamOutcome outcome = exchange.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        client.context().runOnContext(v -> {
            HttpServerResponse out = client.response();
            if (out.ended() || out.closed() || !out.headWritten()) {
                return;
            }
            if (outcome != null && outcome.whole()) {
                out.write(ClientEvents.DONE);
            }
            out.end();
        });
    }
}
