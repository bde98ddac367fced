package com.cobalt.chat.http;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A failure the client is told about: HTTP status, a stable snake_case code and a human message. Rendered as
 * {@code {"error":{"code":...,"message":...}}}; the message never carries secrets or message text.
 */
public class ApiError extends RuntimeException {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The variable the error responses leave the error they answered in, for the refusal's log line. */
    public static final String VARIABLE = "apiError";

    private final int status;
    private final String code;
    private final Map<String, String> headers;
    private final String param;

    public ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    public ApiError(int status, String code, String message, Map<String, String> headers) {
        this(status, code, message, headers, null);
    }

    /** {@code param} names the request field at fault (OpenAI's error object carries it); the session API's shape does not. */
    public ApiError(int status, String code, String message, Map<String, String> headers, String param) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.headers = headers;
        this.param = param;
    }

    /** A 400 about one field of the request, e.g. {@code messages[0].content}. */
    public static ApiError invalidParam(String code, String message, String param) {
        return new ApiError(400, code, message, Map.of(), param);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }

    public String toJson() {
        return json(code, getMessage());
    }

    public static String json(String code, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        try {
            return JSON.writeValueAsString(Map.of("error", inner));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The longest piece of a caller's value an error message repeats. */
    public static final int MAX_ECHO = 64;

    /**
     * A value the caller sent, as an error message repeats it: at most {@link #MAX_ECHO} characters (not ending in half
     * a surrogate pair), then "...". An error names what was wrong; it does not send a 5 MB model name back.
     */
    public static String echo(String value) {
        if (value == null || value.length() <= MAX_ECHO) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(MAX_ECHO - 1)) ? MAX_ECHO - 1 : MAX_ECHO;
        return value.substring(0, end) + "...";
    }

    public static ApiError badRequest(String code, String message) {
        return new ApiError(400, code, message);
    }

    public static ApiError notFound(String code, String message) {
        return new ApiError(404, code, message);
    }

    public static ApiError unauthorized(String code, String message) {
        return new ApiError(401, code, message, Map.of("WWW-Authenticate", "Bearer"));
    }
}
