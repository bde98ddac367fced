package com.cobalt.chat.credential;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import com.azure.core.http.HttpClient;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.identity.AzureAuthorityHosts;
import com.azure.identity.AzureCliCredentialBuilder;
import com.azure.identity.ChainedTokenCredentialBuilder;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.azure.identity.ManagedIdentityCredentialBuilder;
import com.azure.identity.WorkloadIdentityCredentialBuilder;
import com.cobalt.chat.config.EntraSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's Microsoft Entra ID token for the scope {@value EntraSettings#SCOPE}, shared by every Azure provider
 * with AZURE_AI_AUTH=entra (one token serves all their chats). Tokens come from Microsoft's azure-identity: a chain of
 * the credential sources the environment has, in DefaultAzureCredential's order. The token is kept and renewed on the
 * credentials thread before it expires (at the token's own refresh time, else 5 minutes - or half its life, when that
 * is shorter - before its expiry); a renewal that fails is tried again soon while the current token lasts. A request
 * only waits for a fetch when there is no valid token at all and none has failed yet (the process's first), and then
 * at most {@code maxWait}. Once a fetch failed and no valid token is left, requests are refused at once (their
 * provider has failed, the fallback answers) while the credentials thread keeps trying: an identity endpoint that is
 * down or hangs costs a chat no wait, where before every chat waited for a fetch of its own, one after another,
 * each as long as azure-identity's retries (black-box probe: 25 to 90 s a chat; a hung endpoint held them for good).
 * Neither the token nor the identity endpoint's answer is ever logged.
 */
final class EntraTokens {

    private static final Logger LOG = LoggerFactory.getLogger(EntraTokens.class);
    private static final Duration EARLY = Duration.ofMinutes(5);
    /** A token this close to its expiry is not handed to a request (it could expire on the way). */
    private static final Duration MARGIN = Duration.ofSeconds(1);
    private static final Duration RETRY_MAX = Duration.ofSeconds(30);
    /** What one call of the identity endpoint may take (connect, response headers, each read). */
    private static final Duration IDENTITY_TIMEOUT = Duration.ofSeconds(10);

    private final TokenCredential credential;
    private final String sources;
    private final TokenRequestContext request = new TokenRequestContext().addScopes(EntraSettings.SCOPE);
    private final ScheduledExecutorService background;
    private final ReentrantLock fetching = new ReentrantLock();
    /** The longest a request waits for a fetch under way (LLM_FIRST_TOKEN_TIMEOUT_MS). */
    private final Duration maxWait;
    private volatile AccessToken current;
    /** Why the last fetch failed, while no fetch has succeeded since; null otherwise. */
    private volatile String failure;
    /** When the current token is to be renewed (set with it). */
    private volatile OffsetDateTime renewAt = OffsetDateTime.MIN;

    EntraTokens(EntraSettings settings, ScheduledExecutorService background, Duration maxWait) {
        this.background = background;
        this.maxWait = maxWait;
        this.credential = chain(settings);
        this.sources = String.join(", ", settings.chain().stream().map(EntraSettings.Source::id).toList());
    }

    /**
     * The credential chain. azure-identity talks to the identity endpoints through the JDK's HttpClient (pom.xml:
     * no second Netty beside Vert.x's).
     */
    private static TokenCredential chain(EntraSettings s) {
        // bounded: a hung identity endpoint must not hold the credentials thread (renewals, key files) for minutes
        HttpClient http = new JdkHttpClientBuilder().connectionTimeout(IDENTITY_TIMEOUT)
                .responseTimeout(IDENTITY_TIMEOUT).readTimeout(IDENTITY_TIMEOUT).build();
        ChainedTokenCredentialBuilder chain = new ChainedTokenCredentialBuilder();
        for (EntraSettings.Source source : s.chain()) {
            switch (source) {
                case CLIENT_SECRET -> {
                    ClientSecretCredentialBuilder b = new ClientSecretCredentialBuilder().httpClient(http)
                            .tenantId(s.tenantId()).clientId(s.clientId()).clientSecret(s.clientSecret());
                    authority(b, s.authorityHost());
                    chain.addLast(b.build());
                }
                case WORKLOAD_IDENTITY -> {
                    WorkloadIdentityCredentialBuilder b = new WorkloadIdentityCredentialBuilder().httpClient(http)
                            .tenantId(s.tenantId()).clientId(s.clientId()).tokenFilePath(s.federatedTokenFile());
                    authority(b, s.authorityHost());
                    chain.addLast(b.build());
                }
                case MANAGED_IDENTITY -> {
                    ManagedIdentityCredentialBuilder b = new ManagedIdentityCredentialBuilder().httpClient(http);
                    if (s.clientId() != null && !s.chain().contains(EntraSettings.Source.CLIENT_SECRET)) {
                        b.clientId(s.clientId()); // a user-assigned identity
                    }
                    chain.addLast(b.build());
                }
                case AZURE_CLI -> chain.addLast(new AzureCliCredentialBuilder().tenantId(s.tenantId()).build());
            }
        }
        return chain.build();
    }

    /**
     * A sovereign cloud's authority (AZURE_AUTHORITY_HOST). One Microsoft does not list (Azure Stack, a private
     * cloud) has no instance discovery at login.microsoftonline.com: MSAL is told to trust it as given.
     */
    private static void authority(com.azure.identity.AadCredentialBuilderBase<?> b, String host) {
        if (host == null) {
            return;
        }
        b.authorityHost(host);
        List<String> known = List.of(AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, AzureAuthorityHosts.AZURE_CHINA,
                AzureAuthorityHosts.AZURE_GOVERNMENT);
        String h = host.toLowerCase(Locale.ROOT);
        if (known.stream().noneMatch(k -> h.startsWith(k.toLowerCase(Locale.ROOT)))) {
            if (b instanceof ClientSecretCredentialBuilder cs) {
                cs.disableInstanceDiscovery();
            } else if (b instanceof WorkloadIdentityCredentialBuilder wi) {
                wi.disableInstanceDiscovery();
            }
        }
    }

    /** At start: the first token is fetched on the credentials thread, so the first chat rarely waits for it. */
    void prefetch() {
        background.execute(this::renewInBackground);
    }

    /**
     * A token valid for a request now: the kept one, or (the first, when no fetch has failed yet) one fetched now,
     * waiting at most {@code maxWait} for a fetch under way. Refused at once while the last fetch failed and no valid
     * token is left: the credentials thread keeps trying, and the chat goes to the fallback meanwhile.
     */
    String token() {
        AccessToken t = current;
        if (usable(t)) {
            return t.getToken();
        }
        failingNow();
        lockWithin();
        try {
            t = current;
            if (usable(t)) {
                return t.getToken();
            }
            failingNow();
            return fetch().getToken();
        } finally {
            fetching.unlock();
        }
    }

    /** Refuses a request at once while the identity endpoint is failing (the background keeps trying). */
    private void failingNow() {
        String f = failure;
        if (f != null) {
            throw new CredentialUnavailableException(f);
        }
    }

    /** Takes the fetch lock, waiting at most {@code maxWait} for a fetch another thread is making. */
    private void lockWithin() {
        try {
            if (fetching.tryLock(maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new CredentialUnavailableException("no Entra ID token from " + sources + " within "
                + maxWait.toMillis() + " ms (the identity endpoint is slow to answer)");
    }

    /**
     * Whether {@link #token()} answers now, without a fetch: a token is kept, or the identity endpoint is failing
     * (then it refuses at once).
     */
    boolean ready() {
        return usable(current) || failure != null;
    }

    /** After a 401 with {@code rejected}: a new token now, unless another request already got one. */
    boolean renew(String rejected) {
        try {
            lockWithin();
        } catch (CredentialUnavailableException e) {
            return false;
        }
        try {
            AccessToken t = current;
            if (usable(t) && !t.getToken().equals(rejected)) {
                return true;
            }
            try {
                return !fetch().getToken().equals(rejected);
            } catch (CredentialUnavailableException e) {
                return false;
            }
        } finally {
            fetching.unlock();
        }
    }

    private static boolean usable(AccessToken t) {
        return t != null && t.getExpiresAt().isAfter(OffsetDateTime.now().plus(MARGIN));
    }

    /** Asks the chain for a token and keeps it; its renewal is scheduled. */
    private AccessToken fetch() {
        AccessToken t;
        try {
            t = credential.getTokenSync(request);
        } catch (RuntimeException e) {
            // the exception's message may quote the identity endpoint's answer: only its type is told
            LOG.warn("Entra ID: no token from {} ({})", sources, e.getClass().getSimpleName());
            failure = "no Entra ID token from " + sources + " (" + e.getClass().getSimpleName() + ")";
            throw new CredentialUnavailableException(failure);
        }
        if (t == null || t.getToken() == null) {
            LOG.warn("Entra ID: {} gave no token", sources);
            failure = "no Entra ID token from " + sources;
            throw new CredentialUnavailableException(failure);
        }
        boolean first = current == null;
        Duration in = renewalDelay(t);
        renewAt = OffsetDateTime.now().plus(in);
        current = t;
        failure = null;
        LOG.info("Entra ID: {} token from {}, valid until {}; renewed in {} s", first ? "first" : "new", sources,
                t.getExpiresAt(), in.toSeconds());
        background.schedule(this::renewInBackground, in.toMillis(), TimeUnit.MILLISECONDS);
        return t;
    }

    /**
     * When to renew: the token's own refresh time when it is still ahead, else 5 minutes (at most half its life)
     * before it expires.
     */
    static Duration renewalDelay(AccessToken t) {
        OffsetDateTime now = OffsetDateTime.now();
        OffsetDateTime at = t.getRefreshAt();
        // MSAL sets a refresh time of its own (5 minutes before expiry): for a short-lived token that is already past
        if (at == null || !at.isAfter(now) || !at.isBefore(t.getExpiresAt())) {
            Duration life = Duration.between(now, t.getExpiresAt());
            Duration early = life.dividedBy(2).compareTo(EARLY) < 0 ? life.dividedBy(2) : EARLY;
            at = t.getExpiresAt().minus(early);
        }
        Duration d = Duration.between(now, at);
        return d.isNegative() ? Duration.ZERO : d;
    }

    /** Renewal on the credentials thread; a failure is tried again in a while (sooner as the token runs out). */
    private void renewInBackground() {
        try {
            fetching.lock();
            try {
                if (current != null && renewAt.isAfter(OffsetDateTime.now().plusSeconds(1))) {
                    return; // a 401 renewal already got a fresher token, with its own renewal scheduled
                }
                fetch();
            } finally {
                fetching.unlock();
            }
        } catch (RuntimeException e) {
            AccessToken t = current;
            Duration left = t == null ? Duration.ZERO : Duration.between(OffsetDateTime.now(), t.getExpiresAt());
            Duration retry = left.dividedBy(4).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : left.dividedBy(4);
            if (retry.toMillis() < 1000) {
                retry = Duration.ofSeconds(1);
            }
            if (t == null || left.isNegative()) {
                retry = Duration.ofSeconds(5); // no token: requests fetch themselves; keep trying meanwhile
            }
            background.schedule(this::renewInBackground, retry.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
