package com.cobalt.chat.stream;

import com.cobalt.chat.http.ClientConnection;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The chat-stream-sse step: relays the provider's primed stream to the caller without holding a thread, and
 * completes the exchange with a {@link StreamOutcome} once the answer ended, broke, or the caller left.
 */
public class SseRelay extends AsyncProcessorSupport {

    /**
     * The exchange property holding what the provider answered: its primed {@link RelaySession}, or the
     * {@link com.cobalt.chat.provider.ProviderRejection} of a 400.
     */
    public static final String PROPERTY = "cobaltUpstream";
    /** The variable chat-record sets when the answer is not stored: its error code (ChatRecorder). */
    static final String NOT_STORED_VARIABLE = "answerNotStored";

    static String notStoredMessage(String code) {
        return "session_deleted".equals(code)
                ? "The session was deleted while its answer streamed; the answer was not stored"
                : "The answer could not be stored; it is not in the session";
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        RelaySession session = exchange.getProperty(PROPERTY) instanceof RelaySession r ? r : null;
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (session == null || client == null) {
            exchange.setException(new IllegalStateException("no upstream stream or client connection to relay"));
            callback.done(true);
            return true;
        }
        client.context().runOnContext(v -> session.attach(outcome -> {
            exchange.setProperty(StreamOutcome.PROPERTY, outcome);
            callback.done(false);
        }));
        return false;
    }

    /**
     * The error handlers' step: a provider's answer that began but was never relayed (the request failed between the
     * provider's first token and the relay, e.g. its question could not be stored) is cancelled - the upstream
     * request is reset, nothing is relayed or recorded of it. An answer being relayed, or none, is left alone.
     */
    public void abandonUnrelayed(@ExchangeProperty(PROPERTY) Object upstream,
                                 @ExchangeProperty(ClientConnection.PROPERTY) ClientConnection client) {
        if (upstream instanceof RelaySession session && client != null) {
            client.context().runOnContext(v -> session.abandon());
        }
    }

    /**
     * The last step of a streamed answer, after it is stored: {@code data: [DONE]} for a whole answer, then the
     * end of the response. A client that reads [DONE] and then the session finds the answer there.
     */
    public void endStream(Exchange exchange) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        StreamOutcome outcome = exchange.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        String notStored = exchange.getVariable(NOT_STORED_VARIABLE, String.class);
        client.context().runOnContext(v -> {
            HttpServerResponse out = client.response();
            if (out.ended() || out.closed() || !out.headWritten()) {
                return;
            }
            if (outcome != null && outcome.whole()) {
                // [DONE] promises the answer is in the session; one that could not be stored ends with an error.
                // The last event and the end of the response go in one write (one syscall)
                out.end(notStored == null ? ClientEvents.DONE : ClientEvents.error(notStored, notStoredMessage(notStored)));
            } else {
                out.end();
            }
        });
    }
}
