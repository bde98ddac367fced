package com.cobalt.chat.stream;

/**
 * How one answer ended, as it is stored and counted. Token counts are null when the provider did not report them.
 *
 * @param status          one of complete, interrupted, cancelled, content_filtered, failed
 * @param content         the answer only (a reasoning model's thinking is in {@code reasoning})
 * @param reasoning       what a reasoning model thought before (or while) answering; null when it sent none
 * @param cachedTokens    the part of the prompt the provider served from its cache, when it said so
 * @param reasoningTokens the part of the completion spent reasoning, when the provider said so
 */
public record StreamOutcome(String status, String content, String finishReason, Integer promptTokens,
                            Integer completionTokens, Long timeToFirstTokenMs, String errorCode, String reasoning,
                            Integer cachedTokens, Integer reasoningTokens) {

    public StreamOutcome(String status, String content, String finishReason, Integer promptTokens,
                         Integer completionTokens, Long timeToFirstTokenMs, String errorCode) {
        this(status, content, finishReason, promptTokens, completionTokens, timeToFirstTokenMs, errorCode, null, null,
                null);
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
