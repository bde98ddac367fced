package com.cobalt.chat.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A client of the chat API over real HTTP/1.1, as an integration would call it. */
public final class GatewayClient {

    public static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public GatewayClient(RunningGateway gateway) {
        this.baseUrl = gateway.baseUrl();
    }

    /** A gateway running elsewhere (a child process), at {@code http://host:port}. */
    public GatewayClient(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    /** Creates a session and returns its id. */
    public String createSession(String token, String body) {
        HttpResponse<String> r = send("POST", "/api/v1/chat/sessions", token, "application/json", body);
        if (r.statusCode() != 201) {
            throw new AssertionError("session not created: " + r.statusCode() + " " + r.body());
        }
        return json(r.body()).get("id").asText();
    }

    public String createSession(String token) {
        return createSession(token, "{}");
    }

    public HttpResponse<String> send(String method, String path, String token, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String path, String token) {
        return send("GET", path, token, null, null);
    }

    /** Sends a chat message and reads the whole answer (SSE or JSON error). */
    public Answer chat(String sessionId, String token, String content) {
        HttpResponse<String> r = send("POST", "/api/v1/chat/sessions/" + sessionId + "/messages", token,
                "application/json", "{\"content\":" + Chunks.json(content) + "}");
        return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), r.body());
    }

    /** Sends a chat message and returns the live body, for tests that read part of it and walk away. */
    public HttpResponse<InputStream> openChat(String sessionId, String token, String content) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/chat/sessions/" + sessionId + "/messages"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"content\":" + Chunks.json(content) + "}")).build();
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    public JsonNode session(String sessionId, String token) {
        HttpResponse<String> r = get("/api/v1/chat/sessions/" + sessionId, token);
        if (r.statusCode() != 200) {
            throw new AssertionError("session not readable: " + r.statusCode() + " " + r.body());
        }
        return json(r.body());
    }

    public static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    /** An answer to POST .../messages: status, content type and raw body. */
    public record Answer(int status, String contentType, String body) {

        /** The SSE events, each as its raw text without the trailing blank line. */
        public List<String> events() {
            List<String> events = new ArrayList<>();
            for (String e : body.split("\n\n")) {
                if (!e.isEmpty()) {
                    events.add(e);
                }
            }
            return events;
        }

        /** The concatenated {@code content} of every non-final data event. */
        public String text() {
            StringBuilder b = new StringBuilder();
            for (String e : events()) {
                if (e.startsWith("data: {")) {
                    JsonNode n = json(e.substring(6));
                    if (!n.path("done").asBoolean(true)) {
                        b.append(n.get("content").asText());
                    }
                }
            }
            return b.toString();
        }
    }
}
