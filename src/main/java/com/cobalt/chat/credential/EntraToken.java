package com.cobalt.chat.credential;

/** An Azure provider with AZURE_AI_AUTH=entra: {@code Authorization: Bearer <token>}, no api-key. */
final class EntraToken implements ProviderCredential {

    private static final String PREFIX = "Bearer ";
    private final EntraTokens tokens;

    EntraToken(EntraTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public AuthHeader header() {
        return new AuthHeader("Authorization", PREFIX + tokens.token());
    }

    @Override
    public boolean ready() {
        return tokens.ready();
    }

    @Override
    public boolean renew(AuthHeader rejected) {
        return tokens.renew(rejected.value().substring(PREFIX.length()));
    }

    @Override
    public String mode() {
        return "entra";
    }
}
