package com.cobalt.chat.model;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.credential.AuthHeader;
import com.cobalt.chat.provider.ProviderTrust;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capability detection: asks each provider which of its catalog models it actually serves, at start and then every
 * {@code llm.catalog-check-seconds} (0: only at start), on a thread of its own (never the event loop). An
 * OpenAI-compatible provider (SambaNova, OpenAI, vLLM, ...) lists its models ({@code GET {api-base}/models}, OpenAI's list shape) at no cost. Azure cannot list deployments
 * with an API key, so each deployment is asked for one token - which costs tokens and is therefore off unless
 * {@code llm.catalog-check.azure=true}; 404 means the deployment does not exist. A model found missing is logged
 * at WARN with its exact names and shown as unavailable in GET /api/v1/models. A check that gets no usable answer
 * (network failure, another status) proves nothing: it is logged and the last verdict stays. Keys are never logged.
 */
public class CatalogCheck {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogCheck.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, ProviderSettings> providers;
    private final List<CatalogModel> models;
    private final ModelAvailability availability;
    private final boolean checkAzure;
    private final int everySeconds;
    private final Duration timeout;
    /** Built on the check's own thread at its first use, not while the gateway starts (bench/README.md, "Cold start"). */
    private HttpClient http;
    private final ProviderTrust trust;
    private final Function<String, AuthHeader> auth;
    private ScheduledExecutorService scheduler;

    /** @param auth a provider's credential header now (null: none), as its chats send it */
    public CatalogCheck(Map<String, ProviderSettings> providers, List<CatalogModel> models,
                        ModelAvailability availability, boolean checkAzure, int everySeconds, Duration timeout,
                        Function<String, AuthHeader> auth, ProviderTrust trust) {
        this.trust = trust;
        this.auth = auth;
        this.providers = providers;
        this.models = models;
        this.availability = availability;
        this.checkAzure = checkAzure;
        this.everySeconds = everySeconds;
        this.timeout = timeout;
    }

    /**
     * The JDK client, made at the first check: building one initializes the JDK's TLS context (key stores, cipher
     * suites), about 0.2 s of CPU on the thread that builds it, which at start-up was the gateway's main thread.
     * HTTP/1.1: the JDK's default (HTTP/2) sends a plain http:// provider an h2c upgrade ({@code Upgrade: h2c},
     * {@code HTTP2-Settings}) that the chats never send, and that some model servers and proxies refuse; one GET now
     * and then gains nothing from HTTP/2.
     */
    private synchronized HttpClient http() {
        if (http == null) {
            HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(timeout);
            try {
                builder.sslContext(trust.sslContext()); // LLM_TRUSTED_CA_FILE, as for the chats
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("no TLS context for the catalog check", e);
            }
            http = builder.build();
        }
        return http;
    }

    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "catalog-check");
            t.setDaemon(true);
            return t;
        });
        if (everySeconds > 0) {
            scheduler.scheduleWithFixedDelay(this::checkAll, 0, everySeconds, TimeUnit.SECONDS);
        } else {
            scheduler.execute(this::checkAll);
        }
    }

    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    /** One round over every provider that can tell. */
    public void checkAll() {
        for (Map.Entry<String, ProviderSettings> e : providers.entrySet()) {
            try {
                switch (e.getValue().kind()) {
                    case OPENAI -> checkListed(e.getValue());
                    case AZURE -> {
                        if (checkAzure) {
                            checkDeployments(e.getValue());
                        }
                    }
                    default -> {
                        // the demo provider is the gateway itself
                    }
                }
            } catch (RuntimeException ex) {
                LOG.warn("Catalog check of {} failed ({}); its models are not taken as missing", e.getKey(),
                        ex.getClass().getSimpleName());
            }
        }
    }

    private List<CatalogModel> modelsOf(String p) {
        return models.stream().filter(m -> m.provider().equals(p)).toList();
    }

    /** A provider that lists its models: one GET, OpenAI's {@code {"data":[{"id":...}]}}. */
    private void checkListed(ProviderSettings provider) {
        if (provider.modelsUrl() == null) {
            return;
        }
        String id = provider.id();
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(provider.modelsUrl())).timeout(timeout)
                .header("Accept", "application/json").GET();
        AuthHeader header = auth.apply(id);
        if (header != null) {
            builder.header(header.name(), header.value());
        }
        HttpRequest request = builder.build();
        HttpResponse<String> response;
        try {
            response = http().send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception ex) {
            cannotTell(id, ex.getClass().getSimpleName());
            return;
        }
        Set<String> served = new LinkedHashSet<>();
        JsonNode data = null;
        if (response.statusCode() == 200) {
            try {
                data = JSON.readTree(response.body()).path("data");
            } catch (Exception ex) {
                data = null;
            }
        }
        if (data == null || !data.isArray()) {
            cannotTell(id, response.statusCode() == 200 ? "not a model list" : "HTTP " + response.statusCode());
            return;
        }
        data.forEach(m -> served.add(m.path("id").asText()));
        Set<String> missing = new LinkedHashSet<>();
        for (CatalogModel m : modelsOf(provider.id())) {
            if (!served.contains(m.upstreamName())) {
                missing.add(m.upstreamName());
            }
        }
        verdict(provider.id(), missing);
    }

    /** Azure: each deployment asked for one token; 404 means it does not exist. */
    private void checkDeployments(ProviderSettings provider) {
        String id = provider.id();
        Set<String> missing = new LinkedHashSet<>();
        for (CatalogModel m : modelsOf(provider.id())) {
            ProviderSettings.Target target = provider.target(m.upstreamName());
            String body = "{" + (target.bodyModel() == null ? "" : "\"model\":" + quote(target.bodyModel()) + ",")
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}],\"" + m.tokenLimit()
                    + "\":1,\"stream\":false}";
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(target.url())).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            AuthHeader header = auth.apply(id);
            if (header != null) {
                builder.header(header.name(), header.value());
            }
            HttpRequest request = builder.build();
            int status;
            try {
                status = http().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception ex) {
                cannotTell(id, ex.getClass().getSimpleName());
                return;
            }
            if (status == 404) {
                missing.add(m.upstreamName());
            } else if (status < 200 || status >= 300) {
                cannotTell(id, "HTTP " + status + " for deployment " + m.upstreamName());
                return;
            }
        }
        verdict(provider.id(), missing);
    }

    private void verdict(String provider, Set<String> missing) {
        availability.missing(provider, missing);
        if (missing.isEmpty()) {
            LOG.info("Catalog check: {} serves every catalog model", provider);
            return;
        }
        String ids = modelsOf(provider).stream().filter(m -> missing.contains(m.upstreamName()))
                .map(CatalogModel::id).distinct().collect(Collectors.joining(", "));
        LOG.warn("Catalog check: {} does not serve {} (catalog model {}); shown as unavailable", provider,
                String.join(", ", missing), ids);
    }

    private static void cannotTell(String provider, String why) {
        LOG.warn("Catalog check: could not ask {} which models it serves ({}); this is not taken as missing",
                provider, why);
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
