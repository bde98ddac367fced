package com.cobalt.chat.trace;

import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;

/**
 * The trace of one chat request: its span (from the request's arrival to the end of its response - for a stream,
 * after the last event) and one child span per provider attempt, a fallback being a second attempt. It rides in the
 * exchange property {@value #PROPERTY}, which survives the circuit breaker's exchange copy; the property is absent
 * when tracing is off, and every place that traces only checks for it.
 *
 * <p>Spans carry ids, names, numbers and the GenAI semantic-convention attributes; never a message text, a key, a
 * token or a header value.
 */
public final class ChatTrace {

    public static final String PROPERTY = "cobaltTrace";

    static final String CHAT = "chat";
    static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    /** The older name of gen_ai.provider.name, still what many back-ends group by. */
    static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("gen_ai.system");
    static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    static final AttributeKey<String> CONVERSATION = AttributeKey.stringKey("gen_ai.conversation.id");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("cobalt.request_id");
    static final AttributeKey<String> EXCHANGE_ID = AttributeKey.stringKey("cobalt.exchange_id");
    static final AttributeKey<String> ANSWER_STATUS = AttributeKey.stringKey("cobalt.answer.status");
    static final AttributeKey<Boolean> TOKENS_ESTIMATED = AttributeKey.booleanKey("cobalt.usage.estimated");
    static final AttributeKey<String> FALLBACK_FROM = AttributeKey.stringKey("cobalt.fallback_from");

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Span chat;
    private final long startEpochNanos;
    private final long startNanos;
    /** The provider attempt under way (or answering), and its provider; null between attempts. */
    private Span attempt;
    private String attemptProvider;
    private String requestModel;
    private boolean ended;
    /**
     * The error type of the last answer recorded when it failed or broke off, else null: set on the chat span when it
     * ends, so a whole /v1 answer that broke unseen and was then answered by the fallback ends as the success it is.
     */
    private String answerError;

    ChatTrace(Tracer tracer, TextMapPropagator propagator, Span chat, long startEpochNanos, long startNanos) {
        this.tracer = tracer;
        this.propagator = propagator;
        this.chat = chat;
        this.startEpochNanos = startEpochNanos;
        this.startNanos = startNanos;
    }

    /** The trace's id (32 hex digits), as the exchange log line names it. */
    public String traceId() {
        return chat.getSpanContext().getTraceId();
    }

    /**
     * A provider attempt begins: a child span of the chat, {@code chat <upstream model>}. A retry of the same
     * provider (connect error, 408, 5xx) stays inside its attempt.
     *
     * @param provider      the configured provider id
     * @param model         the catalog id of the model asked for (the chat's gen_ai.request.model, from the first attempt)
     * @param upstreamModel what the provider calls it (the attempt's gen_ai.request.model)
     * @param url           where the request goes (server.address and server.port)
     */
    public synchronized void attemptStarted(String provider, String model, String upstreamModel, String url) {
        if (ended) {
            return;
        }
        endAttempt(StatusCode.ERROR, "superseded", clockNow());
        if (requestModel == null) {
            requestModel = model != null ? model : upstreamModel;
            if (requestModel != null) {
                chat.setAttribute(REQUEST_MODEL, requestModel);
            }
        }
        var builder = tracer.spanBuilder(upstreamModel == null ? CHAT : CHAT + " " + upstreamModel)
                .setParent(Context.root().with(chat))
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, CHAT)
                .setAttribute(PROVIDER, provider)
                .setAttribute(SYSTEM, provider);
        if (upstreamModel != null) {
            builder.setAttribute(REQUEST_MODEL, upstreamModel);
        }
        try {
            URI uri = URI.create(url);
            if (uri.getHost() != null) {
                builder.setAttribute(SERVER_ADDRESS, uri.getHost());
                builder.setAttribute(SERVER_PORT, (long) (uri.getPort() >= 0 ? uri.getPort()
                        : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80));
            }
        } catch (RuntimeException e) {
            // no server attributes for a URL that does not parse; the request fails on its own
        }
        attempt = builder.startSpan();
        attemptProvider = provider;
    }

    /** The W3C trace context of the attempt under way, as request headers for the provider ({@code traceparent}). */
    public synchronized void propagate(BiConsumer<String, String> header) {
        Span parent = attempt != null ? attempt : chat;
        propagator.inject(Context.root().with(parent), header, (h, k, v) -> h.accept(k, v));
    }

    /**
     * The provider failed before its answer began (or was skipped: breaker open, cooling down): its attempt ends
     * with an error status. A skipped provider never started one, so it gets an attempt span of no length.
     *
     * @param errorType the failure's class (http_500, timeout, connect, breaker_open, ...)
     */
    public synchronized void attemptFailed(String provider, String upstreamModel, String errorType) {
        if (ended) {
            return;
        }
        long now = clockNow();
        if (attempt == null || !provider.equals(attemptProvider)) {
            endAttempt(StatusCode.ERROR, "superseded", now);
            var builder = tracer.spanBuilder(upstreamModel == null ? CHAT : CHAT + " " + upstreamModel)
                    .setParent(Context.root().with(chat))
                    .setSpanKind(SpanKind.CLIENT)
                    .setStartTimestamp(now, TimeUnit.NANOSECONDS)
                    .setAttribute(OPERATION, CHAT)
                    .setAttribute(PROVIDER, provider)
                    .setAttribute(SYSTEM, provider);
            if (upstreamModel != null) {
                builder.setAttribute(REQUEST_MODEL, upstreamModel);
            }
            attempt = builder.startSpan();
            attemptProvider = provider;
        }
        endAttempt(StatusCode.ERROR, errorType, now);
    }

    /**
     * How the chat was answered, once it is recorded: the GenAI attributes on the chat span and on the answering
     * attempt, which ends when the provider's stream ended.
     *
     * @param answer        who answered and how (provider, status, finish reason, token counts)
     * @param responseModel the model name the answering provider was asked for, or null when none answered
     * @param streamEndedNanos {@code System.nanoTime()} when the provider's stream ended, 0 when unknown
     * @param rejectedAs    the error type when the provider rejected the request (400), else null
     */
    public synchronized void answered(Answer answer, String responseModel, long streamEndedNanos, String rejectedAs) {
        if (ended) {
            return;
        }
        if (answer.exchangeId() != null) {
            chat.setAttribute(EXCHANGE_ID, answer.exchangeId());
        }
        if (answer.sessionId() != null) {
            chat.setAttribute(CONVERSATION, answer.sessionId());
        }
        if (answer.status() != null) {
            chat.setAttribute(ANSWER_STATUS, answer.status());
        }
        if (answer.fallbackFrom() != null) {
            chat.setAttribute(FALLBACK_FROM, answer.fallbackFrom());
        }
        if (answer.provider() != null) {
            chat.setAttribute(PROVIDER, answer.provider());
            chat.setAttribute(SYSTEM, answer.provider());
        }
        if (requestModel == null && answer.model() != null) {
            requestModel = answer.model();
            chat.setAttribute(REQUEST_MODEL, requestModel);
        }
        boolean failed = "failed".equals(answer.status()) || "interrupted".equals(answer.status());
        answerError = failed ? (answer.errorCode() == null ? answer.status() : answer.errorCode()) : null;
        if (rejectedAs != null) {
            endAttempt(StatusCode.ERROR, rejectedAs, clockNow());
            return;
        }
        if (responseModel == null || attempt == null) {
            return;
        }
        for (Span s : new Span[] {chat, attempt}) {
            s.setAttribute(RESPONSE_MODEL, responseModel);
            if (answer.inputTokens() != null) {
                s.setAttribute(INPUT_TOKENS, (long) answer.inputTokens());
            }
            if (answer.outputTokens() != null) {
                s.setAttribute(OUTPUT_TOKENS, (long) answer.outputTokens());
            }
            if (answer.tokensEstimated() != null) {
                s.setAttribute(TOKENS_ESTIMATED, answer.tokensEstimated());
            }
            if (answer.finishReason() != null) {
                s.setAttribute(FINISH_REASONS, List.of(answer.finishReason()));
            }
        }
        long end = streamEndedNanos == 0 ? clockNow() : startEpochNanos + (streamEndedNanos - startNanos);
        if (failed) {
            endAttempt(StatusCode.ERROR, answer.errorCode() == null ? answer.status() : answer.errorCode(), end);
        } else {
            endAttempt(StatusCode.UNSET, null, end);
        }
    }

    /**
     * The request is over and its response ended: the chat span ends with the response's status (0: the caller left
     * before any response was sent, and the span has no status code). An attempt still
     * open (the request failed in a way nothing recorded) ends with an error.
     */
    public synchronized void end(int httpStatus) {
        if (ended) {
            return;
        }
        ended = true;
        long now = clockNow();
        endAttempt(StatusCode.ERROR, "unfinished", now);
        if (httpStatus > 0) {
            chat.setAttribute(HTTP_STATUS, (long) httpStatus);
        }
        if (answerError != null) {
            chat.setStatus(StatusCode.ERROR);
            chat.setAttribute(ERROR_TYPE, answerError);
        }
        if (httpStatus >= 400) {
            if (httpStatus >= 500) {
                chat.setStatus(StatusCode.ERROR);
            }
            chat.setAttribute(ERROR_TYPE, String.valueOf(httpStatus));
        }
        chat.end(now, TimeUnit.NANOSECONDS);
    }

    /** The request's id (X-Request-Id), for finding the trace from a client's report. */
    public synchronized void requestId(String id) {
        chat.setAttribute(REQUEST_ID, id);
    }

    private void endAttempt(StatusCode status, String errorType, long endEpochNanos) {
        if (attempt == null) {
            return;
        }
        if (status == StatusCode.ERROR) {
            attempt.setStatus(StatusCode.ERROR);
            attempt.setAttribute(ERROR_TYPE, errorType);
        }
        attempt.end(endEpochNanos, TimeUnit.NANOSECONDS);
        attempt = null;
        attemptProvider = null;
    }

    private long clockNow() {
        return startEpochNanos + (System.nanoTime() - startNanos);
    }

    /**
     * What the recorder knows of the answer, in the trace's terms. Token counts are null when no provider answered.
     */
    public record Answer(String sessionId, String exchangeId, String status, String provider, String model,
                        String finishReason, String errorCode, Integer inputTokens, Integer outputTokens,
                        Boolean tokensEstimated, String fallbackFrom) {
    }
}
