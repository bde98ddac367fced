package com.cobalt.chat.http;

import java.util.Map;

import com.cobalt.chat.openai.OpenAiErrors;
import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderFailure;
import com.cobalt.chat.provider.ProviderFailures;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.provider.UpstreamAnswer;
import com.cobalt.chat.record.LlmMetrics;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.store.Database;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns whatever stopped a request into the contract's JSON error: a fitting status and a stable code. */
public class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    /** Counts every error answered (chat_errors_total); null where nothing is counted (route tests). */
    private final LlmMetrics metrics;

    public ErrorResponses() {
        this(null);
    }

    public ErrorResponses(LlmMetrics metrics) {
        this.metrics = metrics;
    }

    public void respond(Exchange exchange) {
        ApiError error = toApiError(exchange, exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        count(exchange, error);
        endCommittedStream(exchange, error);
        answer(exchange, error, error.toJson());
    }

    /** An error answered as JSON (not one that ends a stream already under way: that answer began) is counted. */
    private void count(Exchange exchange, ApiError error) {
        if (metrics == null) {
            return;
        }
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (client == null || !client.response().headWritten()) {
            metrics.error(error.status(), error.code());
        }
    }

    /**
     * A failure after the client's 200 went out cannot be a JSON answer any more: the stream ends with the failure as
     * an {@code error} event in the caller's format, never just stops. (Before the 200 this does nothing and the JSON
     * error is written as usual.)
     */
    private static void endCommittedStream(Exchange exchange, ApiError error) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (client == null) {
            return;
        }
        ClientFormat format = exchange.getVariable(ClientFormat.VARIABLE, ClientFormat.class);
        String event = (format == null ? ClientFormat.SESSION : format).error(error.code(), error.getMessage());
        client.context().runOnContext(v -> {
            HttpServerResponse out = client.response();
            if (out.headWritten() && !out.ended() && !out.closed()) {
                if (event != null) {
                    out.write(event);
                }
                out.end();
            }
        });
    }

    /** The same failures in OpenAI's error object, for the OpenAI-compatible endpoint (routeConfiguration openai-errors). */
    public void respondOpenAi(Exchange exchange) {
        ApiError error = toApiError(exchange, exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        count(exchange, error);
        endCommittedStream(exchange, error);
        answer(exchange, error, OpenAiErrors.json(error));
    }

    private static void answer(Exchange exchange, ApiError error, String json) {
        exchange.setVariable(ApiError.VARIABLE, error);
        Message msg = exchange.getMessage();
        msg.getHeaders().clear();
        msg.setHeader(Exchange.HTTP_RESPONSE_CODE, error.status());
        msg.setHeader("Content-Type", "application/json");
        error.headers().forEach(msg::setHeader);
        msg.setBody(json);
    }

    /**
     * Thrown by the routes when a provider refused the request (400, 413, 422): the caller's request is at fault. The
     * status is the provider's; the message adds the code and parameter the provider named, and {@code param} (on
     * /v1) the parameter, so the caller can mend the request (a context too long, a parameter the model refuses).
     */
    public void rejected(@ExchangeProperty(SseRelay.PROPERTY) UpstreamAnswer answer) {
        ProviderRejection rejection = answer instanceof ProviderRejection r ? r : new ProviderRejection("", false);
        if (rejection.contentFilter()) {
            throw new ApiError(400, "content_filtered", "The provider's content filter refused the message"
                    + rejection.said(), Map.of(), rejection.param());
        }
        String what = switch (rejection.status()) {
            case 413 -> "The provider refused the request as too large";
            case 422 -> "The provider could not process the request";
            default -> "The provider rejected the request as invalid";
        };
        throw new ApiError(rejection.status(), "provider_rejected_request", what + rejection.said(), Map.of(),
                rejection.param());
    }

    /** How long a caller is told to wait when the database is unavailable. */
    static final int DATABASE_RETRY_AFTER_SECONDS = 5;

    /** Beans called from expressions arrive wrapped in Camel's exceptions; what counts is the cause we threw. */
    private static Throwable unwrap(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ApiError || c instanceof ProviderFailure) {
                return c;
            }
        }
        return t;
    }

    ApiError toApiError(Exchange exchange, Throwable thrown) {
        Throwable caught = unwrap(thrown);
        if (caught instanceof ApiError api) {
            return api;
        }
        if (caught instanceof ProviderFailure) {
            ProviderAttempts attempts = exchange.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class);
            if (attempts != null && attempts.allRateLimited()) {
                Long retry = attempts.retryAfterSeconds();
                // a 429 always says when to come back: when no provider said how long, the shortest pause there is
                return new ApiError(429, "rate_limited", "Every provider is rate limiting; retry later",
                        Map.of("Retry-After", String.valueOf(retry == null ? 1 : retry)));
            }
            if (attempts != null && attempts.allBusy()) {
                // the gateway's connections to every provider tried were all carrying answers: a moment's wait
                return new ApiError(503, "overloaded", "Every connection to the providers of this model is in use;"
                        + " retry shortly", Map.of("Retry-After", "1"));
            }
            Long retry = attempts == null ? null : attempts.retryAfterSeconds();
            String model = exchange.getVariable(ProviderFailures.NO_EQUIVALENT_VARIABLE, String.class);
            String lacks = exchange.getVariable(ProviderFailures.FALLBACK_LACKS_VARIABLE, String.class);
            String message = lacks != null
                    ? "No provider serving " + exchange.getVariable("model", String.class) + " could answer, and the"
                            + " fallback model does not support " + lacks + ", which this request needs; retry later"
                    : model == null ? "No provider could answer; retry later"
                    : "No provider serving " + model + " could answer, and no equivalent model is configured";
            return new ApiError(503, "provider_unavailable", message,
                    retry == null ? Map.of() : Map.of("Retry-After", String.valueOf(retry)));
        }
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        String requestId = client == null ? "none" : client.requestId();
        if (Database.outOfReach(caught)) {
            // no connection within CHAT_DB_CONNECTION_TIMEOUT_MS, or the connection broke: the caller may retry
            LOG.warn("Request {}: the database is unavailable ({}{})", requestId,
                    caught.getClass().getSimpleName(), Database.sqlState(caught));
            return new ApiError(503, "database_unavailable", "The database is unavailable; retry later",
                    Map.of("Retry-After", String.valueOf(DATABASE_RETRY_AFTER_SECONDS)));
        }
        // exception messages can quote request data (SQL values, JSON snippets): log the type only, except for
        // Camel's bean binding, whose messages name methods and say why a call could not be made
        boolean binding = caught != null && caught.getClass().getName().startsWith("org.apache.camel.component.bean");
        LOG.error("Unexpected failure handling request {}: {} (cause {}){}{}", requestId,
                caught == null ? "unknown" : caught.getClass().getName(),
                caught == null || caught.getCause() == null ? "none" : caught.getCause().getClass().getName(),
                Database.sqlState(caught), binding ? ": " + caught.getMessage() : "");
        return new ApiError(500, "internal_error", "The gateway failed to handle the request");
    }
}
