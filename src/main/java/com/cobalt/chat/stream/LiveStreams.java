package com.cobalt.chat.stream;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The answers being relayed right now, so a shutdown can end the ones still running when its grace is over. */
public final class LiveStreams {

    private final Set<RelaySession> sessions = ConcurrentHashMap.newKeySet();

    void add(RelaySession session) {
        sessions.add(session);
    }

    void remove(RelaySession session) {
        sessions.remove(session);
    }

    public int count() {
        return sessions.size();
    }

    /** Ends every live stream with an error event; each partial answer is then stored as interrupted. */
    public void endAll() {
        sessions.forEach(RelaySession::shutDown);
    }
}
