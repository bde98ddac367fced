package com.cobalt.chat.record;

import java.math.BigDecimal;
import java.util.List;

import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.limit.UserLimits;
import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ShuttingDown;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.provider.UpstreamClient;
import com.cobalt.chat.store.AnswerCheckpoints;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.store.LiveAnswer;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.store.SweptUsage;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.SseRelay;
import com.cobalt.chat.stream.StreamOutcome;
import org.apache.camel.Exchange;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat-record step: stores the assistant message of an exchange however it ended, with its usage - the
 * provider's token counts where it reported them, the gateway's own count (marked estimated) where it did not -
 * and its cost. What the metrics and the exchange log need is left in {@link #PROPERTY}.
 */
public class ChatRecorder {

    public static final String PROPERTY = "cobaltAnswer";
    /** The variant of a session outside any A/B split, as metrics label it; stored as null. */
    public static final String NO_VARIANT = "none";

    /**
     * The variable naming why a streamed answer was not stored ({@link #SESSION_DELETED}, {@link #NOT_STORED}); unset
     * when it was. The end of the stream tells the client (SseRelay.endStream).
     */
    public static final String NOT_STORED_VARIABLE = "answerNotStored";
    public static final String SESSION_DELETED = "session_deleted";
    public static final String NOT_STORED = "answer_not_stored";

    private static final Logger LOG = LoggerFactory.getLogger(ChatRecorder.class);

    private final ChatStore store;
    private final TokenEstimator tokens;
    private final PriceTable prices;
    private final AnswerCheckpoints checkpoints;

    public ChatRecorder(ChatStore store, TokenEstimator tokens, PriceTable prices) {
        this(store, tokens, prices, null);
    }

    public ChatRecorder(ChatStore store, TokenEstimator tokens, PriceTable prices, AnswerCheckpoints checkpoints) {
        this.store = store;
        this.tokens = tokens;
        this.prices = prices;
        this.checkpoints = checkpoints;
    }

    /** When the request failed before any stream: the outcome to store (content filter or failure). */
    public void failedBeforeStream(Exchange exchange) {
        if (exchange.getProperty(StreamOutcome.PROPERTY) != null) {
            return; // the relay already said how it ended
        }
        ProviderRejection rejection = exchange.getProperty(SseRelay.PROPERTY) instanceof ProviderRejection r ? r : null;
        StreamOutcome outcome;
        if (rejection != null && rejection.contentFilter()) {
            outcome = new StreamOutcome(StreamOutcome.CONTENT_FILTERED, "", "content_filter", null, null, null,
                    "content_filtered");
        } else if (rejection != null) {
            outcome = StreamOutcome.failed("provider_rejected_request");
        } else if (exchange.getProperty(Exchange.EXCEPTION_CAUGHT) instanceof ShuttingDown stop) {
            // cut at the end of the shutdown grace while it waited for its provider: the code the client got
            outcome = StreamOutcome.failed(stop.code());
        } else {
            ProviderAttempts attempts = exchange.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class);
            // the code the client got (ErrorResponses): rate_limited when every provider was rate limiting,
            // overloaded when every one had all its connections in use
            outcome = StreamOutcome.failed(attempts == null || attempts.failures().isEmpty() ? "internal_error"
                    : attempts.allRateLimited() ? "rate_limited"
                    : attempts.allBusy() ? "overloaded" : "provider_unavailable");
        }
        exchange.setProperty(StreamOutcome.PROPERTY, outcome);
    }

    /**
     * @param slotToFree the request's stream slot, to be freed in the answer's own statement where the limits live in
     *                   the chat database (UserLimits.slotToFreeWithAnswer); null when the route frees it later
     */
    public void record(Exchange exchange, @Variable(UserLimits.TO_FREE_WITH_ANSWER) String slotToFree) {
        StreamOutcome o = exchange.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        Object answered = exchange.getProperty(SseRelay.PROPERTY);
        RelaySession upstream = answered instanceof RelaySession r ? r : null;
        ProviderRejection rejection = answered instanceof ProviderRejection r ? r : null;
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        long durationNanos = client == null ? 0 : System.nanoTime() - client.startedNanos();
        String provider = exchange.getVariable("provider", String.class);
        // the catalog id of the model that answered (after a fallback, the fallback's model)
        String model = upstream == null ? null : exchange.getVariable("model", String.class);
        if (upstream != null && model == null) {
            model = upstream.target().upstreamName();
        }
        Usage usage = upstream == null ? null : usage(o, provider, model, upstream.target().upstreamName(),
                exchange.getVariable(UpstreamClient.MESSAGES_VARIABLE, List.class),
                exchange.getVariable(CompletionOptions.VARIABLE, CompletionOptions.class));
        String variant = exchange.getVariable("variant", String.class);
        String answeredBy = upstream != null ? provider : rejection != null ? rejection.provider() : null;
        AnswerRecord answer = new AnswerRecord(exchange.getVariable("sessionId", String.class),
                exchange.getVariable("exchangeId", String.class), exchange.getVariable("user", String.class),
                o.content(), o.status(), answeredBy, model, o.finishReason(), o.errorCode(),
                usage == null ? null : usage.promptTokens(), usage == null ? null : usage.completionTokens(),
                usage == null ? null : usage.estimated(), usage == null ? null : usage.costUsd(),
                o.timeToFirstTokenMs(), durationNanos / 1_000_000,
                variant == null || NO_VARIANT.equals(variant) ? null : variant,
                usage == null ? null : usage.cachedTokens(), usage == null ? null : usage.reasoningTokens(),
                o.reasoning());
        // the row its checkpoints wrote, if any: no checkpoint starts after this, one being written is waited for
        LiveAnswer live = exchange.getVariable(AnswerCheckpoints.VARIABLE, LiveAnswer.class);
        boolean checkpointed = checkpoints != null && checkpoints.finish(live);
        String notStored = null;
        try {
            ChatStore.SavedAnswer saved = store.saveAnswer(answer, live != null ? live.messageId() : null,
                    checkpointed, slotToFree);
            if (!saved.stored()) {
                notStored = SESSION_DELETED;
            }
            if (saved.slotFreed()) {
                exchange.setVariable(UserLimits.FREED_WITH_ANSWER, slotToFree);
            }
        } catch (RuntimeException e) {
            // after the client's 200 there is no one to throw to: the stream still ends well-formed, the usage was
            // written on its own, and the exchange is logged and counted like any other
            LOG.error("Could not store the answer of an exchange: {} (cause {})", e.getClass().getName(),
                    e.getCause() == null ? "none" : e.getCause().getClass().getName());
            notStored = NOT_STORED;
        }
        exchange.setProperty(PROPERTY, answer);
        exchange.setVariable("answerRecorded", true);
        exchange.setVariable("answerStored", notStored == null);
        if (notStored != null) {
            exchange.setVariable(NOT_STORED_VARIABLE, notStored);
        }
        exchange.setVariable("metricStatus", o.metricStatus());
    }

    /**
     * Before the same request's second attempt (a whole /v1 answer its provider broke off, retried on the fallback):
     * the first attempt is recorded, so what it left - its outcome, its answer, its stream, the recorded flags - is
     * dropped, and the second attempt is recorded on its own however it ends, a failure before its first token too.
     */
    public void forgetRecorded(Exchange exchange) {
        exchange.removeProperty(StreamOutcome.PROPERTY);
        exchange.removeProperty(SseRelay.PROPERTY);
        exchange.removeProperty(PROPERTY);
        exchange.removeVariable("answerRecorded");
        exchange.removeVariable("answerStored");
        exchange.removeVariable(NOT_STORED_VARIABLE);
        exchange.removeVariable("metricStatus");
    }

    /**
     * The usage of an answer the sweep of expired leases marked interrupted (AnswerCheckpoints.estimateSweptUsage): its
     * stream's counts never arrived, so it is estimated like any answer without them - the prompt as the gateway sent
     * it, the checkpointed text as completion - and priced as they are.
     *
     * @param upstreamName the model's name at its provider, priced when the catalog id has no price; null if unknown
     */
    public SweptUsage.Estimate swept(String provider, String model, String upstreamName, List<ContextMessage> prompt,
                                     String content) {
        Usage u = usage(new StreamOutcome(StreamOutcome.INTERRUPTED, content, null, null, null, null,
                AnswerCheckpoints.INSTANCE_LOST), provider, model, upstreamName, prompt, null);
        return new SweptUsage.Estimate(u.promptTokens(), u.completionTokens(), u.costUsd());
    }

    /** @param options the request's tools and response format (/v1), part of the prompt; null for the session API */
    @SuppressWarnings("unchecked")
    Usage usage(StreamOutcome o, String provider, String model, String upstreamName, List<?> context,
                CompletionOptions options) {
        boolean estimated = o.promptTokens() == null || o.completionTokens() == null;
        int prompt = o.promptTokens() != null ? o.promptTokens()
                : tokens.prompt(context == null ? List.of() : (List<ContextMessage>) context, model)
                        + (options == null ? 0 : tokens.definitions(options.passThrough().get("tools"),
                                options.passThrough().get("response_format"), model));
        // a reasoning model's thinking, its tool calls and a refusal are completion tokens too, where the provider
        // did not count them
        int completion = o.completionTokens() != null ? o.completionTokens()
                : tokens.completion(o.content(), model) + tokens.completion(o.reasoning(), model)
                        + tokens.completion(o.sideOutput(), model);
        // the cached part is only known from the provider: an estimate never claims any
        Integer cached = o.promptTokens() == null || o.cachedTokens() == null ? null
                : Math.min(o.cachedTokens(), prompt);
        Integer reasoning = o.completionTokens() == null ? null : o.reasoningTokens();
        int cachedForCost = cached == null ? 0 : cached;
        BigDecimal cost = prices.price(provider, model) != null || upstreamName == null
                ? prices.cost(provider, model, prompt, cachedForCost, completion)
                : prices.cost(provider, upstreamName, prompt, cachedForCost, completion);
        return new Usage(prompt, completion, estimated, cost, cached, reasoning);
    }
}
