package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.cobalt.chat.openai.OpenAiErrors;
import com.cobalt.chat.stream.RelaySession;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Writes a route's final message as the HTTP response. Only the headers named here leave the gateway, so request
 * headers (Authorization, cookies, Camel's own) can never be echoed back.
 */
final class ResponseWriter {

    static final List<String> RESPONSE_HEADERS =
            List.of("Content-Type", "Retry-After", "WWW-Authenticate", "Location", "Cache-Control", "X-Request-Id",
                    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", RelaySession.PROVIDER_HEADER);

    private ResponseWriter() {
    }

    /** The error body in the shape of the API the path belongs to: OpenAI's under /v1/, the contract's elsewhere. */
    static String errorJson(String path, int status, String code, String message) {
        return OpenAiErrors.isOpenAiPath(path) ? OpenAiErrors.json(status, code, message, null)
                : ApiError.json(code, message);
    }

    static void write(HttpServerResponse response, Exchange exchange, String path) {
        if (exchange.getException() != null) {
            // routes map every expected failure to a JSON error; anything left is ours, and says nothing more
            writeJson(response, 500, errorJson(path, 500, "internal_error", "The gateway failed to handle the request"));
            return;
        }
        Message msg = exchange.getMessage();
        Integer status = msg.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        response.setStatusCode(status == null ? 200 : status);
        for (String name : RESPONSE_HEADERS) {
            String value = msg.getHeader(name, String.class);
            if (value != null) {
                response.putHeader(name, value);
            }
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

    static void writeJson(HttpServerResponse response, int status, String json) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.end();
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
    }
}
