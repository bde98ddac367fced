package com.cobalt.chat.stream;

/** Timings of the relay: idle upstream cut-off, keep-alive comments, and how long a finished upstream may linger. */
record RelaySettings(long idleTimeoutMs, long keepAliveMs, long drainMs) {

    long tickMs() {
        return Math.max(20, Math.min(1000, Math.min(idleTimeoutMs, keepAliveMs) / 4));
    }
}
