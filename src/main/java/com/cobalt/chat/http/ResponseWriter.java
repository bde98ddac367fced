package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.openai.OpenAiErrors;
import com.cobalt.chat.stream.RelaySession;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Writes a route's final message as the HTTP response. Only the headers named here leave the gateway, and only when
 * the route set them: a route's message starts out with the request's headers, so a header that still holds the
 * request's own value (a caller's {@code Location}, {@code WWW-Authenticate}, {@code X-RateLimit-Limit}...) is the
 * caller's, not the gateway's, and is never echoed back. {@code X-Request-Id} is set once, sanitised, before the
 * route runs ({@link AsyncPlatformHttpEngine}); every answer whose route did not set Cache-Control (every JSON
 * answer; only the web page's files set it) is {@code Cache-Control: no-store}.
 */
final class ResponseWriter {

    static final List<String> RESPONSE_HEADERS =
            List.of("Content-Type", "Retry-After", "WWW-Authenticate", "Location",
                    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", RelaySession.PROVIDER_HEADER,
                    RelaySession.MODEL_HEADER,
                    // the web page's files (routes/web-asset.camel.yaml): validators, their caching, the page's policy
                    "ETag", "Last-Modified", "Cache-Control", "Content-Security-Policy", "Referrer-Policy");
    static final String CACHE_CONTROL = "Cache-Control";
    static final String NO_STORE = "no-store";
    static final String CONTENT_TYPE_OPTIONS = "X-Content-Type-Options";
    static final String NOSNIFF = "nosniff";

    private ResponseWriter() {
    }

    /** The error body in the shape of the API the path belongs to: OpenAI's under /v1/, the contract's elsewhere. */
    static String errorJson(String path, int status, String code, String message) {
        return OpenAiErrors.isOpenAiPath(path) ? OpenAiErrors.json(status, code, message, null)
                : ApiError.json(code, message);
    }

    /**
     * @param inbound the message's headers as the request set them, before the route ran: a header whose value is
     *                still that very object was not set by the gateway
     */
    static void write(HttpServerResponse response, Exchange exchange, String path, Map<String, Object> inbound) {
        if (exchange.getException() != null) {
            // routes map every expected failure to a JSON error; anything left is ours, and says nothing more
            writeJson(response, 500, errorJson(path, 500, "internal_error", "The gateway failed to handle the request"));
            return;
        }
        Message msg = exchange.getMessage();
        Integer status = msg.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        response.setStatusCode(status == null ? 200 : status);
        for (String name : RESPONSE_HEADERS) {
            Object raw = msg.getHeader(name);
            if (raw != null && raw != inbound.get(name)) {
                response.putHeader(name, msg.getHeader(name, String.class));
            }
        }
        if (!response.headers().contains(CACHE_CONTROL)) {
            response.putHeader(CACHE_CONTROL, NO_STORE);
        }
        if (!worthRetrying(response.getStatusCode(), response.headers().get("Retry-After"))) {
            response.putHeader(SHOULD_RETRY, "false");
        }
        Object body = msg.getBody();
        if (body == null) {
            response.end();
        } else if (body instanceof byte[] bytes) {
            response.end(Buffer.buffer(bytes));
        } else {
            String text = msg.getBody(String.class);
            response.end(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * OpenAI's SDKs (Python, Node) retry a 429 or 5xx by themselves, twice by default, and sleep for as long as
     * Retry-After says: a daily quota's "come back at midnight" held a caller inside one call for hours (black-box
     * probe with openai-node 6). They skip their retries when the answer says {@code x-should-retry: false}.
     */
    static final String SHOULD_RETRY = "x-should-retry";
    /** Longer waits than this are not worth an SDK's automatic retry: the caller decides (the SDKs' own cap). */
    static final long MAX_RETRY_WAIT_SECONDS = 60;

    /** False for a refusal whose Retry-After asks for a wait past {@link #MAX_RETRY_WAIT_SECONDS}. */
    static boolean worthRetrying(int status, String retryAfter) {
        if (retryAfter == null || (status != 429 && status < 500)) {
            return true;
        }
        try {
            return Long.parseLong(retryAfter.trim()) <= MAX_RETRY_WAIT_SECONDS;
        } catch (NumberFormatException e) {
            return true;
        }
    }

    static void writeJson(HttpServerResponse response, int status, String json) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.end();
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json").putHeader(CACHE_CONTROL, NO_STORE)
                .putHeader(CONTENT_TYPE_OPTIONS, NOSNIFF).end(json);
    }
}
