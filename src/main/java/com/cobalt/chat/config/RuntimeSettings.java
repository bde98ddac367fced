package com.cobalt.chat.config;

/**
 * The validated settings of the gateway's own machinery: HTTP server, worker pool, database pool, background
 * checks, shutdown and the demo simulator.
 *
 * @param httpPort               chat API port (http.port)
 * @param managementPort         health and metrics port (management.port)
 * @param maxBodyBytes           largest request body (http.max-body-bytes, read by Camel's server)
 * @param h2cEnabled             cleartext HTTP/2 on the chat port (http.h2c-enabled)
 * @param eventLoops             event loops serving the chat API and its provider calls (http.event-loops; default
 *                               the number of cores)
 * @param workerPoolSize         route workers (http.worker-pool-size)
 * @param workerKeepAliveSeconds how long an idle route worker lives (http.worker-keep-alive-seconds)
 * @param chatQueueSize          chats waiting for a route worker before 503 overloaded (http.chat-queue-size)
 * @param apiPoolSize            workers of the other API requests (http.api-pool-size)
 * @param apiQueueSize           their queue before 503 overloaded (http.api-queue-size)
 * @param dbPoolSize             database connections (chat.db.pool-size)
 * @param dbConnectionTimeoutMs  how long a request waits for a database connection before 503 database_unavailable
 *                               (chat.db.connection-timeout-ms)
 * @param historyCacheMb         memory for the recent history of the sessions chatted in lately, 0 = none
 *                               (chat.history-cache-mb)
 * @param recordThreads          threads that store answers (chat.record-threads, read by chat-record's pool)
 * @param streamLeaseSeconds     a stream slot's lease in a shared database (chat.stream-lease-seconds)
 * @param shutdownGraceSeconds   time streams get to finish on SIGTERM (chat.shutdown-grace-seconds), 0 or more
 * @param healthProbeSeconds     period of the provider health probe, 0 = off (llm.health-probe-seconds)
 * @param catalogCheckEnabled    capability detection on (llm.catalog-check.enabled)
 * @param catalogCheckAzure      capability detection asks Azure deployments too (llm.catalog-check.azure)
 * @param catalogCheckSeconds    period of the catalog check, 0 = only at start (llm.catalog-check-seconds)
 * @param demoTokenDelayMs       the demo simulator's pause between tokens (demo.token-delay-ms)
 * @param openAiMaxBodyBytes     largest body of POST /v1/chat/completions (openai.max-body-bytes): its own limit,
 *                               large enough for image data URLs, while every other route keeps maxBodyBytes
 * @param requestTimeoutSeconds  a request's headers within it of their first byte, its body with no longer pause
 *                               (http.request-timeout-seconds), else 408 request_timeout
 * @param idleConnectionTimeoutSeconds a chat API connection with no request in progress and nothing being answered
 *                               closes after it (http.idle-connection-timeout-seconds)
 */
public record RuntimeSettings(int httpPort, int managementPort, int maxBodyBytes, boolean h2cEnabled, int eventLoops,
                              int workerPoolSize, int workerKeepAliveSeconds, int chatQueueSize, int apiPoolSize,
                              int apiQueueSize, int dbPoolSize, int dbConnectionTimeoutMs, int historyCacheMb,
                              int recordThreads,
                              int streamLeaseSeconds, int shutdownGraceSeconds, int healthProbeSeconds,
                              boolean catalogCheckEnabled, boolean catalogCheckAzure, int catalogCheckSeconds,
                              int demoTokenDelayMs, int openAiMaxBodyBytes, int requestTimeoutSeconds,
                              int idleConnectionTimeoutSeconds) {
}
