package com.cobalt.chat.store;

import java.util.List;

/**
 * What the provider is given: the system prompt (or null) and the history of completed exchanges, oldest first;
 * and the session's model (null: the default model) and A/B variant (null: none).
 *
 * <p>{@code unconfirmed} is set on a context this instance took from its memory without asking the database
 * ({@link ChatStore#sessionContext}): its system prompt, model and variant are the session's (they never change), its
 * history is empty until the admission's statement confirms the session and reads what changed
 * ({@link ChatStore#confirmedBy}). Null on a context read from the database.
 */
public record SessionContext(String systemPrompt, List<ContextMessage> history, String model, String variant,
                             Unconfirmed unconfirmed) {

    public SessionContext(String systemPrompt, List<ContextMessage> history, String model, String variant) {
        this(systemPrompt, history, model, variant, null);
    }

    public SessionContext(String systemPrompt, List<ContextMessage> history) {
        this(systemPrompt, history, null, null, null);
    }

    /**
     * The history, oldest first. An unconfirmed context has none yet: a route that builds the provider's messages
     * from it without the admission step between (admit-message) would send them without their history, so that
     * fails here, loudly, instead.
     */
    @Override
    public List<ContextMessage> history() {
        if (unconfirmed != null) {
            throw new IllegalStateException("This session context came from the instance's copy and is confirmed by"
                    + " the admission step (admit-message, userLimits.admitToSession); its history is read there");
        }
        return history;
    }

    /** Whether the database has answered for this context (else the admission's statement is still to). */
    public boolean confirmed() {
        return unconfirmed == null;
    }

    /** The session and the copy a context came from, for the statement that confirms it. */
    public static final class Unconfirmed {

        final String sessionId;
        /** The caller's own copy: its head names the caller. */
        final SessionHistoryCache.Copy copy;

        Unconfirmed(String sessionId, SessionHistoryCache.Copy copy) {
            this.sessionId = sessionId;
            this.copy = copy;
        }

        @Override
        public String toString() {
            return "Unconfirmed[version " + copy.version() + "]";
        }
    }
}
