package com.cobalt.chat.credential;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key kept in a file (AZURE_AI_API_KEY_FILE, SAMBANOVA_API_KEY_FILE, LLM_PROVIDER_<ID>_API_KEY_FILE): a mounted
 * Kubernetes secret, rotated by replacing the file. {@link #reload()} runs every few seconds off the request path; a
 * changed key applies to the requests that start after it. Surrounding whitespace and the trailing newline are not
 * part of the key. A file that cannot be read, or is empty, keeps the last key and is warned about once (by path
 * and failure, never the key) until it is readable again.
 */
final class KeyFile implements ProviderCredential {

    private static final Logger LOG = LoggerFactory.getLogger(KeyFile.class);

    private final String provider;
    private final String headerName;
    private final String prefix;
    private final Path path;
    private volatile AuthHeader header;
    private boolean failing;

    /** Reads the file once (the start-up check already read it): a file unreadable now fails the start. */
    KeyFile(String provider, String headerName, String prefix, Path path) {
        this.provider = provider;
        this.headerName = headerName;
        this.prefix = prefix;
        this.path = path;
        String key = read();
        if (key == null) {
            throw new IllegalStateException("the key file of " + provider + " cannot be read: " + path);
        }
        header = new AuthHeader(headerName, prefix + key);
    }

    @Override
    public AuthHeader header() {
        return header;
    }

    /** A 401: the key may have been rotated since the last look, so look now. */
    @Override
    public boolean renew(AuthHeader rejected) {
        reload();
        return !header.equals(rejected);
    }

    @Override
    public String mode() {
        return "key-file";
    }

    /** Reads the file again; a new key replaces the old for new requests. */
    synchronized void reload() {
        String key = read();
        if (key == null) {
            return;
        }
        if (failing) {
            failing = false;
            LOG.info("Provider {}: the key file {} is readable again", provider, path);
        }
        AuthHeader next = new AuthHeader(headerName, prefix + key);
        if (!next.equals(header)) {
            header = next;
            LOG.info("Provider {}: the key in {} changed; new requests use it", provider, path);
        }
    }

    private String read() {
        String problem;
        try {
            String key = Files.readString(path, StandardCharsets.UTF_8).strip();
            String unusable = key.isEmpty() ? "the file is empty" : AuthHeader.unusableKey(key);
            if (unusable == null) {
                return key;
            }
            problem = unusable;
        } catch (IOException | RuntimeException e) {
            problem = e.getClass().getSimpleName();
        }
        synchronized (this) {
            if (!failing && header != null) {
                failing = true;
                LOG.warn("Provider {}: cannot read the key file {} ({}); requests keep the last key", provider, path,
                        problem);
            }
        }
        return null;
    }
}
