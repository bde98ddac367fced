package com.cobalt.chat.record;

import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.stream.StreamOutcome;
import org.apache.camel.Exchange;

/**
 * The chat-record step: stores the assistant message of an exchange however it ended, and leaves the values the
 * route's metrics need in variables (metricStatus, durationNanos).
 */
public class ChatRecorder {

    private final ChatStore store;

    public ChatRecorder(ChatStore store) {
        this.store = store;
    }

    /** When the request failed before any stream: the outcome to store (content filter or failure). */
    public void failedBeforeStream(Exchange exchange) {
        if (exchange.getProperty(StreamOutcome.PROPERTY) != null) {
            return; // the relay already said how it failed
        }
        ProviderRejection rejection = exchange.getProperty(ProviderRejection.PROPERTY, ProviderRejection.class);
        StreamOutcome outcome;
        if (rejection != null && rejection.contentFilter()) {
            outcome = new StreamOutcome(StreamOutcome.CONTENT_FILTERED, "", "content_filter", null, null, null,
                    "content_filtered");
        } else if (rejection != null) {
            outcome = StreamOutcome.failed("provider_rejected_request");
        } else {
            ProviderAttempts attempts = exchange.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class);
            outcome = StreamOutcome.failed(attempts == null || attempts.failures().isEmpty()
                    ? "internal_error" : "provider_unavailable");
        }
        exchange.setProperty(StreamOutcome.PROPERTY, outcome);
    }

    public void record(Exchange exchange) {
        StreamOutcome o = exchange.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        RelaySession upstream = exchange.getProperty(SseRelay.PROPERTY, RelaySession.class);
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        long durationNanos = client == null ? 0 : System.nanoTime() - client.startedNanos();
        String provider = exchange.getVariable("provider", String.class);
        String model = upstream == null ? null : upstream.provider().modelLabel();
        store.saveAnswer(new AnswerRecord(exchange.getVariable("sessionId", String.class),
                exchange.getVariable("exchangeId", String.class), o.content(), o.status(),
                provider, model, o.finishReason(), o.errorCode(), o.promptTokens(), o.completionTokens(),
                o.timeToFirstTokenMs(), durationNanos / 1_000_000));
        exchange.setVariable("answerRecorded", true);
        exchange.setVariable("metricStatus", o.metricStatus());
        exchange.setVariable("durationNanos", durationNanos);
    }
}
