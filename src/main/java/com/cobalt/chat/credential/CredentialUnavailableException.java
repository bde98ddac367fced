package com.cobalt.chat.credential;

/**
 * No credential could be had for a request (the identity endpoint failed, no token yet). The message is safe to log:
 * it names the source and the kind of failure, never a token, a secret or the identity endpoint's answer.
 */
public class CredentialUnavailableException extends RuntimeException {

    public CredentialUnavailableException(String message) {
        super(message, null, false, false);
    }
}
