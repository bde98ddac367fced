package com.cobalt.chat.provider;

/** JMX view of the provider selection: swap primary and fallback at runtime, for new requests only. */
public interface ProviderSelectionMBean {

    String getPrimary();

    /** The fallback provider, or an empty string when none. */
    String getFallback();

    /** Sets the primary and the fallback (empty for none); answers the new selection. */
    String switchProviders(String primary, String fallback);
}
