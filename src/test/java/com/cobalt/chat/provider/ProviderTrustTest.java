package com.cobalt.chat.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.TlsUpstream;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

/** LLM_TRUSTED_CA_FILE adds to the JVM's trusted authorities; it never replaces them. */
class ProviderTrustTest {

    static List<X509Certificate> issuers(TrustManagerFactory factory) {
        return Arrays.stream(factory.getTrustManagers()).filter(X509TrustManager.class::isInstance)
                .flatMap(tm -> Arrays.stream(((X509TrustManager) tm).getAcceptedIssuers())).toList();
    }

    @Test
    void theFilesCertificateIsTrustedBesideEveryAuthorityTheJvmTrusts() throws Exception {
        TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        jvm.init((KeyStore) null);
        try (TlsUpstream upstream = TlsUpstream.http2(List.of(Chunks.delta("x")))) {
            X509Certificate added;
            try (InputStream in = Files.newInputStream(upstream.certificate())) {
                added = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }

            Vertx vertx = Vertx.vertx();
            TrustManagerFactory merged;
            try {
                merged = ProviderTrust.of(upstream.certificate()).vertx().getTrustManagerFactory(vertx);
            } finally {
                vertx.close();
            }

            assertThat(issuers(jvm)).isNotEmpty();
            assertThat(issuers(merged)).containsAll(issuers(jvm)).contains(added)
                    .hasSize(issuers(jvm).size() + 1);
        }
    }

    @Test
    void withoutAFileTheClientsKeepTheJvmsDefaultTrust() {
        assertThat(ProviderTrust.of(null).vertx()).isNull();
    }
}
