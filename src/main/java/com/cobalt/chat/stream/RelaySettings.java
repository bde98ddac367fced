package com.cobalt.chat.stream;

/**
 * Limits of the relay: idle upstream cut-off, keep-alive comments, how long a finished upstream may linger, and the
 * most answer text (UTF-8 bytes) one answer may carry.
 */
public record RelaySettings(long idleTimeoutMs, long keepAliveMs, long drainMs, long maxAnswerBytes) {

    public static RelaySettings of(com.cobalt.chat.config.GatewaySettings s) {
        return new RelaySettings(s.streamIdleTimeoutMs(), s.keepAliveMs(), 5000, s.maxAnswerBytes());
    }

    long tickMs() {
        return Math.max(20, Math.min(1000, Math.min(idleTimeoutMs, keepAliveMs) / 4));
    }
}
