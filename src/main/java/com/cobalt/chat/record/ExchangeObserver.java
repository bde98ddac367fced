package com.cobalt.chat.record;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.ProviderStats;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.trace.ChatTrace;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After an answer is stored: its latency, tokens and cost into the metrics and the provider's JMX view, and one
 * JSON log line for the exchange (logger {@code cobalt.exchange}) - ids (the trace's too), provider, status, usage,
 * timings, and never the message text, a key or a token. With tracing on, the same answer's GenAI attributes go on
 * the chat's trace.
 */
public class ExchangeObserver {

    private static final Logger EXCHANGES = LoggerFactory.getLogger("cobalt.exchange");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LlmMetrics metrics;
    private final Map<String, ProviderStats> stats;
    private final Clock clock;

    public ExchangeObserver(LlmMetrics metrics, Map<String, ProviderStats> stats, Clock clock) {
        this.metrics = metrics;
        this.stats = stats;
        this.clock = clock;
    }

    public void observe(Exchange exchange) {
        AnswerRecord a = exchange.getProperty(ChatRecorder.PROPERTY, AnswerRecord.class);
        if (a == null) {
            return;
        }
        if (a.provider() != null && a.promptTokens() != null) {
            boolean estimated = Boolean.TRUE.equals(a.tokensEstimated());
            String variant = a.variant() == null ? ChatRecorder.NO_VARIANT : a.variant();
            metrics.requestDuration(a.provider(), variant, a.durationMs());
            if (a.timeToFirstTokenMs() != null) {
                metrics.timeToFirstToken(a.provider(), variant, a.timeToFirstTokenMs());
            }
            metrics.tokens(a.provider(), variant, a.promptTokens(), a.completionTokens(), estimated, a.cachedTokens(),
                    a.reasoningTokens());
            metrics.cost(a.provider(), variant, a.costUsd());
            ProviderStats s = a.provider() == null ? null : stats.get(a.provider());
            if (s != null) {
                s.answered(a.promptTokens(), a.completionTokens(), estimated, a.costUsd(), a.timeToFirstTokenMs());
            }
        }
        ChatTrace trace = exchange.getProperty(ChatTrace.PROPERTY, ChatTrace.class);
        if (trace != null) {
            trace(exchange, a, trace);
        }
        log(exchange, a, trace);
    }

    /** The answer's GenAI attributes on the chat's trace; the answering attempt ends when its stream ended. */
    private static void trace(Exchange exchange, AnswerRecord a, ChatTrace trace) {
        Object answered = exchange.getProperty(SseRelay.PROPERTY);
        RelaySession session = answered instanceof RelaySession r ? r : null;
        String rejectedAs = answered instanceof ProviderRejection r
                ? (r.contentFilter() ? "content_filter" : "http_" + r.status()) : null;
        trace.answered(new ChatTrace.Answer(a.sessionId(), a.exchangeId(), a.status(), a.provider(), a.model(),
                        a.finishReason(), a.errorCode(), a.promptTokens(), a.completionTokens(), a.tokensEstimated(),
                        exchange.getVariable("fallbackFrom", String.class)),
                session == null ? null : session.target().upstreamName(),
                session == null ? 0 : session.endedNanos(), rejectedAs);
    }

    /**
     * A chat refused before any provider was asked (400, 401, 404, 429, the database out of reach) has no exchange to
     * record, and had no log line: the X-Request-Id a caller quotes from a refusal was nowhere in the log. Its line
     * has the request's ids, the user (null when the token was refused), the HTTP status and the error's code.
     */
    public void refused(@Variable(ApiError.VARIABLE) ApiError error, @Variable("user") String user,
                        @ExchangeProperty(ClientConnection.PROPERTY) ClientConnection client,
                        @ExchangeProperty(ChatTrace.PROPERTY) ChatTrace trace) {
        if (error == null) {
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("ts", clock.instant().toString());
        line.put("event", "chat_refused");
        line.put("request_id", client == null ? null : client.requestId());
        line.put("trace_id", trace == null ? null : trace.traceId());
        line.put("user_id", user);
        line.put("http_status", error.status());
        line.put("error_code", error.code());
        line.put("duration_ms", client == null ? null : (System.nanoTime() - client.startedNanos()) / 1_000_000);
        write(line);
    }

    private void log(Exchange exchange, AnswerRecord a, ChatTrace trace) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("ts", clock.instant().toString());
        line.put("event", "chat_exchange");
        line.put("request_id", client == null ? null : client.requestId());
        // the chat's trace (null when tracing is off): from a log line to its spans, and back
        line.put("trace_id", trace == null ? null : trace.traceId());
        line.put("session_id", a.sessionId());
        line.put("user_id", a.userId());
        line.put("provider", a.provider());
        line.put("model", a.model());
        line.put("variant", a.variant());
        line.put("status", a.status());
        line.put("error_code", a.errorCode());
        line.put("fallback_from", exchange.getVariable("fallbackFrom", String.class));
        line.put("prompt_tokens", a.promptTokens());
        line.put("completion_tokens", a.completionTokens());
        line.put("cached_tokens", a.cachedTokens());
        line.put("reasoning_tokens", a.reasoningTokens());
        line.put("tokens_estimated", a.tokensEstimated());
        line.put("cost_usd", a.costUsd());
        line.put("time_to_first_token_ms", a.timeToFirstTokenMs());
        line.put("duration_ms", a.durationMs());
        // false: the answer reached the client but is not in its session (deleted meanwhile, or the database refused it)
        line.put("stored", !Boolean.FALSE.equals(exchange.getVariable("answerStored", Boolean.class)));
        write(line);
    }

    private static void write(Map<String, Object> line) {
        try {
            EXCHANGES.info(JSON.writeValueAsString(line));
        } catch (Exception e) {
            EXCHANGES.warn("{\"event\":\"" + line.get("event") + "\",\"error\":\"unloggable\"}");
        }
    }
}
