package com.cobalt.chat.provider;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.config.UpstreamTransport;
import com.cobalt.chat.credential.AuthHeader;
import com.cobalt.chat.credential.CredentialUnavailableException;
import com.cobalt.chat.credential.ProviderCredential;
import com.cobalt.chat.credential.ProviderCredentials;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.trace.ChatTrace;
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
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.TrustOptions;
import io.netty.channel.EventLoop;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens one provider's answer. It is the call inside each provider route's breaker: its answer completes once the
 * provider has produced its first output (the route keeps the {@link RelaySession} in {@link SseRelay#PROPERTY}) and
 * fails with {@link ProviderFailure} otherwise, so the breaker and the fallback see every failure that happens before
 * the client has been sent anything. Connect errors, 408 and 5xx are retried with backoff; a 429/503 retry hint puts
 * the provider in cooldown instead. A 400, 413 or 422 is recorded as a {@link ProviderRejection}: the caller's fault, not the
 * provider's. The Vert.x client is independent of the exchange's unit of work, so nothing Camel completes can close
 * the stream (docs/ARCHITECTURE.md, "Streaming").
 */
public class UpstreamClient {

    public static final String MESSAGES_VARIABLE = "upstreamMessages";
    /** The exchange variable naming the model as the provider calls it (set by the routes from the catalog). */
    public static final String UPSTREAM_MODEL_VARIABLE = "upstreamModel";
    static final String USER_AGENT = "cobalt-chat-gateway/0.1";
    // the headers of every provider request and response, as Netty's ASCII strings: hashed and encoded once, not on
    // every request (HttpHeaders.createOptimized)
    private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence ACCEPT = HttpHeaders.createOptimized("Accept");
    private static final CharSequence USER_AGENT_HEADER = HttpHeaders.createOptimized("User-Agent");
    private static final CharSequence JSON_TYPE = HttpHeaders.createOptimized("application/json");
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");
    private static final CharSequence USER_AGENT_VALUE = HttpHeaders.createOptimized(USER_AGENT);
    private static final CharSequence REMAINING_REQUESTS = HttpHeaders.createOptimized("x-ratelimit-remaining-requests");
    private static final CharSequence REMAINING_TOKENS = HttpHeaders.createOptimized("x-ratelimit-remaining-tokens");

    static final int HTTP2_CONNECTION_WINDOW = 16 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final GatewaySettings settings;
    /** Plain http:// providers, and every provider when LLM_HTTP2 is off. */
    private final HttpClient client;
    /** https:// providers with HTTP/2 on: one client per event loop, made at its first request. */
    private final Map<EventLoop, HttpClient> perLoop = new ConcurrentHashMap<>();
    private final HttpClientOptions tlsOptions;
    private final PoolOptions tlsPool;
    private final Clock clock;
    private final ProviderHealth health;
    private final RetryPolicy retries;
    private final RelaySettings relaySettings;
    private final LiveStreams live;
    /**
     * The longest a new connection can take to be ready, plain and over TLS: LLM_CONNECT_TIMEOUT_MS for TCP, and the
     * TLS handshake's own timeout on top. A chat still without a connection after longer than that waited in a full
     * pool (see {@link Attempt#send}).
     */
    private final long plainConnectMs;
    private final long tlsConnectMs;
    /** Each provider's full pool is logged at most once a minute, not once per waiting chat. */
    private final LogOncePerMinute fullPoolLog = new LogOncePerMinute();
    /** The calls whose provider has not answered yet (no first output, no failure). */
    private final Set<Call> pending = ConcurrentHashMap.newKeySet();
    private final BiFunction<String, String, CatalogModel> catalogEntry;
    private final ProviderCredentials credentials;
    /** Whether a provider's model (by upstream name) writes its reasoning inline between think tags. */
    private volatile java.util.function.BiPredicate<String, String> thinkTags = (provider, upstreamName) -> false;

    /**
     * @param catalogEntry    the catalog's entry of a provider's model (by upstream name: its output limit and the
     *                        field that carries it), or null
     * @param credentials     each provider's key or token, asked for every request
     * @param trust           the certificates a provider's TLS endpoint may present
     */
    public UpstreamClient(Vertx vertx, GatewaySettings settings, Clock clock, ProviderHealth health,
                          LiveStreams live, BiFunction<String, String, CatalogModel> catalogEntry,
                          ProviderCredentials credentials, ProviderTrust trust) {
        this.catalogEntry = catalogEntry;
        this.credentials = credentials;
        this.live = live;
        this.vertx = vertx;
        this.settings = settings;
        this.clock = clock;
        this.health = health;
        this.retries = new RetryPolicy(settings.maxRetries(), settings.retryBaseDelayMs(), settings.retryMaxDelayMs(),
                settings.retryBudgetMs());
        this.relaySettings = RelaySettings.of(settings);
        UpstreamTransport transport = settings.transport();
        TrustOptions trustOptions = trust.vertx();
        HttpClientOptions options = new HttpClientOptions()
                .setConnectTimeout((int) settings.connectTimeoutMs())
                .setKeepAlive(true)
                .setTryUseCompression(false)
                .setVerifyHost(true)
                .setTrustOptions(trustOptions);
        this.client = withQuietConnections(vertx, options,
                new PoolOptions().setHttp1MaxSize(settings.maxConnections()));
        this.plainConnectMs = settings.connectTimeoutMs();
        this.tlsConnectMs = settings.connectTimeoutMs()
                + options.getSslHandshakeTimeoutUnit().toMillis(options.getSslHandshakeTimeout());
        if (transport.http2()) {
            int loops = Math.max(1, settings.runtime().eventLoops());
            this.tlsOptions = new HttpClientOptions(options)
                    .setProtocolVersion(HttpVersion.HTTP_2)
                    .setUseAlpn(true) // offers h2 and http/1.1; the provider picks
                    // a paused answer (a slow client) holds at most its stream's window, never the others' on the
                    // connection: room for every stream a provider allows at once (100-250 typically) at 64 KiB each
                    .setHttp2ConnectionWindowSize(HTTP2_CONNECTION_WINDOW);
            this.tlsPool = new PoolOptions()
                    .setHttp2MaxSize(Math.max(1, ceilDiv(transport.http2Connections(), loops)))
                    .setHttp1MaxSize(Math.max(1, ceilDiv(settings.maxConnections(), loops)));
        } else {
            this.tlsOptions = null;
            this.tlsPool = null;
        }
    }

    private static boolean isHttps(String url) {
        return url.regionMatches(true, 0, "https:", 0, 6);
    }

    /** One WARN a minute per provider while chats find its pool full, not one per chat of a burst. */
    private void logFullPool(String provider, long waitedMs) {
        if (fullPoolLog.heldBackOrMinusOne(provider) >= 0) {
            LOG.warn("Provider {}: a chat waited {} ms and found every connection to it in use (LLM_MAX_CONNECTIONS={});"
                    + " such chats go to the fallback and are not counted by its breaker (logged at most once a"
                    + " minute)", provider, waitedMs, settings.maxConnections());
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * The client a request from {@code caller}'s event loop goes out with. Plain http:// (and every URL with
     * LLM_HTTP2=false): the one shared HTTP/1.1 client. https:// with HTTP/2 on: that event loop's own client, so its
     * multiplexed connections live on the loop of the answers they carry and no frame crosses to another thread.
     */
    private HttpClient clientFor(String url, Context caller) {
        if (tlsOptions == null || caller == null || !isHttps(url)) {
            return client;
        }
        EventLoop loop = ((ContextInternal) caller).nettyEventLoop();
        return perLoop.computeIfAbsent(loop, l -> withQuietConnections(vertx, tlsOptions, tlsPool));
    }

    /**
     * A client whose connections hand their failures to the requests on them only. Without a handler of its own, a
     * connection logs every failure at ERROR (Vert.x's ConnectionBase): a provider resetting a stream, a broken
     * chunk, a TLS close - routine faults the request already reports and the breaker counts - fired ERROR-based
     * alerts (black-box probe). They are at DEBUG here.
     */
    private static HttpClient withQuietConnections(Vertx vertx, HttpClientOptions options, PoolOptions pool) {
        return vertx.httpClientBuilder().with(options).with(pool)
                .withConnectHandler(connection -> connection.exceptionHandler(e -> LOG.debug(
                        "Provider connection to {} failed: {}", connection.remoteAddress(), e.getClass().getSimpleName())))
                .build();
    }

    /** Which models write their reasoning inside {@code <think>} tags (the catalog's llm.model.<id>.reasoning). */
    public void readThinkTags(java.util.function.BiPredicate<String, String> thinkTags) {
        this.thinkTags = thinkTags;
    }

    /**
     * The call inside each provider route's breaker, with its inputs named. It returns at once: the answer completes
     * on the caller's event loop with the primed {@link RelaySession}, or the {@link ProviderRejection} of a 400, or
     * fails with {@link ProviderFailure}. No thread waits for the provider meanwhile (the bean step that calls this
     * continues the route when the stage completes); retries wait on an event-loop timer.
     *
     * @param providerId    the provider this route calls
     * @param upstreamModel what that provider calls the model (null: its default model)
     * @param messages      the messages to send, system prompt and history included
     * @param options       max_tokens and the sampling options (null: CHAT_MAX_TOKENS only)
     * @param caller        the client's connection: the request is sent from its event loop
     * @param format        how the answer is relayed (null: the session API's events)
     * @param model         the catalog id of the model asked for (traces, and the answer's {@code X-Cobalt-Model})
     * @param trace         the chat's trace, null when tracing is off: this call is its provider attempt
     */
    public CompletableFuture<UpstreamAnswer> open(@Variable("provider") String providerId,
                               @Variable(UPSTREAM_MODEL_VARIABLE) String upstreamModel,
                               @Variable(MESSAGES_VARIABLE) List<ContextMessage> messages,
                               @Variable(CompletionOptions.VARIABLE) CompletionOptions options,
                               @ExchangeProperty(ClientConnection.PROPERTY) ClientConnection caller,
                               @Variable(ClientFormat.VARIABLE) ClientFormat format,
                               @Variable("model") String model,
                               @ExchangeProperty(ChatTrace.PROPERTY) ChatTrace trace) {
        ProviderSettings provider = settings.provider(providerId);
        ProviderSettings.Target target = provider.target(upstreamModel);
        if (trace != null) {
            trace.attemptStarted(providerId, model, target.upstreamName(), target.url());
        }
        if (options == null) {
            options = CompletionOptions.maxTokens(settings.maxTokens());
        }
        if (format == null) {
            format = ClientFormat.SESSION;
        }
        CatalogModel entry = catalogEntry.apply(providerId, target.upstreamName());
        if (entry != null && entry.maxOutputTokens() != null && entry.maxOutputTokens() < options.maxTokens()) {
            options = options.withMaxTokens(entry.maxOutputTokens());
        }
        byte[] body = UpstreamRequestBody.json(provider, target, messages, options,
                entry == null ? CatalogModel.MAX_TOKENS : entry.tokenLimit());
        Call call = new Call(provider, target, model == null ? target.upstreamName() : model, body, caller, format);
        call.trace = trace;
        pending.add(call);
        call.answer.whenComplete((answered, t) -> pending.remove(call));
        caller.context().runOnContext(v -> call.attempt(1));
        return call.answer;
    }

    /**
     * The shutdown grace is over: every chat still waiting for its provider's first output (nothing of it sent) has its
     * request reset and ends with 503 shutting_down ({@link ShuttingDown}) - not left to the end of the stop, when
     * its connection would close without any response. Returns how many there were.
     */
    public int shutDownPending() {
        int n = 0;
        for (Call call : pending) {
            n++;
            call.caller.context().runOnContext(v -> call.shutDown());
        }
        return n;
    }

    /**
     * One chat's calls of a provider: its attempts, one after another on the caller's event loop. Connect errors,
     * 408 and 5xx are retried after a backoff pause (an event-loop timer) while LLM_RETRY_BUDGET_MS allows and the
     * client is still there; the last failure fails the call.
     */
    private final class Call {
        final ProviderSettings provider;
        final ProviderSettings.Target target;
        /** The catalog id of the model asked for. */
        final String model;
        final byte[] body;
        final ClientConnection caller;
        final ClientFormat format;
        final CompletableFuture<UpstreamAnswer> answer = new CompletableFuture<>();
        final long started = System.nanoTime();
        ChatTrace trace;
        final ProviderCredential credential;
        /** The header the last attempt carried, and whether a 401 already had its one renewal. */
        AuthHeader auth;
        boolean renewed;
        /** The attempt in flight, if any (the caller's event loop only). */
        Attempt current;

        Call(ProviderSettings provider, ProviderSettings.Target target, String model, byte[] body,
             ClientConnection caller, ClientFormat format) {
            this.provider = provider;
            this.target = target;
            this.model = model;
            this.body = body;
            this.caller = caller;
            this.format = format;
            this.credential = credentials.of(provider.id());
        }

        /**
         * The attempt, with the credential's header now. A header at hand (a key, a kept token) is taken on the event
         * loop; only a token still to be fetched (the process's first) is fetched on a worker, and the attempt goes
         * on back on the caller's event loop. No header at all is a provider failure (kind identity).
         */
        void shutDown() {
            UpstreamClient.this.shutDown(this);
        }

        void attempt(int retry) {
            if (answer.isDone()) {
                return; // shut down meanwhile
            }
            if (credential.ready()) {
                AuthHeader header;
                try {
                    header = credential.header();
                } catch (CredentialUnavailableException e) {
                    failed(retry, ProviderFailure.identity(provider.id(), e.getMessage()));
                    return;
                }
                send(retry, header);
                return;
            }
            // the wait for the token counts toward the first token: an identity endpoint that hangs fails this
            // provider in LLM_FIRST_TOKEN_TIMEOUT_MS, and the fallback answers
            AtomicBoolean settled = new AtomicBoolean();
            long timer = vertx.setTimer(settings.firstTokenTimeoutMs(), t -> {
                if (settled.compareAndSet(false, true)) {
                    failed(retry, ProviderFailure.identity(provider.id(), "no Entra ID token within "
                            + settings.firstTokenTimeoutMs() + " ms"));
                }
            });
            vertx.executeBlocking(credential::header, false).onComplete(header -> {
                if (!settled.compareAndSet(false, true)) {
                    return; // the wait ran out: the request has gone on without this provider
                }
                vertx.cancelTimer(timer);
                if (header.failed()) {
                    Throwable t = header.cause();
                    failed(retry, ProviderFailure.identity(provider.id(), t instanceof CredentialUnavailableException
                            ? t.getMessage() : "no credential (" + t.getClass().getSimpleName() + ")"));
                } else {
                    caller.context().runOnContext(v -> send(retry, header.result()));
                }
            });
        }

        void send(int retry, AuthHeader header) {
            if (answer.isDone()) {
                return; // shut down while its credential was fetched
            }
            auth = header;
            health.noteRequest(provider.id());
            Attempt attempt = new Attempt(provider, target, model, body, header, caller, format);
            current = attempt;
            attempt.trace = trace;
            attempt.answer.whenComplete((answered, t) -> {
                if (t == null) {
                    // a rejection names the provider's code and param to the caller: never the key this request sent
                    answer.complete(answered instanceof ProviderRejection r ? r.withoutCredential(header.value())
                            : answered);
                } else {
                    failed(retry, t instanceof ProviderFailure pf ? pf : ProviderFailure.connect(provider.id(), t));
                }
            });
            attempt.send();
        }

        void failed(int retry, ProviderFailure failure) {
            if (!failure.busy()) {
                health.noteFailure(failure, target.upstreamName()); // a full pool is no failure of the provider's
            }
            if (failure.status() == 401 && auth != null && !renewed && !caller.gone()) {
                // a rotated key or a revoked token: one fresh credential (fetched on a worker), one more try, not
                // counted as a retry
                renewed = true;
                AuthHeader rejected = auth;
                vertx.executeBlocking(() -> credential.renew(rejected), false).onComplete(renewal -> {
                    if (renewal.succeeded() && renewal.result() && !caller.gone()) {
                        LOG.info("Provider {} answered 401; trying once more with a renewed {}", provider.id(),
                                credential.mode());
                        caller.context().runOnContext(v -> attempt(retry));
                    } else {
                        caller.context().runOnContext(v -> retryOrFail(retry, failure));
                    }
                });
                return;
            }
            retryOrFail(retry, failure);
        }

        void retryOrFail(int retry, ProviderFailure failure) {
            long delay = retries.delayMs(retry, ThreadLocalRandom.current()::nextDouble);
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            // a retry whose pause would end past LLM_RETRY_BUDGET_MS is not taken
            if (!failure.retryable() || !retries.allows(retry, elapsedMs, delay) || caller.gone()) {
                answer.completeExceptionally(failure);
                return;
            }
            LOG.info("Provider {} failed ({}); retry {} of {} in {} ms", provider.id(), failure.errorClass(), retry,
                    retries.maxRetries(), delay);
            caller.context().runOnContext(v -> vertx.setTimer(Math.max(1, delay), t -> {
                if (answer.isDone()) {
                    return; // shut down during the pause
                }
                if (caller.gone()) {
                    answer.completeExceptionally(failure); // nobody is waiting for the retry's answer
                } else {
                    attempt(retry + 1);
                }
            }));
        }
    }

    /**
     * On the caller's event loop, once the shutdown grace is over: the attempt in flight ends (its request reset; its
     * answer never completes, so it is no failure of the provider's) and the call fails with {@link ShuttingDown}.
     */
    private void shutDown(Call call) {
        if (call.answer.isDone()) {
            return;
        }
        if (call.current != null) {
            call.current.end();
        }
        call.answer.completeExceptionally(new ShuttingDown());
    }

    /** One request in flight; every field is used on the caller's event loop only. */
    private final class Attempt {
        final ProviderSettings provider;
        final ProviderSettings.Target target;
        final String model;
        final byte[] body;
        final AuthHeader auth;
        final ClientConnection caller;
        final ClientFormat format;
        final CompletableFuture<UpstreamAnswer> answer = new CompletableFuture<>();
        HttpClientRequest request;
        ChatTrace trace;
        long sentNanos;
        long timer = -1;
        boolean failed;

        Attempt(ProviderSettings provider, ProviderSettings.Target target, String model, byte[] body, AuthHeader auth,
                ClientConnection caller, ClientFormat format) {
            this.provider = provider;
            this.target = target;
            this.model = model;
            this.body = body;
            this.auth = auth;
            this.caller = caller;
            this.format = format;
        }

        void send() {
            String id = provider.id();
            sentNanos = System.nanoTime();
            long headersMs = settings.responseHeadersTimeoutMs();
            long firstTokenMs = settings.firstTokenTimeoutMs();
            ProviderFailure late = headersMs < firstTokenMs
                    ? ProviderFailure.timeout(id, "no response headers within " + headersMs + " ms")
                    : ProviderFailure.timeout(id, "no first token within " + firstTokenMs + " ms");
            long waitMs = Math.min(headersMs, firstTokenMs);
            // no connection yet when the wait is over, and the wait is longer than a new connection can take (TCP
            // connect, then TLS): the chat waited in a full pool - the gateway's limit, which the breaker must not
            // count against a healthy provider. With a wait shorter than that it cannot be told from a slow connect.
            boolean fullPoolKnowable = waitMs > (isHttps(target.url()) ? tlsConnectMs : plainConnectMs);
            timer = vertx.setTimer(waitMs, t -> {
                timer = -1;
                if (request == null && fullPoolKnowable) {
                    logFullPool(id, waitMs);
                    fail(ProviderFailure.busy(id, waitMs));
                } else {
                    fail(late);
                }
            });
            // a client who leaves before the provider answers cancels the request at once (the relay watches from
            // the answer's first bytes on): no provider time spent for nobody, the user's stream slot freed now
            if (caller.gone()) {
                clientLeft();
                return;
            }
            caller.response().closeHandler(v -> clientLeft());
            RequestOptions options = new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setAbsoluteURI(target.url())
                    // the wait for a pooled connection when every one carries an answer: the attempt's own wait
                    // (the timer above ends the attempt; this takes the request out of the pool's queue just after).
                    // A new connection's TCP connect is bounded by LLM_CONNECT_TIMEOUT_MS (the client's options)
                    .setConnectTimeout(waitMs + 1)
                    .putHeader(CONTENT_TYPE, JSON_TYPE)
                    .putHeader(ACCEPT, EVENT_STREAM)
                    .putHeader(USER_AGENT_HEADER, USER_AGENT_VALUE);
            if (auth != null) {
                options.putHeader(auth.name(), auth.value());
            }
            if (trace != null) {
                trace.propagate(options::putHeader); // W3C traceparent: the provider's spans join the chat's trace
            }
            HttpClient http = clientFor(target.url(), caller.context());
            http.request(options).onFailure(t -> fail(ProviderFailure.connect(id, t))).onSuccess(request -> {
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

        /**
         * The attempt failed: its request is reset (if it is still open) before anyone hears of the failure. The
         * first failure is the one reported: the reset fails the request's send at once, and that is not news.
         */
        void fail(ProviderFailure failure) {
            if (end()) {
                answer.completeExceptionally(failure);
            }
        }

        /** The client went away before the provider answered: the request is reset, the answer is a cancelled one. */
        void clientLeft() {
            if (end()) {
                answer.complete(RelaySession.clientLeft(provider, target, model, caller, vertx, relaySettings, live, format));
            }
        }

        /** Ends the attempt once: its timer off, its request (if open) reset; false when it had ended already. */
        private boolean end() {
            if (answer.isDone() || failed) {
                return false;
            }
            failed = true;
            cancelTimer();
            if (request != null) {
                request.reset();
            }
            return true;
        }

        void cancelTimer() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
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
        health.noteRateLimits(id, target.upstreamName(), headerNumber(response, REMAINING_REQUESTS),
                headerNumber(response, REMAINING_TOKENS));
        String contentType = response.getHeader(CONTENT_TYPE);
        boolean json = contentType != null && contentType.toLowerCase(Locale.ROOT).contains("json");
        if (status >= 200 && status < 300 && !json) {
            response.pause();
            forward(RelaySession.probe(provider, target, attempt.model, request, response, caller, vertx, relaySettings, live, format,
                    firstTokenLeftMs, thinkTags.test(id, target.upstreamName())),
                    answer);
            return;
        }
        // an error body (or a whole JSON answer) is read within what is left of the first-token time
        long readMs = Math.max(1, Math.min(settings.responseHeadersTimeoutMs(), firstTokenLeftMs));
        long maxBytes = status >= 200 && status < 300 ? wholeAnswerMaxBytes() : settings.errorBodyMaxBytes();
        readBounded(response, request, readMs, maxBytes).onComplete(read -> {
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
                if (doc != null && doc.path("error").isObject() && ProviderRejection.isRequestError(
                        doc.path("error").path("type").asText(null), doc.path("error").path("code").asText(null))) {
                    // a 200 carrying the request's fault (servers that put their 400 in the body): the caller's
                    answer.complete(ProviderRejection.of(id, 400, false, doc));
                } else if (replay == null) {
                    answer.completeExceptionally(ProviderFailure.badResponse(id, "JSON error body in a 2xx answer"));
                } else {
                    forward(RelaySession.replay(provider, target, attempt.model, replay, caller, vertx, relaySettings, live, format,
                            thinkTags.test(id, target.upstreamName())),
                            answer);
                }
            } else if (ProviderRejection.rejects(status)) {
                answer.complete(ProviderRejection.of(id, status, status == 400 && isContentFilter(doc), doc));
            } else {
                answer.completeExceptionally(ProviderFailure.status(id, status,
                        RetryAfter.seconds(status, response.headers(), clock, settings.maxCooldownSeconds())));
            }
        });
    }

    /** A whole number in a response header, or -1 when it is missing or not one. */
    private static long headerNumber(HttpClientResponse response, CharSequence name) {
        String v = response.getHeader(name);
        if (v == null) {
            return -1;
        }
        try {
            return Math.max(0, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void forward(RelaySession session, CompletableFuture<UpstreamAnswer> answer) {
        session.primed().whenComplete((primed, failure) -> {
            if (failure instanceof RelaySession.RejectedInStream rejected) {
                answer.complete(rejected.rejection());
            } else if (failure != null) {
                answer.completeExceptionally(failure);
            } else {
                answer.complete(primed);
            }
        });
    }

    /**
     * The most of a whole JSON answer (a 2xx although a stream was asked) that is read: room for an answer of
     * CHAT_MAX_ANSWER_BYTES even with every character JSON-escaped (six bytes each), beside the rest of the
     * body. It was LLM_ERROR_BODY_MAX_BYTES, the error bodies' limit: an answer of 100 KB came back truncated,
     * unreadable, and the chat failed with 503 (black-box probe).
     */
    private long wholeAnswerMaxBytes() {
        return Math.min(Integer.MAX_VALUE - 8, settings.errorBodyMaxBytes() + 6L * relaySettings.maxAnswerBytes());
    }

    private Future<Buffer> readBounded(HttpClientResponse response, HttpClientRequest request, long timeoutMs,
                                       long maxBytes) {
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer();
        // the outcome first, the reset after it: a reset fails the response at once (exceptionHandler), and that
        // failure won the race - an error body past the limit was a connect failure, retried and sent to the
        // fallback instead of the provider's 400 or 429, and a stalled one was no timeout (black-box probe)
        response.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > maxBytes) {
                promise.tryComplete(body);
                request.reset();
            } else {
                body.appendBuffer(chunk);
            }
        });
        response.exceptionHandler(promise::tryFail);
        response.endHandler(v -> promise.tryComplete(body));
        long timer = vertx.setTimer(timeoutMs, t -> {
            promise.tryFail(new TimeoutException("error body"));
            request.reset();
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
        CatalogModel entry = catalogEntry.apply(providerId, provider.target(null).upstreamName());
        String body = "{" + (provider.model() == null ? "" : "\"model\":" + quote(provider.model()) + ",")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}],\""
                + (entry == null ? CatalogModel.MAX_TOKENS : entry.tokenLimit()) + "\":1,\"stream\":false}";
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(provider.url())
                .setTimeout(settings.responseHeadersTimeoutMs())
                .putHeader("Content-Type", "application/json")
                .putHeader("User-Agent", USER_AGENT);
        // the credential may have to fetch a token: not on the event loop the probe's timer runs on
        vertx.executeBlocking(() -> credentials.of(providerId).header(), false)
                .map(auth -> auth == null ? options : options.putHeader(auth.name(), auth.value()))
                .compose(client::request)
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
        perLoop.values().forEach(HttpClient::close);
        client.close();
    }
}
