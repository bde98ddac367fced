package com.cobalt.chat.openai;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.provider.ShuttingDown;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.stream.ClientEvents;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.StreamOutcome;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.Variable;

/**
 * The steps of openai-http that YAML cannot say: what the provider is sent for an OpenAI request, the shape the
 * caller gets, and the end of the answer - the usage chunk and [DONE] of a stream, or the whole
 * {@code chat.completion} with its usage (the provider's token counts, or the gateway's estimate as for sessions).
 */
public class OpenAiCompletions {

    /** The error code of an answer the gateway ended at shutdown (RelaySession.shutDown). */
    private static final String SHUTTING_DOWN = "shutting_down";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    public OpenAiCompletions(Clock clock) {
        this.clock = clock;
    }

    /** The messages as the provider gets them: the caller's own conversation, nothing stored, nothing added. */
    public List<ContextMessage> context(@Variable("completionRequest") ChatCompletionRequest request) {
        return request.messages();
    }

    public CompletionOptions options(@Variable("completionRequest") ChatCompletionRequest request) {
        return request.options();
    }

    /** The capabilities the request needs of its model (tools, json_schema, vision, reasoning), for the catalog. */
    public List<String> needs(@Variable("completionRequest") ChatCompletionRequest request) {
        return request.needs();
    }

    /** chat.completion.chunk events, or nothing until the whole chat.completion; named after the model asked for. */
    public ClientFormat format(@Variable("completionRequest") ChatCompletionRequest request,
                               @Variable("model") String model, @Variable("exchangeId") String exchangeId) {
        return new OpenAiChunks("chatcmpl-" + exchangeId.replace("-", ""), clock.instant().getEpochSecond(), model,
                request.stream(), request.includeUsage());
    }

    /**
     * A whole (not streamed) answer whose provider broke it off after it began (cut off, unreadable, an error event,
     * silent too long): nothing of it reached the caller, who waits for one chat.completion, so the fallback may still
     * answer - as it does for a failure before the first token. A streamed answer's deltas are out already.
     */
    public boolean brokeUnseen(@Variable(ClientFormat.VARIABLE) ClientFormat format,
                               @ExchangeProperty(StreamOutcome.PROPERTY) StreamOutcome outcome) {
        return format instanceof OpenAiChunks chunks && !chunks.stream() && outcome != null
                && outcome.brokenByProvider();
    }

    /** The format of the same completion (its id, created and model), empty: for the fallback's answer. */
    public ClientFormat formatAgain(@Variable(ClientFormat.VARIABLE) OpenAiChunks format) {
        return format.again();
    }

    /** The last step, once the answer is stored and counted. */
    public void respond(Exchange exchange) {
        OpenAiChunks format = exchange.getVariable(ClientFormat.VARIABLE, OpenAiChunks.class);
        StreamOutcome outcome = exchange.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        AnswerRecord answer = exchange.getProperty(ChatRecorder.PROPERTY, AnswerRecord.class);
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (format.stream()) {
            endStream(client, format, outcome, answer);
            return;
        }
        Message msg = exchange.getMessage();
        if (outcome.whole()) {
            msg.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
            msg.setHeader("Content-Type", "application/json");
            msg.setHeader(RelaySession.PROVIDER_HEADER, answer.provider());
            msg.setHeader(RelaySession.MODEL_HEADER, answer.model());
            msg.setBody(completion(format, outcome, answer));
        } else if (StreamOutcome.CANCELLED.equals(outcome.status())) {
            msg.setBody(null); // the caller left; there is no one to answer
        } else if (SHUTTING_DOWN.equals(outcome.errorCode())) {
            // the grace is over and this instance cut the answer, not the provider: what a shutdown answers (README
            // "Errors"), so the SDK or the balancer sends it again to another instance
            throw new ShuttingDown();
        } else {
            throw new ApiError(502, outcome.errorCode() == null ? "stream_interrupted" : outcome.errorCode(),
                    "The provider's answer broke off before it was complete; retry the request");
        }
    }

    private static void endStream(ClientConnection client, OpenAiChunks format, StreamOutcome outcome,
                                  AnswerRecord answer) {
        client.context().runOnContext(v -> {
            HttpServerResponse out = client.response();
            if (out.ended() || out.closed() || !out.headWritten()) {
                return;
            }
            if (outcome != null && outcome.whole()) {
                // the last events and the end of the response in one write (one syscall)
                out.end(format.includeUsage() && answer != null && answer.promptTokens() != null
                        ? format.usage(answer) + ClientEvents.DONE : ClientEvents.DONE);
            } else {
                out.end();
            }
        });
    }

    private static String completion(OpenAiChunks format, StreamOutcome outcome, AnswerRecord answer) {
        Map<String, Object> message = new LinkedHashMap<>();
        var toolCalls = format.toolCallsSoFar();
        message.put("role", "assistant");
        String refusal = format.refusalSoFar();
        // an answer that only calls tools, or only refuses, has no content, as OpenAI's
        message.put("content", (toolCalls.isEmpty() && refusal.isEmpty()) || !outcome.content().isEmpty()
                ? outcome.content() : null);
        message.put("refusal", refusal.isEmpty() ? null : refusal);
        if (outcome.reasoning() != null) {
            message.put("reasoning_content", outcome.reasoning());
        }
        if (!toolCalls.isEmpty()) {
            message.put("tool_calls", toolCalls);
        }
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("message", message);
        choice.put("logprobs", null);
        choice.put("finish_reason", outcome.finishReason() == null ? "stop" : outcome.finishReason());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", format.id());
        body.put("object", "chat.completion");
        body.put("created", format.created());
        body.put("model", format.model());
        body.put("choices", List.of(choice));
        body.put("usage", usage(answer));
        body.put("system_fingerprint", null);
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> usage(int promptTokens, int completionTokens) {
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        return usage;
    }

    /**
     * The answer's usage as OpenAI reports it; {@code prompt_tokens_details.cached_tokens} and
     * {@code completion_tokens_details.reasoning_tokens} only where the provider reported them (an absent count is
     * unknown, not zero).
     */
    static Map<String, Object> usage(AnswerRecord answer) {
        Map<String, Object> usage = usage(answer.promptTokens(), answer.completionTokens());
        if (answer.cachedTokens() != null) {
            usage.put("prompt_tokens_details", Map.of("cached_tokens", answer.cachedTokens()));
        }
        if (answer.reasoningTokens() != null) {
            usage.put("completion_tokens_details", Map.of("reasoning_tokens", answer.reasoningTokens()));
        }
        return usage;
    }
}
