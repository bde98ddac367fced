package com.cobalt.chat.stream;

import java.util.List;
import java.util.Set;

/**
 * How one answer ended, as it is stored and counted. Token counts are null when the provider did not report them.
 *
 * @param status          one of complete, interrupted, cancelled, content_filtered, failed
 * @param content         the answer only (a reasoning model's thinking is in {@code reasoning})
 * @param reasoning       what a reasoning model thought before (or while) answering; null when it sent none
 * @param cachedTokens    the part of the prompt the provider served from its cache, when it said so
 * @param reasoningTokens the part of the completion spent reasoning, when the provider said so
 * @param sideOutput      what the model wrote beside the answer and reasoning, for the token estimate: its tool
 *                        calls' names and arguments, a refusal kept apart from the content; empty when none
 */
public record StreamOutcome(String status, String content, String finishReason, Integer promptTokens,
                            Integer completionTokens, Long timeToFirstTokenMs, String errorCode, String reasoning,
                            Integer cachedTokens, Integer reasoningTokens, List<String> sideOutput) {

    public StreamOutcome {
        sideOutput = sideOutput == null ? List.of() : List.copyOf(sideOutput);
    }

    public StreamOutcome(String status, String content, String finishReason, Integer promptTokens,
                         Integer completionTokens, Long timeToFirstTokenMs, String errorCode) {
        this(status, content, finishReason, promptTokens, completionTokens, timeToFirstTokenMs, errorCode, null, null,
                null, List.of());
    }

    public static final String PROPERTY = "cobaltOutcome";

    public static final String COMPLETE = "complete";
    public static final String INTERRUPTED = "interrupted";
    public static final String CANCELLED = "cancelled";
    public static final String CONTENT_FILTERED = "content_filtered";
    public static final String FAILED = "failed";

    public static StreamOutcome failed(String errorCode) {
        return new StreamOutcome(FAILED, "", null, null, null, null, errorCode);
    }

    /**
     * The error codes of a stream the provider broke after it began (RelaySession.onBroken: cut off, unreadable, an
     * error event, silent too long) - not a caller who left, a slow reader, a shutdown or a deleted session.
     */
    static final Set<String> PROVIDER_BREAKS = Set.of("stream_interrupted", "malformed_chunk", "malformed_stream",
            "provider_stream_error", "stream_idle_timeout");

    /** The provider broke this answer after it began (counted against the provider, BrokenStreams). */
    public boolean brokenByProvider() {
        return INTERRUPTED.equals(status) && PROVIDER_BREAKS.contains(errorCode);
    }

    /** The provider finished the answer (possibly filtered): the client gets [DONE]. */
    public boolean whole() {
        return COMPLETE.equals(status) || CONTENT_FILTERED.equals(status);
    }

    /** The label used on llm_requests_total: a small fixed set. */
    public String metricStatus() {
        return switch (status) {
            case COMPLETE, CONTENT_FILTERED -> "success";
            case CANCELLED -> "cancelled";
            default -> "error";
        };
    }
}
