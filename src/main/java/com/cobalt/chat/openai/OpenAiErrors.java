package com.cobalt.chat.openai;

import java.util.LinkedHashMap;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * OpenAI's error object, {@code {"error":{"message","type","param","code"}}}, for everything under {@code /v1/}: with
 * the matching status the SDKs raise their usual exception types (400 BadRequest, 401 Authentication, 403
 * PermissionDenied, 404 NotFound, 429 RateLimit, 5xx InternalServer). The code is the gateway's stable code; the
 * message never carries message text or secrets.
 */
public final class OpenAiErrors {

    /** The OpenAI-compatible API lives under this path; the router's own errors there take this shape too. */
    public static final String PATH_PREFIX = "/v1/";

    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiErrors() {
    }

    public static boolean isOpenAiPath(String path) {
        return path != null && path.startsWith(PATH_PREFIX);
    }

    public static String json(ApiError error) {
        return json(error.status(), error.code(), error.getMessage(), error.param());
    }

    public static String json(int status, String code, String message, String param) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("message", message);
        inner.put("type", type(status, code));
        inner.put("param", param);
        inner.put("code", code);
        try {
            return JSON.writeValueAsString(Map.of("error", inner));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The error event of a stream that broke after it began (no [DONE] follows). */
    public static String streamEvent(String code, String message) {
        return "event: error\ndata: " + json(502, code, message, null) + "\n\n";
    }

    /** OpenAI's error types by status; a daily quota is OpenAI's {@code insufficient_quota}. */
    static String type(int status, String code) {
        return switch (status) {
            case 400, 404, 405, 408, 413, 414, 415, 417, 422, 431 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 429 -> "daily_quota_exceeded".equals(code) ? "insufficient_quota" : "rate_limit_error";
            case 502 -> "api_error";
            case 503 -> "service_unavailable";
            default -> "server_error";
        };
    }
}
