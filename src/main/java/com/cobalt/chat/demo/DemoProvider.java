package com.cobalt.chat.demo;

import java.util.ArrayList;
import java.util.List;

import com.cobalt.chat.http.ClientConnection;
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
 * finish chunk, a trailing usage chunk and [DONE], as SambaNova and Azure do.
 */
public class DemoProvider extends AsyncProcessorSupport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer "
            + "word by word through the same routes, circuit breaker and SSE relay a real provider uses. "
            + "Set LLM_PROVIDER to sambanova or azure to talk to a real model.";

    private final Vertx vertx;
    private final long delayMs;
    private final String model;

    public DemoProvider(Vertx vertx, long delayMs, String model) {
        this.vertx = vertx;
        this.delayMs = delayMs;
        this.model = model;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        int promptWords = promptWords(exchange.getMessage().getBody(byte[].class));
        List<String> pieces = words(ANSWER);
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
            next(out, pieces, 0, promptWords, once);
        });
        return false;
    }

    private void next(HttpServerResponse out, List<String> pieces, int i, int promptWords, AsyncCallback callback) {
        if (out.closed()) {
            return;
        }
        if (i == pieces.size()) {
            out.write(chunk("{}", "\"stop\""));
            out.write("data: {\"id\":\"demo\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                    + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptWords + ",\"completion_tokens\":"
                    + pieces.size() + ",\"total_tokens\":" + (promptWords + pieces.size()) + "}}\n\n");
            out.end("data: [DONE]\n\n");
            callback.done(false);
            return;
        }
        vertx.setTimer(delayMs, t -> {
            if (out.closed()) {
                return;
            }
            out.write(chunk("{\"content\":" + quote(pieces.get(i)) + "}", null));
            next(out, pieces, i + 1, promptWords, callback);
        });
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

    private static int promptWords(byte[] body) {
        try {
            int words = 0;
            for (JsonNode m : JSON.readTree(body).path("messages")) {
                String c = m.path("content").asText("").trim();
                words += c.isEmpty() ? 0 : c.split("\\s+").length;
            }
            return words;
        } catch (Exception e) {
            return 0;
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
