package com.cobalt.chat.limit;

import com.cobalt.chat.http.ClientConnection;
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

    private final LimitLedger ledger;

    public UserLimits(LimitLedger ledger) {
        this.ledger = ledger;
    }

    public void admit(Exchange exchange, @Variable("user") String user) {
        LimitLedger.Admission admission = ledger.admit(user);
        ClientConnection client = exchange.getProperty(ClientConnection.PROPERTY, ClientConnection.class);
        if (client != null) {
            // the SSE relay writes the response head itself, so the headers go on the response, not the message
            admission.headers().forEach((name, value) -> client.response().putHeader(name, value));
        }
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
            } else {
                ledger.release(slot);
            }
        }
    }
}
