package com.cobalt.chat.provider;

import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The provider refused the request itself: HTTP 400 (a bad request, or Azure's prompt content filter), 413 (a body
 * larger than it takes) or 422 (a request it cannot process). It is the caller's problem, not the provider's: no
 * fallback, and the breaker does not count it - one user's oversized conversation must not take the provider away
 * from everyone.
 *
 * <p>What the provider said is passed on only as its structured fields, {@code error.code} and {@code error.param}
 * (e.g. {@code context_length_exceeded}, {@code unsupported_parameter} / {@code max_tokens}), and only when they are
 * plain identifiers: the provider's {@code error.message} may quote the prompt, and message text never goes into an
 * error.
 *
 * @param code  the provider's error code, or null
 * @param param the request field the provider named, or null
 */
public record ProviderRejection(String provider, boolean contentFilter, int status, String code, String param)
        implements UpstreamAnswer {

    private static final Pattern CODE = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");
    private static final Pattern PARAM = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\[\\]-]{0,99}");

    public ProviderRejection(String provider, boolean contentFilter) {
        this(provider, contentFilter, 400, null, null);
    }

    /**
     * Whether an error a provider sent with a 200 (inside its stream, or as a JSON body) says the request was at
     * fault, by its {@code type} and {@code code} (either may be null): OpenAI's {@code invalid_request_error},
     * vLLM's {@code BadRequestError}, {@code context_length_exceeded}, or a 400, 413 or 422 code.
     */
    public static boolean isRequestError(String type, String code) {
        return "invalid_request_error".equals(type) || "BadRequestError".equals(type)
                || "invalid_request_error".equals(code) || "context_length_exceeded".equals(code)
                || "400".equals(code) || "413".equals(code) || "422".equals(code);
    }

    /** The statuses that are the request's fault, not the provider's. */
    public static boolean rejects(int status) {
        return status == 400 || status == 413 || status == 422;
    }

    /** A rejection with the code and param of the provider's error body ({@code {"error":{...}}}, or null). */
    public static ProviderRejection of(String provider, int status, boolean contentFilter, JsonNode body) {
        JsonNode error = body == null ? null : body.path("error");
        String code = null;
        String param = null;
        if (error != null && error.isObject()) {
            code = identifier(error.path("code"), CODE);
            param = identifier(error.path("param"), PARAM);
        }
        return new ProviderRejection(provider, contentFilter, status, code, param);
    }

    /** A rejection naming the provider's code and param (either may be null), each only if a plain identifier. */
    public static ProviderRejection said(String provider, int status, String code, String param) {
        return new ProviderRejection(provider, false, status, identifier(code, CODE), identifier(param, PARAM));
    }

    private static String identifier(JsonNode value, Pattern shape) {
        return value.isTextual() ? identifier(value.asText(), shape) : null;
    }

    private static String identifier(String value, Pattern shape) {
        return value != null && shape.matcher(value).matches() ? value : null;
    }

    /**
     * This rejection without a code or param that holds the credential the request carried ({@code authValue}: the
     * key, or {@code Bearer <token>}), or a piece of it: a provider (or a proxy before it) that echoes the key in its
     * error's {@code code} must not hand it to the caller, and a 32-character Azure key is a plain identifier.
     */
    public ProviderRejection withoutCredential(String authValue) {
        String secret = authValue == null ? "" : authValue.substring(authValue.lastIndexOf(' ') + 1);
        String c = holds(code, secret) ? null : code;
        String p = holds(param, secret) ? null : param;
        return c == code && p == param ? this : new ProviderRejection(provider, contentFilter, status, c, p);
    }

    /** Whether {@code value} holds the whole secret, or is itself a piece of it of eight characters or more. */
    private static boolean holds(String value, String secret) {
        return value != null && !secret.isEmpty()
                && (value.contains(secret) || value.length() >= 8 && secret.contains(value));
    }

    /** What the provider named, for the caller's message: " (provider code X, parameter 'Y')", or "". */
    public String said() {
        if (code == null && param == null) {
            return "";
        }
        String parameter = param == null ? "" : "parameter '" + param + "'";
        return " (" + (code == null ? parameter : "provider code " + code + (param == null ? "" : ", " + parameter))
                + ")";
    }
}
