package com.cobalt.chat.stream;

/** Timings of the relay: idle upstream cut-off, keep-alive comments, and how long a finished upstream may linger. */
public record RelaySettings(long idleTimeoutMs, long keepAliveMs, long drainMs) {

    public static RelaySettings of(com.cobalt.chat.config.GatewaySettings s) {
        return new RelaySettings(s.streamIdleTimeoutMs(), s.keepAliveMs(), 5000);
    }

    long tickMs() {
        return Math.max(20, Math.min(1000, Math.min(idleTimeoutMs, keepAliveMs) / 4));
    }
}
