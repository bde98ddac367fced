package com.cobalt.chat.limit;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import com.cobalt.chat.http.ClientConnection;
import org.apache.camel.Exchange;
import org.apache.camel.Variable;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * The limits as steps of the chat routes: {@code admit} before anything is stored or sent to a provider (429 with
 * Retry-After when a limit is reached), {@code release} once the answer is stored, before the client sees the end
 * of the stream, so a client that sends its next message right away finds its slot free again.
 *
 * <p>chat-http splits the admission in two, {@code start} and {@code admitted}, so that on a shared database its
 * round trip runs beside the read of the session instead of after it. A message that then goes no further before
 * its admission was awaited (its session is not the caller's, it is too long for the model) is withdrawn
 * ({@code withdrawUnawaited}, the error handler's step): not counted, its slot free, as if it had never been admitted.
 */
public class UserLimits {

    /** The exchange variable holding the admitted message's stream slot until it is released. */
    public static final String SLOT = "streamSlot";

    /**
     * An admission under way. Settled once: by {@link #admitted} (it counts) or by a withdrawal (it does not). Not a
     * future itself, so Camel does not wait for it when it is stored in a variable.
     */
    public record Pending(String user, CompletableFuture<LimitLedger.Admission> admission, AtomicBoolean settled) {

        boolean settle() {
            return settled.compareAndSet(false, true);
        }
    }

    private final LimitLedger ledger;
    private final Executor admissions;

    /**
     * @param admissions where admissions that wait for the database run while the route reads the session (JDBC:
     *                   never an event loop); a full queue fails the admission, and with it the request
     */
    public UserLimits(LimitLedger ledger, Executor admissions) {
        this.ledger = ledger;
        this.admissions = admissions;
    }

    public void admit(Exchange exchange, @Variable("user") String user) {
        LimitLedger.Admission admission = ledger.admit(user);
        respondWith(exchange, admission);
        exchange.setVariable(SLOT, admission.slot());
        // the routes release the slot on every path they know; this catches a path they don't
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                release(exchange);
            }
        });
    }

    /**
     * chat-http's first step after reading the request: starts the admission and returns at once - on the
     * admissions' pool when it is a database round trip, decided here when it is in memory.
     */
    public Pending start(Exchange exchange, @Variable("user") String user) {
        CompletableFuture<LimitLedger.Admission> admission = new CompletableFuture<>();
        if (ledger.admitsInDatabase()) {
            try {
                admissions.execute(() -> decide(user, admission));
            } catch (RejectedExecutionException e) {
                admission.completeExceptionally(e);
            }
        } else {
            decide(user, admission);
        }
        Pending pending = new Pending(user, admission, new AtomicBoolean());
        // the routes await or withdraw the admission, and release its slot, on every path they know; this catches a
        // path they don't
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                if (pending.settle()) {
                    admission.thenAccept(a -> inBackground(() -> ledger.withdraw(user, a)));
                } else {
                    release(exchange);
                }
            }
        });
        return pending;
    }

    /**
     * chat-http's step once the session was found and the message fits: completes with the admitted message's stream
     * slot, or fails with the ledger's own 429 (or its failure). Asynchronous: no thread waits; the route goes on in
     * the thread that finished the admission, or at once when it was decided already.
     */
    public CompletableFuture<String> admitted(Exchange exchange, @Variable("admission") Pending pending) {
        if (pending == null || !pending.settle()) {
            return CompletableFuture.failedFuture(new IllegalStateException("no admission under way"));
        }
        CompletableFuture<String> slot = new CompletableFuture<>();
        pending.admission().whenComplete((admission, failure) -> {
            if (failure != null) {
                slot.completeExceptionally(failure);
                return;
            }
            try {
                respondWith(exchange, admission);
                slot.complete(admission.slot());
            } catch (RuntimeException e) {
                inBackground(() -> ledger.release(admission.slot()));
                slot.completeExceptionally(e);
            }
        });
        return slot;
    }

    /**
     * The error handlers' step (off the event loop: it waits for the admission): a message that failed before its
     * admission was awaited is withdrawn; one that was admitted counts, and its slot is released by the next step.
     */
    public void withdrawUnawaited(@Variable("admission") Pending pending) {
        if (pending == null || !pending.settle()) {
            return;
        }
        LimitLedger.Admission admission;
        try {
            admission = pending.admission().join();
        } catch (CompletionException | CancellationException refusedOrFailed) {
            return; // nothing was counted
        }
        ledger.withdraw(pending.user(), admission);
    }

    public void release(Exchange exchange) {
        String slot = exchange.getVariable(SLOT, String.class);
        if (slot != null) {
            exchange.removeVariable(SLOT);
            ledger.release(slot);
        }
    }

    private void decide(String user, CompletableFuture<LimitLedger.Admission> admission) {
        try {
            admission.complete(ledger.admit(user));
        } catch (RuntimeException | Error e) {
            admission.completeExceptionally(e);
        }
    }

    /** The SSE relay writes the response head itself, so the headers go on the response, not the message. */
    private static void respondWith(Exchange exchange, LimitLedger.Admission admission) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (client != null) {
            admission.headers().forEach((name, value) -> client.response().putHeader(name, value));
        }
    }

    /** Ledger work from a completion callback, which may run on an event loop: off it when it is JDBC. */
    private void inBackground(Runnable work) {
        if (!ledger.admitsInDatabase()) {
            work.run();
            return;
        }
        try {
            admissions.execute(work);
        } catch (RejectedExecutionException e) {
            // a full queue: done here rather than lost, since a slot this instance holds is renewed until released
            work.run();
        }
    }
}
