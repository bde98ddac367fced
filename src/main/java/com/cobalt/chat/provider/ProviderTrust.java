package com.cobalt.chat.provider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import com.cobalt.chat.config.InvalidConfigurationException;
import io.vertx.core.net.TrustOptions;

/**
 * Which certificates a provider's TLS endpoint may present: the JVM's trusted authorities, plus those of
 * LLM_TRUSTED_CA_FILE when it is set (a company's own CA, or the one a TLS-inspecting proxy signs with). The file
 * adds to the JVM's trust; it does not replace it, so public providers keep working beside a private one. Without
 * the file nothing is built: the clients use the JVM's default trust as they always did.
 */
public final class ProviderTrust {

    /** Null: the JVM's default trust. */
    private final TrustManagerFactory factory;

    private ProviderTrust(TrustManagerFactory factory) {
        this.factory = factory;
    }

    /**
     * The JVM's trust, and the certificates of {@code caFile} when it is not null (SettingsLoader has checked that it
     * holds some).
     */
    public static ProviderTrust of(Path caFile) {
        if (caFile == null) {
            return new ProviderTrust(null);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int n = 0;
            TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jvm.init((KeyStore) null);
            for (TrustManager tm : jvm.getTrustManagers()) {
                if (tm instanceof X509TrustManager x509) {
                    for (X509Certificate issuer : x509.getAcceptedIssuers()) {
                        store.setCertificateEntry("jvm-" + n++, issuer);
                    }
                }
            }
            Collection<? extends Certificate> added;
            try (InputStream in = Files.newInputStream(caFile)) {
                added = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            int i = 0;
            for (Certificate c : added) {
                store.setCertificateEntry("llm-trusted-ca-" + i++, c);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return new ProviderTrust(factory);
        } catch (IOException | GeneralSecurityException e) {
            throw new InvalidConfigurationException(List.of("LLM_TRUSTED_CA_FILE could not be read as PEM"
                    + " certificates (" + e.getClass().getSimpleName() + "): " + caFile));
        }
    }

    /** For the Vert.x clients: null means the JVM's default trust. */
    public TrustOptions vertx() {
        return factory == null ? null : TrustOptions.wrap(factory);
    }

    /** For the JDK client of the catalog check. */
    public SSLContext sslContext() throws GeneralSecurityException {
        if (factory == null) {
            return SSLContext.getDefault();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
