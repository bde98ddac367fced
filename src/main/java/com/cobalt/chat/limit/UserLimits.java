package com.cobalt.chat.limit;

import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.store.ChatStore;
import com.cobalt.chat.store.SessionContext;
import org.apache.camel.Exchange;
import org.apache.camel.Variable;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * The limits as steps of the chat routes: {@code admit} before anything is stored or sent to a provider (429 with
 * Retry-After when a limit is reached), {@code release} once the answer is stored, before the client sees the end
 * of the stream, so a client that sends its next message right away finds its slot free again.
 */
public class UserLimits {

    /** The exchange variable holding the admitted message's stream slot until it is released. */
    public static final String SLOT = "streamSlot";

    /** The slot the answer's statement is to free with it (set by {@link #slotToFreeWithAnswer}), for the recorder. */
    public static final String TO_FREE_WITH_ANSWER = "slotToFree";
    /** The slot the answer's statement freed (set by the recorder): {@link #release} then has no write left to do. */
    public static final String FREED_WITH_ANSWER = "freedSlot";

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UserLimits.class);

    private final LimitLedger ledger;
    /** Confirms a session context taken from memory in the admission's own statement; null where none is. */
    private final ChatStore sessions;
    /** Where a release that would run on an event loop goes instead (a write to the shared ledger is JDBC). */
    private final java.util.concurrent.Executor offEventLoop;

    public UserLimits(LimitLedger ledger) {
        this(ledger, null, Runnable::run);
    }

    public UserLimits(LimitLedger ledger, ChatStore sessions, java.util.concurrent.Executor offEventLoop) {
        this.ledger = ledger;
        this.sessions = sessions;
        this.offEventLoop = offEventLoop;
    }

    public void admit(Exchange exchange, @Variable("user") String user) {
        admitted(exchange, ledger.admit(user));
    }

    /**
     * A session chat's admission, which returns the session's context: as it was when the context was read from the
     * database, or - for a context taken from this instance's memory ({@link SessionContext#confirmed()} false: the
     * shared limits on PostgreSQL) - confirmed by the admission's own statement, which admits only a session still
     * the caller's (404 otherwise, nothing counted) and reads what changed in it.
     */
    public SessionContext admitToSession(Exchange exchange, @Variable("user") String user,
                                         @Variable("sessionContext") SessionContext context) {
        if (context.confirmed()) {
            admit(exchange, user);
            return context;
        }
        ChatStore.AdmittedContext confirmed = ledger.admitWithin(user, call -> sessions.confirmedBy(context, call));
        admitted(exchange, confirmed.admission());
        return confirmed.context();
    }

    private void admitted(Exchange exchange, LimitLedger.Admission admission) {
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (client != null) {
            // the SSE relay writes the response head itself, so the headers go on the response, not the message
            admission.headers().forEach((name, value) -> client.response().putHeader(name, value));
        }
        exchange.setVariable(SLOT, admission.slot());
        // the routes release the slot on every path they know; this catches a path they don't - such as a stream
        // ended at shutdown, after the chat-record route stopped, whose exchange completes on the relay's event
        // loop: there the release (JDBC on the shared ledger) blocked the loop for as long as the database did not
        // answer (black-box probe: 5 s and more, with a stop past its bound)
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                if (exchange.getVariable(SLOT) == null) {
                    return;
                }
                if (!io.vertx.core.Context.isOnEventLoopThread()) {
                    release(exchange);
                    return;
                }
                try {
                    offEventLoop.execute(() -> release(exchange));
                } catch (java.util.concurrent.RejectedExecutionException full) {
                    // the slot's lease frees it (CHAT_STREAM_LEASE_SECONDS); the event loop never waits on JDBC
                    LOG.warn("A stream slot is left to its lease: the release could not be queued off the event loop");
                }
            }
        });
    }

    /**
     * The slot the chat's last write is to free in its own statement, where the ledger keeps its slots in the chat
     * database (the shared limits on PostgreSQL); null elsewhere, and {@link #release} frees it as before.
     */
    public String slotToFreeWithAnswer(@Variable(SLOT) String slot) {
        return ledger.slotsInChatDatabase() ? slot : null;
    }

    public void release(Exchange exchange) {
        String slot = exchange.getVariable(SLOT, String.class);
        if (slot != null) {
            exchange.removeVariable(SLOT);
            if (slot.equals(exchange.getVariable(FREED_WITH_ANSWER, String.class))) {
                ledger.freedWithAnswer(slot);
                return;
            }
            try {
                ledger.release(slot);
            } catch (ChatStore.StorageException e) {
                // the request's answer is what it is: a slot the database cannot free now is freed by the next
                // maintenance that reaches it (or its lease), not turned into an error after a complete answer -
                // which ended a /v1 stream without [DONE] and made a whole answer a 503 the SDKs send again
                LOG.warn("A stream slot is freed later: the database is unavailable ({})",
                        e.getCause() == null ? e.getClass().getSimpleName() : e.getCause().getClass().getSimpleName());
            }
        }
    }
}
