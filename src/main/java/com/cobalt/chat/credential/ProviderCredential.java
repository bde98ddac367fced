package com.cobalt.chat.credential;

/** Where one provider's credential comes from, asked again for every request so that a new key or token applies. */
public interface ProviderCredential {

    /**
     * The header for a request now, or null when the provider takes none. May wait only when {@link #ready()} is
     * false (the process's very first Entra ID token): every later token is fetched ahead, off the request path.
     *
     * @throws CredentialUnavailableException when there is no credential to send
     */
    AuthHeader header();

    /**
     * Whether {@link #header()} answers without waiting (a key, a kept token), so it may be asked on an event loop;
     * false only while an Entra ID token has still to be fetched.
     */
    default boolean ready() {
        return true;
    }

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
