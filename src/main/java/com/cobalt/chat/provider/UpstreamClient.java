package com.cobalt.chat.provider;

import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.LiveStreams;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.RelaySettings;
import com.cobalt.chat.stream.SseRelay;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens one provider's answer. It is the step inside each provider's circuitBreaker: it returns once the provider
 * has produced its first content (the route keeps the {@link RelaySession} in {@link SseRelay#PROPERTY}) and throws
 * {@link ProviderFailure} otherwise, so the breaker and its fallback see every failure that happens before the
 * client has been sent anything. Connect errors, 408 and 5xx are retried with backoff; a 429/503 retry hint puts
 * the provider in cooldown instead. A 400 is recorded as a {@link ProviderRejection}: the caller's fault, not the
 * provider's. The Vert.x client is independent of the exchange's unit of work, so the breaker's exchange copy
 * cannot close the stream (docs/ARCHITECTURE.md, "Streaming").
 */
public class UpstreamClient {

    public static final String CONTEXT_PROPERTY = "cobaltContext";
    /** The exchange variable naming the model as the provider calls it (set by the routes from the catalog). */
    public static final String UPSTREAM_MODEL_VARIABLE = "upstreamModel";
    static final String USER_AGENT = "cobalt-chat-gateway/0.1";

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final GatewaySettings settings;
    private final HttpClient client;
    private final Clock clock;
    private final ProviderHealth health;
    private final RetryPolicy retries;
    private final RelaySettings relaySettings;
    private final LiveStreams live;
    private final BiFunction<String, String, Integer> maxOutputTokens;
    /** Whether a provider's model (by upstream name) writes its reasoning inline between think tags. */
    private volatile java.util.function.BiPredicate<String, String> thinkTags = (provider, upstreamName) -> false;

    public UpstreamClient(Vertx vertx, GatewaySettings settings, Clock clock, ProviderHealth health,
                          LiveStreams live) {
        this(vertx, settings, clock, health, live, (provider, upstreamName) -> null);
    }

    /** @param maxOutputTokens the catalog's output limit of a provider's model (by upstream name), or null */
    public UpstreamClient(Vertx vertx, GatewaySettings settings, Clock clock, ProviderHealth health,
                          LiveStreams live, BiFunction<String, String, Integer> maxOutputTokens) {
        this.maxOutputTokens = maxOutputTokens;
        this.live = live;
        this.vertx = vertx;
        this.settings = settings;
        this.clock = clock;
        this.health = health;
        this.retries = new RetryPolicy(settings.maxRetries(), settings.retryBaseDelayMs(), settings.retryMaxDelayMs(),
                settings.retryBudgetMs());
        this.relaySettings = RelaySettings.of(settings);
        HttpClientOptions options = new HttpClientOptions()
                .setConnectTimeout((int) settings.connectTimeoutMs())
                .setKeepAlive(true)
                .setTryUseCompression(false)
                .setVerifyHost(true);
        this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(settings.maxConnections()));
    }

    /** Which models write their reasoning inside {@code <think>} tags (the catalog's llm.model.<id>.reasoning). */
    public void readThinkTags(java.util.function.BiPredicate<String, String> thinkTags) {
        this.thinkTags = thinkTags;
    }

    /**
     * The step inside each provider route's circuitBreaker, with its inputs named: returns the primed
     * {@link RelaySession}, or the {@link ProviderRejection} of a 400; throws {@link ProviderFailure} otherwise.
     *
     * @param providerId    the provider this route calls
     * @param upstreamModel what that provider calls the model (null: its default model)
     * @param messages      the messages to send, system prompt and history included
     * @param options       max_tokens and the sampling options (null: CHAT_MAX_TOKENS only)
     * @param caller        the client's connection: the request is sent from its event loop
     * @param format        how the answer is relayed (null: the session API's events)
     */
    public UpstreamAnswer open(@Variable("provider") String providerId,
                               @Variable(UPSTREAM_MODEL_VARIABLE) String upstreamModel,
                               @ExchangeProperty(CONTEXT_PROPERTY) List<ContextMessage> messages,
                               @ExchangeProperty(CompletionOptions.PROPERTY) CompletionOptions options,
                               @ExchangeProperty(ClientConnection.PROPERTY) ClientConnection caller,
                               @ExchangeProperty(ClientFormat.PROPERTY) ClientFormat format) throws InterruptedException {
        ProviderSettings provider = settings.provider(providerId);
        ProviderSettings.Target target = provider.target(upstreamModel);
        if (options == null) {
            options = CompletionOptions.maxTokens(settings.maxTokens());
        }
        if (format == null) {
            format = ClientFormat.SESSION;
        }
        Integer modelLimit = maxOutputTokens.apply(providerId, target.upstreamName());
        if (modelLimit != null && modelLimit < options.maxTokens()) {
            options = options.withMaxTokens(modelLimit);
        }
        byte[] body = UpstreamRequestBody.json(provider, target, messages, options);

        long started = System.nanoTime();
        for (int retry = 1; ; retry++) {
            try {
                // returns or throws only once this attempt's request is over: answered, or reset upstream
                return attempt(provider, target, body, caller, format);
            } catch (ProviderFailure failure) {
                health.noteFailure(failure);
                long delay = retries.delayMs(retry, ThreadLocalRandom.current()::nextDouble);
                long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                // a retry whose pause would end past LLM_RETRY_BUDGET_MS is not taken
                if (!failure.retryable() || !retries.allows(retry, elapsedMs, delay) || caller.gone()) {
                    throw failure;
                }
                LOG.info("Provider {} failed ({}); retry {} of {} in {} ms", providerId, failure.errorClass(), retry,
                        retries.maxRetries(), delay);
                // the breaker step holds this worker until the first token anyway; a short pause is no worse
                Thread.sleep(delay);
                if (caller.gone()) {
                    throw failure; // nobody is waiting for the retry's answer
                }
            }
        }
    }

    /**
     * One request to the provider. Its deadlines run on the event loop, from the moment it is sent: the response
     * headers within LLM_RESPONSE_HEADERS_TIMEOUT_MS and the first content within LLM_FIRST_TOKEN_TIMEOUT_MS,
     * whichever ends first, whatever phase the request is in (waiting for a connection, for headers, for an error
     * body, for the first delta); the connect timeout bounds getting a connection. A deadline that fires resets the
     * request before the attempt fails, so the retry or the fallback never runs beside it.
     */
    private UpstreamAnswer attempt(ProviderSettings provider, ProviderSettings.Target target, byte[] body,
                           ClientConnection caller, ClientFormat format) throws InterruptedException {
        String id = provider.id();
        health.noteRequest(id);
        Attempt attempt = new Attempt(provider, target, body, caller, format);
        caller.context().runOnContext(v -> attempt.send());
        try {
            // the event loop's deadlines end the attempt; this wait is only a safety net for a loop that is stuck
            return attempt.answer.get(settings.firstTokenTimeoutMs() + SAFETY_MARGIN_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ProviderFailure pf ? pf : ProviderFailure.connect(id, e.getCause());
        } catch (TimeoutException e) {
            throw attempt.abandon(ProviderFailure.timeout(id, "no first token within "
                    + settings.firstTokenTimeoutMs() + " ms"));
        } catch (InterruptedException e) {
            attempt.abandon(ProviderFailure.timeout(id, "interrupted"));
            throw e;
        }
    }

    /** Extra time the worker waits beyond the first-token deadline before it ends the attempt itself. */
    static final long SAFETY_MARGIN_MS = 1000;

    /** One request in flight; every field is used on the caller's event loop only. */
    private final class Attempt {
        final ProviderSettings provider;
        final ProviderSettings.Target target;
        final byte[] body;
        final ClientConnection caller;
        final ClientFormat format;
        final CompletableFuture<UpstreamAnswer> answer = new CompletableFuture<>();
        /** Completes once the request is over on the event loop (answered, failed, or reset). */
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        HttpClientRequest request;
        long sentNanos;
        long timer = -1;

        Attempt(ProviderSettings provider, ProviderSettings.Target target, byte[] body, ClientConnection caller,
                ClientFormat format) {
            this.provider = provider;
            this.target = target;
            this.body = body;
            this.caller = caller;
            this.format = format;
            answer.whenComplete((a, t) -> closed.complete(null));
        }

        void send() {
            String id = provider.id();
            sentNanos = System.nanoTime();
            long headersMs = settings.responseHeadersTimeoutMs();
            long firstTokenMs = settings.firstTokenTimeoutMs();
            ProviderFailure late = headersMs < firstTokenMs
                    ? ProviderFailure.timeout(id, "no response headers within " + headersMs + " ms")
                    : ProviderFailure.timeout(id, "no first token within " + firstTokenMs + " ms");
            timer = vertx.setTimer(Math.min(headersMs, firstTokenMs), t -> {
                timer = -1;
                fail(late);
            });
            RequestOptions options = new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setAbsoluteURI(target.url())
                    // also bounds the wait for a pooled connection when LLM_MAX_CONNECTIONS are all busy
                    .setConnectTimeout(settings.connectTimeoutMs())
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Accept", "text/event-stream")
                    .putHeader("User-Agent", USER_AGENT);
            if (provider.authenticated()) {
                options.putHeader(provider.authHeader(), provider.authValue());
            }
            client.request(options).onFailure(t -> fail(ProviderFailure.connect(id, t))).onSuccess(request -> {
                if (answer.isDone()) {
                    request.reset(); // its deadline passed while it waited for a connection: never send it
                    return;
                }
                this.request = request;
                request.send(Buffer.buffer(body))
                        .onFailure(t -> fail(ProviderFailure.connect(id, t)))
                        .onSuccess(response -> {
                            if (answer.isDone()) {
                                request.reset();
                                return;
                            }
                            cancelTimer();
                            long firstTokenLeftMs = firstTokenMs - (System.nanoTime() - sentNanos) / 1_000_000;
                            onHeaders(this, response, firstTokenLeftMs);
                        });
            });
        }

        /** The attempt failed: its request is reset (if it is still open) before anyone hears of the failure. */
        void fail(ProviderFailure failure) {
            if (answer.isDone()) {
                return;
            }
            cancelTimer();
            if (request != null) {
                request.reset();
            }
            answer.completeExceptionally(failure);
        }

        void cancelTimer() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }

        /**
         * The worker gives up: the attempt is failed on the event loop (its request reset, or an answer that came
         * meanwhile abandoned), and the worker waits a moment for that to be done.
         */
        ProviderFailure abandon(ProviderFailure failure) {
            caller.context().runOnContext(v -> {
                fail(failure);
                UpstreamAnswer a = answer.getNow(null);
                if (a instanceof RelaySession session) {
                    session.abandon();
                }
            });
            try {
                closed.get(SAFETY_MARGIN_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("Provider {}: the abandoned request was not closed in time", provider.id());
            }
            return failure;
        }
    }

    private void onHeaders(Attempt attempt, HttpClientResponse response, long firstTokenLeftMs) {
        ProviderSettings provider = attempt.provider;
        ProviderSettings.Target target = attempt.target;
        HttpClientRequest request = attempt.request;
        ClientConnection caller = attempt.caller;
        ClientFormat format = attempt.format;
        CompletableFuture<UpstreamAnswer> answer = attempt.answer;
        String id = provider.id();
        int status = response.statusCode();
        String contentType = response.getHeader("Content-Type");
        boolean json = contentType != null && contentType.toLowerCase(Locale.ROOT).contains("json");
        if (status >= 200 && status < 300 && !json) {
            response.pause();
            forward(RelaySession.probe(provider, target, request, response, caller, vertx, relaySettings, live, format,
                    firstTokenLeftMs, thinkTags.test(id, target.upstreamName())),
                    answer);
            return;
        }
        // an error body (or a whole JSON answer) is read within what is left of the first-token time
        long readMs = Math.max(1, Math.min(settings.responseHeadersTimeoutMs(), firstTokenLeftMs));
        readBounded(response, request, readMs).onComplete(read -> {
            if (read.failed()) {
                attempt.fail(read.cause() instanceof TimeoutException
                        ? ProviderFailure.timeout(id, "no first token within " + settings.firstTokenTimeoutMs()
                                + " ms (the answer's body was not read in time)")
                        : ProviderFailure.connect(id, read.cause()));
                return;
            }
            JsonNode doc = parse(read.result());
            if (status >= 200 && status < 300) {
                // a JSON body although stream:true was asked: an error, or a whole completion to replay
                Buffer replay = doc == null || doc.has("error") ? null : asSse(doc);
                if (replay == null) {
                    answer.completeExceptionally(ProviderFailure.badResponse(id, "JSON error body in a 2xx answer"));
                } else {
                    forward(RelaySession.replay(provider, target, replay, caller, vertx, relaySettings, live, format,
                            thinkTags.test(id, target.upstreamName())),
                            answer);
                }
            } else if (status == 400) {
                answer.complete(new ProviderRejection(id, isContentFilter(doc)));
            } else {
                answer.completeExceptionally(ProviderFailure.status(id, status,
                        RetryAfter.seconds(response.headers(), clock, settings.maxCooldownSeconds())));
            }
        });
    }

    private static void forward(RelaySession session, CompletableFuture<UpstreamAnswer> answer) {
        session.primed().whenComplete((primed, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else {
                answer.complete(primed);
            }
        });
    }

    private Future<Buffer> readBounded(HttpClientResponse response, HttpClientRequest request, long timeoutMs) {
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer();
        response.handler(chunk -> {
            if (body.length() + chunk.length() > settings.errorBodyMaxBytes()) {
                request.reset();
                promise.tryComplete(body);
            } else {
                body.appendBuffer(chunk);
            }
        });
        response.exceptionHandler(promise::tryFail);
        response.endHandler(v -> promise.tryComplete(body));
        long timer = vertx.setTimer(timeoutMs, t -> {
            request.reset();
            promise.tryFail(new TimeoutException("error body"));
        });
        return promise.future().onComplete(r -> vertx.cancelTimer(timer));
    }

    private static JsonNode parse(Buffer body) {
        try {
            return JSON.readTree(body.getBytes());
        } catch (Exception e) {
            return null;
        }
    }

    static boolean isContentFilter(JsonNode doc) {
        if (doc == null) {
            return false;
        }
        JsonNode error = doc.path("error");
        return "content_filter".equals(error.path("code").asText())
                || "ResponsibleAIPolicyViolation".equals(error.path("innererror").path("code").asText());
    }

    /** A whole chat.completion re-framed as one SSE chunk plus [DONE], so the relay has a single path. */
    private static Buffer asSse(JsonNode completion) {
        if (!completion.has("choices")) {
            return null;
        }
        return Buffer.buffer("data: " + completion + "\n\ndata: [DONE]\n\n");
    }

    /**
     * The periodic health probe: the smallest real request (one user word, max_tokens 1, no stream). It costs a
     * few tokens, which is why it is off unless LLM_HEALTH_PROBE_SECONDS is set. It goes around the breaker and
     * does not count in the provider's requests.
     */
    public void probe(String providerId) {
        ProviderSettings provider = settings.provider(providerId);
        String body = "{" + (provider.model() == null ? "" : "\"model\":" + quote(provider.model()) + ",")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}],\"max_tokens\":1,\"stream\":false}";
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(provider.url())
                .setTimeout(settings.responseHeadersTimeoutMs())
                .putHeader("Content-Type", "application/json")
                .putHeader("User-Agent", USER_AGENT);
        if (provider.authenticated()) {
            options.putHeader(provider.authHeader(), provider.authValue());
        }
        client.request(options)
                .compose(request -> request.send(body))
                .compose(response -> response.body().map(b -> response.statusCode()))
                .onComplete(result -> {
                    boolean ok = result.succeeded() && result.result() >= 200 && result.result() < 300;
                    health.noteProbe(providerId, ok);
                    if (!ok) {
                        LOG.warn("Health probe of {} failed: {}", providerId, result.succeeded()
                                ? "HTTP " + result.result() : result.cause().getClass().getSimpleName());
                    }
                });
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public void close() {
        client.close();
    }
}
