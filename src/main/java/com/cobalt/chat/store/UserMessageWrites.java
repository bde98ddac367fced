package com.cobalt.chat.store;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.apache.camel.Variable;

/**
 * The user's message stored while the provider is asked, not before: chat-http starts the write, calls the provider,
 * and holds the provider's first token until the write is done. The write's commit (on PostgreSQL: a round trip and
 * a wait for the disk) then overlaps the provider's own time to a first token instead of adding to it.
 *
 * <p>What stays as it was: no client sees a token of an answer before its question is stored, and a message that
 * cannot be stored is the request's failure (404 session_not_found when the session went meanwhile, the error of a
 * database failure otherwise). What changes: the provider may already have been asked when that happens; its answer
 * is then cancelled unread (the error handlers abandon a stream nobody relayed).
 */
public final class UserMessageWrites {

    /** A write under way: its stored message's id when done. Not a future itself, so Camel does not wait for it. */
    public record Pending(CompletableFuture<String> id) {
    }

    private final ChatStore store;
    private final Executor writers;

    /**
     * @param writers where the writes run (JDBC: never an event loop); a full queue fails the write, and with it the
     *                request
     */
    public UserMessageWrites(ChatStore store, Executor writers) {
        this.store = store;
        this.writers = writers;
    }

    /** The chat-enrich-session step: starts storing the message and returns at once. */
    public Pending start(@Variable("user") String userId, @Variable("sessionId") String sessionId,
                         @Variable("exchangeId") String exchangeId, @Variable("content") String content) {
        CompletableFuture<String> id = new CompletableFuture<>();
        try {
            writers.execute(() -> {
                try {
                    id.complete(store.saveUserMessage(userId, sessionId, exchangeId, content));
                } catch (RuntimeException | Error e) {
                    id.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            id.completeExceptionally(e);
        }
        return new Pending(id);
    }

    /**
     * The chat-http step once the provider's answer began: completes with the stored message's id, or fails as the
     * write failed (with the write's own exception: {@link #start} completes the future itself, nothing wraps it).
     * Asynchronous: no thread waits; the route goes on in the thread that finished the write, or at once when it was
     * done already.
     */
    public CompletableFuture<String> stored(@Variable("userMessage") Pending pending) {
        return pending == null
                ? CompletableFuture.failedFuture(new IllegalStateException("no user message being stored"))
                : pending.id();
    }

    /**
     * The error handlers' step (off the event loop: it waits): the id of the user's message once it is stored - the
     * one the route already has, or the write's once it ended - or null when no message was being stored or its
     * write failed. A failed request then records its failed answer only beside a question that is there, and
     * answers the client only once its question is stored.
     */
    public String storedId(@Variable("userMessageId") String known, @Variable("userMessage") Pending pending) {
        if (known != null || pending == null) {
            return known;
        }
        try {
            return pending.id().join();
        } catch (CompletionException | CancellationException e) {
            return null;
        }
    }
}
