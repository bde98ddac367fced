package com.cobalt.chat.credential;

/** Where one provider's credential comes from, asked again for every request so that a new key or token applies. */
public interface ProviderCredential {

    /**
     * The header for a request now, or null when the provider takes none. Called on a worker thread: only the very
     * first Entra ID token of the process is fetched here; every later one is fetched ahead, off the request path.
     *
     * @throws CredentialUnavailableException when there is no credential to send
     */
    AuthHeader header();

    /**
     * The provider answered 401 to {@code rejected}: get a fresh credential now (a new token, the key file read
     * again). True when the next {@link #header()} differs, so one more try is worth it.
     */
    default boolean renew(AuthHeader rejected) {
        return false;
    }

    /** How the provider authenticates, for logs and the admin API: none, key, key-file, entra. */
    String mode();
}
