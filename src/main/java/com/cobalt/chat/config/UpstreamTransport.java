package com.cobalt.chat.config;

import java.nio.file.Path;

/**
 * How the gateway connects to its providers.
 *
 * @param http2            LLM_HTTP2: HTTP/2 to a provider whose TLS endpoint offers it (ALPN), many answers over one
 *                         connection; HTTP/1.1 when the provider offers only that, and always for a plain http:// URL
 * @param http2Connections LLM_HTTP2_CONNECTIONS: HTTP/2 connections per provider host at most, spread over the event
 *                         loops (each loop its own, so an answer stays on its client's loop)
 * @param trustedCaFile    LLM_TRUSTED_CA_FILE: PEM certificates trusted for provider connections besides the JVM's
 *                         own (a private CA, a TLS-inspecting proxy), or null
 */
public record UpstreamTransport(boolean http2, int http2Connections, Path trustedCaFile) {
}
