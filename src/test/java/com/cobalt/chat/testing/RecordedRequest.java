package com.cobalt.chat.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP request as received by {@link FakeUpstream}.
 *
 * @param method  request method, as sent ("POST")
 * @param path    request path without the query string, not decoded ("/v1/chat/completions")
 * @param query   raw query string without the '?', or {@code null} when the target had no '?'
 * @param headers header names lower-cased, values in arrival order; unmodifiable, iteration in arrival order
 * @param body    request body decoded as UTF-8 ("" when there was none); chunked bodies are de-chunked
 */
public record RecordedRequest(String method, String path, String query, Map<String, List<String>> headers, String body) {

    public RecordedRequest {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        if (headers != null) {
            headers.forEach((name, values) -> copy
                    .computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .addAll(values));
        }
        copy.replaceAll((name, values) -> List.copyOf(values));
        headers = Collections.unmodifiableMap(copy);
        body = body == null ? "" : body;
    }

    /** First value of the header (name case-insensitive), or {@code null}. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** All values of the header (name case-insensitive), empty when absent. */
    public List<String> headerValues(String name) {
        return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }
}
