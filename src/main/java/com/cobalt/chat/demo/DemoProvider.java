package com.cobalt.chat.demo;

import java.util.ArrayList;
import java.util.List;

import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.record.TokenEstimator;
import com.cobalt.chat.store.ContextMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The {@code demo} provider: an OpenAI-compatible chat completions endpoint served by the gateway itself, so the demo
 * runs the same code path as a real provider. It streams a canned answer word by word with a small delay, then a
 * finish chunk and, when the request asks for it with {@code stream_options.include_usage}, a trailing usage chunk
 * ({@code choices: []}), then [DONE], as OpenAI, SambaNova and Azure do. Like a provider it stops at the request's
 * {@code max_tokens} (finish reason {@code length}), and it counts tokens with the gateway's own tokenizer
 * ({@link TokenEstimator}), so its usage agrees with the gateway's estimates.
 */
public class DemoProvider extends AsyncProcessorSupport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer "
            + "word by word through the same routes, circuit breaker and SSE relay a real provider uses. "
            + "Set LLM_PROVIDER to sambanova or azure to talk to a real model.";

    private final Vertx vertx;
    private final long delayMs;
    private final String model;
    private final TokenEstimator tokens = new TokenEstimator();

    public DemoProvider(Vertx vertx, long delayMs, String model) {
        this.vertx = vertx;
        this.delayMs = delayMs;
        this.model = model;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        Request request = Request.of(exchange.getMessage().getBody(byte[].class), model);
        Answer answer = answer(request);
        HttpServerResponse out = client.response();
        AsyncCallback once = new AsyncCallback() {
            private boolean done;

            @Override
            public void done(boolean doneSync) {
                if (!done) {
                    done = true;
                    callback.done(false);
                }
            }
        };
        client.context().runOnContext(v -> {
            out.setStatusCode(200).putHeader("Content-Type", "text/event-stream").setChunked(true);
            out.closeHandler(x -> once.done(false));
            out.write(chunk("{\"role\":\"assistant\",\"content\":\"\"}", null));
            next(out, request, answer, 0, once);
        });
        return false;
    }

    /** The request as the demo reads it: what a provider would honour. */
    record Request(String model, List<ContextMessage> messages, Integer maxTokens, boolean includeUsage) {

        static Request of(byte[] body, String defaultModel) {
            List<ContextMessage> messages = new ArrayList<>();
            try {
                JsonNode doc = JSON.readTree(body);
                for (JsonNode m : doc.path("messages")) {
                    messages.add(new ContextMessage(m.path("role").asText("user"), m.path("content").asText("")));
                }
                JsonNode max = doc.hasNonNull("max_completion_tokens") ? doc.get("max_completion_tokens")
                        : doc.get("max_tokens");
                return new Request(doc.path("model").asText(defaultModel), messages,
                        max != null && max.canConvertToInt() ? max.asInt() : null,
                        doc.path("stream_options").path("include_usage").asBoolean(false));
            } catch (Exception e) {
                return new Request(defaultModel, messages, null, false);
            }
        }
    }

    /** The pieces to stream, within max_tokens, and why the answer ends. */
    record Answer(List<String> pieces, String finishReason, int promptTokens, int completionTokens) {
    }

    Answer answer(Request request) {
        List<String> pieces = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        String finish = "stop";
        for (String piece : words(ANSWER)) {
            if (request.maxTokens() != null
                    && tokens.completion(text + piece, request.model()) > request.maxTokens()) {
                finish = "length";
                break;
            }
            pieces.add(piece);
            text.append(piece);
        }
        return new Answer(pieces, finish, tokens.prompt(request.messages(), request.model()),
                tokens.completion(text.toString(), request.model()));
    }

    private void next(HttpServerResponse out, Request request, Answer answer, int i, AsyncCallback callback) {
        if (out.closed()) {
            return;
        }
        if (i == answer.pieces().size()) {
            out.write(chunk("{}", "\"" + answer.finishReason() + "\""));
            if (request.includeUsage()) {
                out.write("data: {\"id\":\"demo\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                        + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + answer.promptTokens()
                        + ",\"completion_tokens\":" + answer.completionTokens() + ",\"total_tokens\":"
                        + (answer.promptTokens() + answer.completionTokens()) + "}}\n\n");
            }
            out.end("data: [DONE]\n\n");
            callback.done(false);
            return;
        }
        Runnable write = () -> {
            if (out.closed()) {
                return;
            }
            out.write(chunk("{\"content\":" + quote(answer.pieces().get(i)) + "}", null));
            next(out, request, answer, i + 1, callback);
        };
        if (delayMs > 0) {
            vertx.setTimer(delayMs, t -> write.run());
        } else {
            // DEMO_TOKEN_DELAY_MS=0: as fast as the loop goes (Vert.x refuses a timer of 0 ms)
            vertx.runOnContext(v -> write.run());
        }
    }

    private String chunk(String delta, String finishReason) {
        return "data: {\"id\":\"demo\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finishReason + "}]}\n\n";
    }

    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.split(" ")) {
            out.add(out.isEmpty() ? w : " " + w);
        }
        return out;
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
