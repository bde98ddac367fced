package bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One streamed chat as a client sees it: sent, headers, every content event with its arrival time, the end. Works
 * against the gateway's session API ({@code data: {"content":..,"done":..}} events), the gateway's OpenAI-compatible
 * endpoint or directly against the fake (both {@code chat.completion.chunk}s). All fields are written on one event
 * loop; {@link #done} publishes them.
 */
final class StreamCall {

    /** GATEWAY: a session message; OPENAI: the gateway's /v1/chat/completions; DIRECT: the fake itself. */
    enum Target { GATEWAY, DIRECT, OPENAI }

    /** The model the OpenAI-compatible calls name (SAMBANOVA_MODEL of the gateway under bench). */
    static final String MODEL = "bench";

    /** Where the call got to, for calls still open at a scenario's deadline. */
    enum Phase { CONNECTING, WAITING_HEADERS, STREAMING, ENDED }

    final String id;
    final int deltas;
    final Target target;
    final CompletableFuture<StreamCall> done = new CompletableFuture<>();

    volatile Phase phase = Phase.CONNECTING;
    long sendNanos;
    long headersNanos;
    long endNanos;
    int status;
    String contentType;
    final long[] deltaNanos;
    int deltaCount;
    final StringBuilder text = new StringBuilder();
    int doneEvents;
    String finishReason;
    boolean sawDoneMarker;
    boolean eventsAfterDone;
    String errorEvent;
    String wrongModel;
    boolean usageChunk;
    String failure;
    final StringBuilder errorBody = new StringBuilder();
    /** Production mode: the caller's JWT, sent as {@code Authorization: Bearer} to the gateway (null: none). */
    String bearer;
    private volatile HttpClientRequest request;
    private final StringBuilder pending = new StringBuilder();

    StreamCall(String id, int deltas, Target target) {
        this.id = id;
        this.deltas = deltas;
        this.target = target;
        this.deltaNanos = new long[deltas];
    }

    String expectedText() {
        return FakeUpstream.expectedText(id, deltas);
    }

    /** Exactly the expected answer, the done event (gateway) and [DONE] last. */
    boolean ok() {
        return problem() == null;
    }

    /** Why the call did not succeed, or null. */
    String problem() {
        if (failure != null) {
            return failure;
        }
        if (phase != Phase.ENDED) {
            return "not finished (" + phase + ")";
        }
        if (status != 200) {
            return "HTTP " + status + " " + abbreviate(errorBody.toString());
        }
        if (contentType == null || !contentType.startsWith("text/event-stream")) {
            return "content type " + contentType;
        }
        if (errorEvent != null) {
            return "event: error " + abbreviate(errorEvent);
        }
        if (!expectedText().contentEquals(text)) {
            return "wrong text (" + deltaCount + " deltas, " + text.length() + " chars)";
        }
        if (deltaCount != deltas) {
            return "wrong delta count " + deltaCount;
        }
        if (target != Target.DIRECT && (doneEvents != 1 || !"stop".equals(finishReason))) {
            return "done events " + doneEvents + ", finish_reason " + finishReason;
        }
        if (target == Target.OPENAI && wrongModel != null) {
            return "model " + wrongModel + " instead of " + MODEL;
        }
        if (target == Target.OPENAI && !usageChunk) {
            return "no usage chunk";
        }
        if (!sawDoneMarker || eventsAfterDone) {
            return "no [DONE] at the end";
        }
        return null;
    }

    void start(HttpClient client, String host, int port, String path, String bodyJson) {
        Buffer body = Buffer.buffer(bodyJson);
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
                .setURI(path).putHeader("Content-Type", "application/json").putHeader("Accept", "text/event-stream");
        if (bearer != null && target != Target.DIRECT) {
            options.putHeader("Authorization", "Bearer " + bearer);
        } else if (target != Target.GATEWAY) {
            // the fake checks it; the gateway under bench runs with auth disabled, but OpenAI clients always send one
            options.putHeader("Authorization", "Bearer " + FakeUpstream.API_KEY);
        }
        sendNanos = System.nanoTime();
        client.request(options).onFailure(t -> fail("connect: " + describe(t))).onSuccess(req -> {
            request = req;
            phase = Phase.WAITING_HEADERS;
            req.send(body).onFailure(t -> fail("request: " + describe(t))).onSuccess(this::onResponse);
        });
    }

    /** Cut an unfinished call at the deadline. */
    void abort() {
        HttpClientRequest r = request;
        if (r != null) {
            r.reset();
        }
    }

    static String gatewayBody(String id, FakeUpstream.Shape shape) {
        return new JsonObject().put("content", FakeUpstream.content(shape, id)).encode();
    }

    static String directBody(String id, FakeUpstream.Shape shape) {
        return directBody(id, shape, null);
    }

    /** An OpenAI chat request; history: earlier {user, assistant} pairs sent before the new message (or null). */
    static String directBody(String id, FakeUpstream.Shape shape, java.util.List<String[]> history) {
        JsonArray messages = new JsonArray();
        if (history != null) {
            for (String[] h : history) {
                messages.add(new JsonObject().put("role", "user").put("content", h[0]));
                messages.add(new JsonObject().put("role", "assistant").put("content", h[1]));
            }
        }
        messages.add(new JsonObject().put("role", "user").put("content", FakeUpstream.content(shape, id)));
        return new JsonObject().put("model", "bench").put("stream", true).put("max_tokens", 2048)
                .put("stream_options", new JsonObject().put("include_usage", true)).put("messages", messages)
                .encode();
    }

    static String gatewayBody(String id, int n, int delayMs, int headerDelayMs) {
        return new JsonObject().put("content", FakeUpstream.content(id, n, delayMs, headerDelayMs)).encode();
    }

    static String directBody(String id, int n, int delayMs, int headerDelayMs) {
        return new JsonObject().put("model", MODEL).put("stream", true).put("max_tokens", 2048)
                .put("stream_options", new JsonObject().put("include_usage", true))
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", FakeUpstream.content(id, n, delayMs, headerDelayMs)))).encode();
    }

    private void onResponse(HttpClientResponse resp) {
        headersNanos = System.nanoTime();
        status = resp.statusCode();
        contentType = resp.getHeader("Content-Type");
        phase = Phase.STREAMING;
        resp.handler(buf -> onBytes(buf, System.nanoTime()));
        resp.exceptionHandler(t -> fail("stream: " + describe(t)));
        resp.endHandler(v -> {
            endNanos = System.nanoTime();
            phase = Phase.ENDED;
            done.complete(this);
        });
    }

    private void onBytes(Buffer buf, long now) {
        String chunk = buf.toString(StandardCharsets.UTF_8);
        if (status != 200) {
            if (errorBody.length() < 2000) {
                errorBody.append(chunk);
            }
            return;
        }
        pending.append(chunk);
        int end;
        while ((end = pending.indexOf("\n\n")) >= 0) {
            String event = pending.substring(0, end);
            pending.delete(0, end + 2);
            onEvent(event, now);
        }
    }

    private void onEvent(String event, long now) {
        String eventName = null;
        StringBuilder data = new StringBuilder();
        for (String line : event.split("\n")) {
            if (line.startsWith("event:")) {
                eventName = line.substring(6).trim();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).trim());
            }
        }
        if (data.length() == 0 && eventName == null) {
            return; // a comment (keep-alive)
        }
        if (sawDoneMarker) {
            eventsAfterDone = true;
        }
        if (eventName != null && eventName.contains("error")) {
            errorEvent = data.toString();
            return;
        }
        String d = data.toString();
        if ("[DONE]".equals(d)) {
            sawDoneMarker = true;
            return;
        }
        JsonObject json = new JsonObject(d);
        String content;
        if (target == Target.GATEWAY) {
            if (Boolean.TRUE.equals(json.getBoolean("done"))) {
                doneEvents++;
                finishReason = json.getString("finish_reason");
                return;
            }
            content = json.getString("content");
        } else {
            if (target == Target.OPENAI && !MODEL.equals(json.getString("model")) && wrongModel == null) {
                wrongModel = json.getString("model");
            }
            JsonArray choices = json.getJsonArray("choices");
            if (choices == null || choices.isEmpty()) {
                usageChunk |= json.getJsonObject("usage") != null;
                return; // usage chunk
            }
            JsonObject choice = choices.getJsonObject(0);
            if (choice.getString("finish_reason") != null) {
                doneEvents++;
                finishReason = choice.getString("finish_reason");
            }
            JsonObject delta = choice.getJsonObject("delta");
            content = delta == null ? null : delta.getString("content");
        }
        if (content != null && !content.isEmpty()) {
            if (deltaCount < deltaNanos.length) {
                deltaNanos[deltaCount] = now;
            }
            deltaCount++;
            text.append(content);
        }
    }

    private void fail(String why) {
        if (failure == null) {
            failure = why;
        }
        endNanos = System.nanoTime();
        done.complete(this);
    }

    private static String describe(Throwable t) {
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + abbreviate(t.getMessage()));
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 160 ? one.substring(0, 160) + "..." : one;
    }
}
