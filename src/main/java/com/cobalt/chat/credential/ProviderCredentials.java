package com.cobalt.chat.credential;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.ProviderSettings;

/**
 * Each configured provider's credential: none, a fixed key, a key file that is re-read, or Entra ID tokens. The
 * upstream calls ask it for the header of each request; key files are looked at and tokens renewed on its own
 * thread, so a request never waits for either (except the process's very first token).
 */
public final class ProviderCredentials implements AutoCloseable {

    /** How often key files are read again: a rotated key is in use well within 10 seconds. */
    static final long KEY_FILE_CHECK_MS = 2000;

    private static final ProviderCredential NONE = new ProviderCredential() {
        @Override
        public AuthHeader header() {
            return null;
        }

        @Override
        public String mode() {
            return "none";
        }
    };

    private final Map<String, ProviderCredential> byProvider = new LinkedHashMap<>();
    private final ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "provider-credentials");
        t.setDaemon(true);
        return t;
    });
    private final EntraTokens entra;

    public ProviderCredentials(GatewaySettings settings) {
        this.entra = settings.entra() == null ? null : new EntraTokens(settings.entra(), background,
                Duration.ofMillis(settings.firstTokenTimeoutMs()));
        for (ProviderSettings p : settings.providers().values()) {
            byProvider.put(p.id(), credentialOf(p));
        }
    }

    private ProviderCredential credentialOf(ProviderSettings p) {
        if (p.authHeader() == null) {
            return NONE;
        }
        if (p.entra()) {
            return new EntraToken(entra);
        }
        if (p.apiKeyFile() != null) {
            KeyFile file = new KeyFile(p.id(), p.authHeader(), p.authPrefix(), p.apiKeyFile());
            background.scheduleWithFixedDelay(file::reload, KEY_FILE_CHECK_MS, KEY_FILE_CHECK_MS,
                    TimeUnit.MILLISECONDS);
            return file;
        }
        return p.apiKey() == null ? NONE : new FixedKey(p.authHeader(), p.authPrefix(), p.apiKey());
    }

    /** Starts fetching the first Entra ID token, so the first chat rarely waits for it. */
    public void start() {
        if (entra != null) {
            entra.prefetch();
        }
    }

    /** The credential of a configured provider. */
    public ProviderCredential of(String provider) {
        ProviderCredential c = byProvider.get(provider);
        if (c == null) {
            throw new IllegalArgumentException("unknown provider " + provider);
        }
        return c;
    }

    @Override
    public void close() {
        background.shutdownNow();
    }
}
