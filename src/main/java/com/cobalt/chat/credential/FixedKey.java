package com.cobalt.chat.credential;

/** A key read once at start from its variable (AZURE_AI_API_KEY, SAMBANOVA_API_KEY, LLM_PROVIDER_<ID>_API_KEY). */
final class FixedKey implements ProviderCredential {

    private final AuthHeader header;

    FixedKey(String headerName, String prefix, String key) {
        this.header = new AuthHeader(headerName, prefix + key);
    }

    @Override
    public AuthHeader header() {
        return header;
    }

    @Override
    public String mode() {
        return "key";
    }
}
