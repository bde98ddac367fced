package com.cobalt.chat.config;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and validates the gateway's configuration from property names such as {@code llm.provider}; each is
 * overridden by its environment variable ({@code LLM_PROVIDER}), and problems are reported by that variable name.
 * All problems are collected into one {@link InvalidConfigurationException}; secret values are never echoed.
 */
public final class SettingsLoader {

    static final String FOUNDRY_MODELS_API_VERSION = "2024-05-01-preview";
    private static final Pattern API_VERSION_DATE = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2})");
    /** The first Azure OpenAI api-version that accepts stream_options.include_usage. */
    private static final String FIRST_USAGE_API_VERSION = "2024-09-01";

    private final Function<String, String> lookup;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> catalogProviders = new TreeSet<>();
    private final Set<String> declaredProviders = new TreeSet<>();
    private final Set<String> priceKeys = new TreeSet<>();
    /** The providers that asked for Entra ID tokens. */
    private final Set<String> entraIds = new TreeSet<>();

    private SettingsLoader(Function<String, String> lookup) {
        this.lookup = lookup;
    }

    public static GatewaySettings load(Function<String, String> lookup) {
        return load(lookup, Set.of(), Set.of());
    }

    /**
     * @param catalogProviders  the provider ids found under {@code llm.models.*} (in the properties files and the
     *                          environment), so that a catalog naming an unknown provider is refused
     * @param declaredProviders the ids declared with {@code llm.provider.<id>.kind} (LLM_PROVIDER_<ID>_KIND)
     */
    public static GatewaySettings load(Function<String, String> lookup, Set<String> catalogProviders,
                                       Set<String> declaredProviders) {
        return load(lookup, catalogProviders, declaredProviders, Set.of());
    }

    /**
     * @param priceKeys the {@code llm.price.<provider>.<model>} properties found in the properties files; the price
     *                  of every catalog model is checked too (it may come from the environment alone)
     */
    public static GatewaySettings load(Function<String, String> lookup, Set<String> catalogProviders,
                                       Set<String> declaredProviders, Set<String> priceKeys) {
        SettingsLoader loader = new SettingsLoader(lookup);
        loader.catalogProviders.addAll(catalogProviders);
        loader.declaredProviders.addAll(declaredProviders);
        loader.priceKeys.addAll(priceKeys);
        return loader.load();
    }

    /** The environment variable that overrides a property: llm.fallback-provider -> LLM_FALLBACK_PROVIDER. */
    public static String envName(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * How a refusal names a setting: its environment variable, followed by the property in application.properties
     * where that cannot be read off the variable ({@code CHAT_DB_POOL_SIZE (chat.db.pool-size)}, but
     * {@code CHAT_AUTH_DISABLED} alone).
     */
    public static String settingName(String property) {
        String env = envName(property);
        return env.toLowerCase(Locale.ROOT).replace('_', '.').equals(property) ? env : env + " (" + property + ")";
    }

    private GatewaySettings load() {
        Map<String, ProviderKind> kinds = providerKinds();
        String primary = providerId("llm.provider", "sambanova", kinds);
        String fallback = null;
        if (value("llm.fallback-provider") != null) {
            fallback = providerId("llm.fallback-provider", null, kinds);
            if (fallback != null && fallback.equals(primary)) {
                problems.add("LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are " + primary + ")");
                fallback = null;
            }
        }

        CatalogLoader catalogLoader = new CatalogLoader(this::value, problems);
        catalogLoader.checkProviderIds(catalogProviders, kinds);
        // configured: the primary, the fallback, every provider with a model list, every declared provider
        Set<String> wanted = new LinkedHashSet<>();
        if (primary != null) {
            wanted.add(primary);
        }
        if (fallback != null) {
            wanted.add(fallback);
        }
        for (String id : kinds.keySet()) {
            if (catalogLoader.hasList(id) || declaredProviders.contains(id)) {
                wanted.add(id);
            }
        }
        Map<String, ProviderSettings> built = new LinkedHashMap<>();
        for (String id : wanted) {
            String role = id.equals(primary) ? "LLM_PROVIDER=" + id
                    : id.equals(fallback) ? "LLM_FALLBACK_PROVIDER=" + id
                    : declaredProviders.contains(id) ? envName(ProviderProperties.PREFIX + id + ".kind")
                    : envName(CatalogLoader.modelsProperty(id));
            ProviderKind kind = kinds.get(id);
            ProviderSettings s = switch (kind) {
                case OPENAI -> openAi(id, role, catalogLoader.hasList(id));
                case AZURE -> azure(id, role, catalogLoader.hasList(id));
                case DEMO -> demo(id);
            };
            if (s != null) {
                built.put(id, s);
            }
        }
        // problems were named primary first; the providers keep a stable order (the built-ins, then the declared ids)
        Map<String, ProviderSettings> providers = new LinkedHashMap<>();
        kinds.keySet().stream().filter(built::containsKey).forEach(id -> providers.put(id, built.get(id)));

        CatalogSettings catalog = catalogLoader.load(providers);

        int maxTokens = positiveInt("chat.max-tokens", 2048);
        int maxContext = nonNegativeInt("chat.max-context-messages", 20);
        int maxLength = positiveInt("chat.max-message-length", 4000);
        int perMinute = positiveInt("chat.rate-limit-per-minute", 100);
        int perDay = positiveInt("chat.daily-message-quota", 10000);
        int maxStreams = positiveInt("chat.max-concurrent-streams", 4);
        int maxSessions = positiveInt("chat.max-sessions-per-user", 1000);
        int sessionsPerMinute = positiveInt("chat.session-create-rate-per-minute", 300);
        int maxAnswerBytes = positiveInt("chat.max-answer-bytes", 1_048_576);
        boolean limitsShared = limitsShared();
        boolean authDisabled = bool("chat.auth.disabled");
        String jwtSecret = value("chat.jwt.secret");
        String jwksUrl = value("chat.jwt.jwks-url");
        String jwtIssuer = value("chat.jwt.issuer");
        String jwtAudience = value("chat.jwt.audience");
        if (!authDisabled) {
            if (jwtSecret == null && jwksUrl == null) {
                problems.add("CHAT_JWT_SECRET or CHAT_JWT_JWKS_URL is required unless CHAT_AUTH_DISABLED=true");
            }
            if (jwtSecret != null && jwtSecret.getBytes(StandardCharsets.UTF_8).length < 32) {
                problems.add("CHAT_JWT_SECRET must be at least 32 bytes for HS256");
            }
            if (jwksUrl != null && !isHttpUrl(jwksUrl)) {
                problems.add("CHAT_JWT_JWKS_URL must be an http(s) URL, got: " + withoutUserInfo(jwksUrl));
            }
        }
        boolean allowRemote = bool("chat.auth.disabled-allow-remote");
        String httpHost = bindAddress("http.host", authDisabled, allowRemote);
        String managementHost = bindAddress("management.host", authDisabled, allowRemote);
        long connectTimeout = positiveInt("llm.connect-timeout-ms", 5000);
        long headersTimeout = positiveInt("llm.response-headers-timeout-ms", 30000);
        long firstTokenTimeout = positiveInt("llm.first-token-timeout-ms", 20000);
        long idleTimeout = positiveInt("llm.stream-idle-timeout-ms", 60000);
        int maxConnections = positiveInt("llm.max-connections", 500);
        int errorBodyMax = positiveInt("llm.error-body-max-bytes", 65536);
        long keepAliveMs = positiveInt("chat.keep-alive-seconds", 15) * 1000L;
        int maxRetries = nonNegativeInt("llm.max-retries", 1);
        long retryBase = positiveInt("llm.retry-base-delay-ms", 250);
        long retryMax = positiveInt("llm.retry-max-delay-ms", 2000);
        long retryBudget = positiveInt("llm.retry-budget-ms", 10000);
        int streamLeaseSeconds = positiveInt("chat.stream-lease-seconds", 60);
        long checkpointMs = checkpointMs();
        if (checkpointMs > 0 && streamLeaseSeconds > 0 && streamLeaseSeconds * 1000L < 2 * checkpointMs) {
            problems.add("CHAT_STREAM_LEASE_SECONDS (" + streamLeaseSeconds + ") must be at least twice"
                    + " CHAT_CHECKPOINT_SECONDS (" + value("chat.checkpoint-seconds") + "): every checkpoint renews the"
                    + " leases of the answers streaming");
        }
        long maxCooldown = positiveInt("llm.max-cooldown-seconds", 300);
        Map<String, BreakerSettings> breakers = breakers(providers.keySet());
        int httpPort = port("http.port", 8080);
        int managementPort = port("management.port", 9876);
        if (httpPort == managementPort) {
            // the management port has no authentication: sharing the chat port would publish health and metrics
            problems.add("HTTP_PORT and MANAGEMENT_PORT are both " + httpPort + "; the management port (health and"
                    + " metrics, no authentication) needs a port of its own");
        }
        RuntimeSettings runtime = new RuntimeSettings(
                httpPort,
                managementPort,
                positiveInt("http.max-body-bytes", 65536),
                bool("http.h2c-enabled", false),
                positiveInt("http.event-loops", Runtime.getRuntime().availableProcessors()),
                positiveInt("http.worker-pool-size", 32),
                positiveInt("http.worker-keep-alive-seconds", 5),
                positiveInt("http.chat-queue-size", 10000),
                positiveInt("http.api-pool-size", 16),
                positiveInt("http.api-queue-size", 1000),
                positiveInt("chat.db.pool-size", 10),
                (int) integer("chat.db.connection-timeout-ms", 5000, 250, Integer.MAX_VALUE,
                        "a whole number of milliseconds, 250 or more"),
                nonNegativeInt("chat.history-cache-mb", 64),
                positiveInt("chat.record-threads", 8),
                streamLeaseSeconds,
                nonNegativeInt("chat.shutdown-grace-seconds", 20),
                nonNegativeInt("llm.health-probe-seconds", 0),
                bool("llm.catalog-check.enabled", true),
                bool("llm.catalog-check.azure", false),
                nonNegativeInt("llm.catalog-check-seconds", 0),
                nonNegativeInt("demo.token-delay-ms", 40),
                positiveInt("openai.max-body-bytes", 10 * 1024 * 1024),
                positiveInt("http.request-timeout-seconds", 30),
                positiveInt("http.idle-connection-timeout-seconds", 120));
        bool("chat.routes.reload", false);
        if (lookup.apply("chat.admin-role") != null && value("chat.admin-role") == null) {
            // an empty role would be matched by a token whose roles claim holds an empty string: anyone's admin
            problems.add(settingName("chat.admin-role") + " must name a role (it is empty)");
        }
        prices(catalog);
        boolean weighted = balance();
        EntraSettings entra = providers.values().stream().anyMatch(ProviderSettings::entra) ? entra() : null;
        UpstreamTransport transport = new UpstreamTransport(bool("llm.http2", true),
                positiveInt("llm.http2-connections", 16), trustedCaFile());

        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return new GatewaySettings(primary, fallback, providers, maxTokens, maxContext, maxLength, perMinute, perDay,
                maxStreams, maxSessions, sessionsPerMinute, maxAnswerBytes, limitsShared, authDisabled, jwtSecret, jwksUrl, jwtIssuer, jwtAudience, httpHost, managementHost,
                connectTimeout, headersTimeout, firstTokenTimeout, idleTimeout, maxConnections, errorBodyMax,
                keepAliveMs, maxRetries, retryBase, retryMax, retryBudget, maxCooldown, catalog, breakers, runtime,
                embeddedH2(value("chat.db.url")), checkpointMs, streamLeaseSeconds, weighted, entra, transport);
    }

    /** LLM_TRUSTED_CA_FILE: a readable file of one or more PEM certificates, or null when unset. */
    private java.nio.file.Path trustedCaFile() {
        String v = value("llm.trusted-ca-file");
        if (v == null || v.isBlank()) {
            return null;
        }
        java.nio.file.Path file = java.nio.file.Path.of(v.trim());
        if (!java.nio.file.Files.isReadable(file)) {
            problems.add(settingName("llm.trusted-ca-file") + " must name a readable PEM file, got: " + v);
            return null;
        }
        boolean certificates;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            certificates = !java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)
                    .isEmpty();
        } catch (java.io.IOException | java.security.cert.CertificateException e) {
            certificates = false; // not PEM (or DER) certificates
        }
        if (!certificates) {
            problems.add(settingName("llm.trusted-ca-file") + " holds no PEM certificate: " + v);
            return null;
        }
        return file;
    }

    /** LLM_BALANCE: primary (the current primary serves a model, others only as fallback) or weighted. */
    private boolean balance() {
        String v = value("llm.balance");
        if (v == null || v.equalsIgnoreCase("primary")) {
            return false;
        }
        if (v.equalsIgnoreCase("weighted")) {
            return true;
        }
        problems.add("LLM_BALANCE must be primary or weighted, got: " + v);
        return false;
    }

    /**
     * Where Entra ID tokens come from. LLM_ENTRA_CREDENTIAL=auto (the default) chains every source the environment
     * shows, in DefaultAzureCredential's order: a client secret, workload identity, an App Service / Container Apps
     * managed identity (IDENTITY_ENDPOINT), the Azure CLI on the PATH. A VM's or AKS node's managed identity (IMDS)
     * cannot be seen without a network call, so it is chosen by name: LLM_ENTRA_CREDENTIAL=managed-identity.
     */
    private EntraSettings entra() {
        String tenant = value("azure.tenant-id");
        String client = value("azure.client-id");
        String secret = value("azure.client-secret");
        String tokenFile = value("azure.federated-token-file");
        String authority = value("azure.authority-host");
        if (authority != null && (!isHttpUrl(authority) || !authority.toLowerCase(Locale.ROOT).startsWith("https://"))) {
            problems.add("AZURE_AUTHORITY_HOST must be an https URL, got: " + authority);
        }
        String mode = value("llm.entra.credential");
        List<EntraSettings.Source> chain = new ArrayList<>();
        if (mode == null || mode.equalsIgnoreCase("auto")) {
            if (tenant != null && client != null && secret != null) {
                chain.add(EntraSettings.Source.CLIENT_SECRET);
            }
            if (tokenFile != null && tenant != null && client != null) {
                chain.add(EntraSettings.Source.WORKLOAD_IDENTITY);
            }
            if (value("identity.endpoint") != null || value("msi.endpoint") != null) {
                chain.add(EntraSettings.Source.MANAGED_IDENTITY);
            }
            if (onPath(value("path"), "az")) {
                chain.add(EntraSettings.Source.AZURE_CLI);
            }
            if (chain.isEmpty()) {
                problems.add(entraUsers() + " needs a Microsoft Entra ID credential, and none was found: set"
                        + " AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal); or"
                        + " AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (AKS workload identity);"
                        + " or run where IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Container Apps"
                        + " managed identity); or set LLM_ENTRA_CREDENTIAL=managed-identity on an Azure VM or AKS node"
                        + " (IMDS, AZURE_CLIENT_ID for a user-assigned identity); or install the Azure CLI and az login");
            }
        } else {
            EntraSettings.Source source = java.util.Arrays.stream(EntraSettings.Source.values())
                    .filter(x -> x.id().equalsIgnoreCase(mode)).findFirst().orElse(null);
            if (source == null) {
                problems.add("LLM_ENTRA_CREDENTIAL must be auto, client-secret, workload-identity, managed-identity"
                        + " or azure-cli, got: " + mode);
                return null;
            }
            List<String> missing = switch (source) {
                case CLIENT_SECRET -> missing("azure.tenant-id", "azure.client-id", "azure.client-secret");
                case WORKLOAD_IDENTITY -> missing("azure.tenant-id", "azure.client-id", "azure.federated-token-file");
                default -> List.of();
            };
            if (!missing.isEmpty()) {
                problems.add("LLM_ENTRA_CREDENTIAL=" + source.id() + " needs " + String.join(", ", missing));
            }
            chain.add(source);
        }
        return new EntraSettings(chain, tenant, client, secret, tokenFile, authority);
    }

    /** The variables that asked for Entra ID, for a refusal: AZURE_AI_AUTH=entra, LLM_PROVIDER_AZURE_WEST_AUTH=entra. */
    private String entraUsers() {
        List<String> names = new ArrayList<>();
        for (String id : entraIds) {
            names.add(envName(ProviderProperties.property(id, "auth")) + "=entra");
        }
        return String.join(", ", names);
    }

    /** Whether an executable of that name is in one of the PATH's folders. */
    private static boolean onPath(String path, String name) {
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isBlank() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A provider's key: the variable, or the file named by its _FILE variable (the Kubernetes secret-volume pattern),
     * read now to check it; never both.
     */
    private record KeySource(String key, Path file) {
        boolean present() {
            return key != null || file != null;
        }
    }

    private KeySource keySource(String id) {
        String keyProperty = ProviderProperties.property(id, "api-key");
        String fileProperty = ProviderProperties.property(id, "api-key-file");
        String key = value(keyProperty);
        String file = value(fileProperty);
        if (key != null && com.cobalt.chat.credential.AuthHeader.unusableKey(key.strip()) != null) {
            problems.add(envName(keyProperty) + ": " + com.cobalt.chat.credential.AuthHeader.unusableKey(key.strip()));
        }
        if (file == null) {
            return new KeySource(key, null);
        }
        if (key != null) {
            problems.add("Set " + envName(keyProperty) + " or " + envName(fileProperty) + ", not both");
            return new KeySource(key, null);
        }
        Path path = Path.of(file);
        try {
            String content = Files.readString(path, StandardCharsets.UTF_8).strip();
            if (content.isEmpty()) {
                problems.add(envName(fileProperty) + ": the file " + file + " is empty");
            } else if (com.cobalt.chat.credential.AuthHeader.unusableKey(content) != null) {
                problems.add(envName(fileProperty) + ": the key in " + file + " is not usable: "
                        + com.cobalt.chat.credential.AuthHeader.unusableKey(content));
            }
        } catch (IOException | RuntimeException e) {
            problems.add(envName(fileProperty) + ": cannot read the file " + file + " (" + e.getClass().getSimpleName()
                    + ")");
        }
        return new KeySource(null, path);
    }

    /** LLM_PROVIDER_<ID>_WEIGHT: the instance's share under LLM_BALANCE=weighted, 1 by default. */
    private int weight(String id) {
        return nonNegativeInt(ProviderProperties.property(id, "weight"), 1);
    }

    /**
     * Each configured provider's breaker: {@code llm.breaker.<id>.<setting>} wins over {@code llm.breaker.<setting>}.
     * A bad shared setting is named once, a bad per-provider one by its own variable.
     */
    private Map<String, BreakerSettings> breakers(Set<String> providerIds) {
        BreakerSettings d = BreakerSettings.DEFAULTS;
        BreakerSettings shared = breaker("llm.breaker.", d);
        Map<String, BreakerSettings> breakers = new LinkedHashMap<>();
        for (String id : providerIds) {
            breakers.put(id, breaker("llm.breaker." + id + ".", shared));
        }
        return breakers;
    }

    private BreakerSettings breaker(String prefix, BreakerSettings defaults) {
        return new BreakerSettings(
                failureRate(prefix + "failure-rate-threshold", defaults.failureRateThreshold()),
                positiveInt(prefix + "sliding-window-size", defaults.slidingWindowSize()),
                positiveInt(prefix + "minimum-number-of-calls", defaults.minimumNumberOfCalls()),
                positiveLong(prefix + "wait-in-open-ms", defaults.waitInOpenMs()),
                positiveInt(prefix + "permitted-calls-in-half-open-state", defaults.permittedCallsInHalfOpenState()));
    }

    /** A percentage above 0 and at most 100 (Resilience4j's bounds); a decimal such as 12.5 is allowed. */
    private float failureRate(String property, float defaultValue) {
        String v = value(property);
        if (v == null) {
            return defaultValue;
        }
        try {
            float f = Float.parseFloat(v);
            if (f > 0 && f <= 100) {
                return f;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        problems.add(settingName(property) + " must be a percentage above 0 and at most 100, got: " + v);
        return defaultValue;
    }

    /**
     * Prices, {@code <input>,<output>} USD per million tokens, each a number of zero or more: those in the
     * properties files and those of the catalog's models (which the environment alone may set).
     */
    private void prices(CatalogSettings catalog) {
        Set<String> keys = new TreeSet<>(priceKeys);
        if (catalog != null) {
            catalog.models().forEach(m -> {
                keys.add("llm.price." + m.provider() + "." + m.id());
                keys.add("llm.price." + m.provider() + "." + m.upstreamName());
            });
        }
        for (String key : keys) {
            String v = value(key);
            if (v == null) {
                continue;
            }
            String rest = key.substring("llm.price.".length());
            int dot = rest.indexOf('.');
            String[] parts = v.split(",", -1);
            boolean ok = dot > 0 && dot < rest.length() - 1 && (parts.length == 2 || parts.length == 3);
            for (int i = 0; ok && i < parts.length; i++) {
                try {
                    ok = new java.math.BigDecimal(parts[i].trim()).signum() >= 0;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                problems.add(envName(key) + " (" + key + ") must be <input>,<output>[,<cached input>]: two or three"
                        + " numbers of zero or more, USD per million tokens, got: " + v);
            }
        }
    }

    /**
     * A bind address: the one set, else every address (0.0.0.0), or only loopback when auth is disabled. With auth
     * disabled every caller is the user "local": listening beyond loopback then needs an explicit opt-in.
     */
    private String bindAddress(String property, boolean authDisabled, boolean allowRemote) {
        String v = value(property);
        String host = v != null ? v : authDisabled ? "127.0.0.1" : "0.0.0.0";
        if (authDisabled && !isLoopback(host) && !allowRemote) {
            problems.add(envName(property) + "=" + host + " with CHAT_AUTH_DISABLED=true would let anyone who can reach"
                    + " it act as the one user 'local'; listen on 127.0.0.1, or set"
                    + " CHAT_AUTH_DISABLED_ALLOW_REMOTE=true if that is really meant");
        }
        String unusable = v == null ? null : unusableHost(host);
        if (unusable != null) {
            problems.add(envName(property) + "=" + host + ": " + unusable);
        }
        return host;
    }

    /**
     * Why nothing can listen on {@code host} (on any port), or null when something can: a name that does not resolve,
     * or an address this machine does not have. Checked with the settings, so the refusal comes before Camel starts
     * its HTTP servers, which logged an ERROR line of their own and a stack-less "unhandled exception" first.
     */
    static String unusableHost(String host) {
        String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        java.net.InetSocketAddress address = new java.net.InetSocketAddress(literal, 0);
        if (address.isUnresolved()) {
            return "the name does not resolve to an address";
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.bind(address);
            return null;
        } catch (java.io.IOException e) {
            return String.valueOf(e.getMessage()).contains("Cannot assign requested address")
                    ? "not an address of this machine" : null; // anything else is told when the server listens
        }
    }

    public static boolean isLoopback(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    /** An embedded H2 (a file or memory database only this process can open); an H2 server may have other instances. */
    static boolean embeddedH2(String url) {
        String lower = url == null ? "" : url.toLowerCase(Locale.ROOT);
        return lower.startsWith("jdbc:h2:") && !lower.startsWith("jdbc:h2:tcp:")
                && !lower.startsWith("jdbc:h2:ssl:") && !lower.contains("auto_server=true");
    }

    /** CHAT_CHECKPOINT_SECONDS: a positive number of seconds, fractions allowed (tests checkpoint every 0.2 s). */
    private long checkpointMs() {
        String v = value("chat.checkpoint-seconds");
        if (v == null) {
            return 2000;
        }
        try {
            double seconds = Double.parseDouble(v.trim());
            long ms = Math.round(seconds * 1000);
            if (seconds > 0 && ms >= 10 && Double.isFinite(seconds)) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // told below
        }
        problems.add("CHAT_CHECKPOINT_SECONDS must be a positive number of seconds (at least 0.01), got: " + v);
        return -1;
    }

    /**
     * auto: shared unless the database is an embedded H2 (a file or memory database only this process can open);
     * an H2 server (tcp:, ssl:, AUTO_SERVER) may have other instances on it.
     */
    private boolean limitsShared() {
        String value = value("chat.limits.shared");
        if (value == null || value.equalsIgnoreCase("auto")) {
            return !embeddedH2(value("chat.db.url"));
        }
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        problems.add("CHAT_LIMITS_SHARED must be auto, true or false, got: " + value);
        return true;
    }

    /**
     * The built-in providers plus every declared one, by id. A declared id must be well formed, not a built-in one,
     * and name a known kind.
     */
    private Map<String, ProviderKind> providerKinds() {
        Map<String, ProviderKind> kinds = new LinkedHashMap<>(ProviderProperties.BUILT_IN);
        for (String id : declaredProviders) {
            String variable = envName(ProviderProperties.PREFIX + id + ".kind");
            if (!ProviderProperties.ID.matcher(id).matches()) {
                problems.add(variable + ": '" + id + "' is not a provider id (lower case letters, digits and -)");
            } else if (ProviderProperties.BUILT_IN.containsKey(id) || ProviderProperties.ALIASES.containsKey(id)) {
                problems.add(variable + ": " + id + " is a built-in provider; configure it with its own variables");
            } else {
                String kind = value(ProviderProperties.PREFIX + id + ".kind");
                ProviderKind k = ProviderKind.parse(kind).orElse(null);
                if (k == null) {
                    problems.add(variable + "=" + kind + " is not a provider kind; valid: " + ProviderKind.validNames());
                } else {
                    kinds.put(id, k);
                }
            }
        }
        return kinds;
    }

    /** An OpenAI-compatible API: SambaNova, OpenAI, Groq, a local vLLM, ... */
    private ProviderSettings openAi(String id, String role, boolean listed) {
        String baseProperty = ProviderProperties.property(id, "api-base");
        String keyProperty = ProviderProperties.property(id, "api-key");
        String modelProperty = ProviderProperties.singleModel(id, ProviderKind.OPENAI);
        KeySource keys = keySource(id);
        List<String> missing = new ArrayList<>(missing(baseProperty));
        if (ProviderProperties.BUILT_IN.containsKey(id) && !keys.present()) {
            missing.add(envName(keyProperty)); // SambaNova always wants its key (or its file); a local server may take none
        }
        if (!listed) {
            missing.addAll(missing(modelProperty));
        }
        String authProperty = ProviderProperties.property(id, "auth");
        if (value(authProperty) != null && !value(authProperty).equalsIgnoreCase("key")) {
            problems.add(envName(authProperty) + "=" + value(authProperty) + ": only key is possible for a provider of"
                    + " kind openai (entra is for kind azure)");
        }
        if (!missing.isEmpty()) {
            problems.add(role + " needs " + String.join(", ", missing));
            return null;
        }
        String base = httpUrl(baseProperty);
        String header = authHeader(id, "Authorization");
        boolean streamUsage = bool(ProviderProperties.property(id, "stream-usage"), true);
        if (base == null) {
            return null;
        }
        String model = value(modelProperty);
        if (model == null) {
            model = CatalogLoader.firstUpstreamName(value(CatalogLoader.modelsProperty(id)));
        }
        return new ProviderSettings(id, ProviderKind.OPENAI, base + "/chat/completions",
                keys.present() ? header : null, prefixFor(header), keys.key(), model, model, streamUsage, null,
                base + "/models", keys.file(), false, weight(id));
    }

    private ProviderSettings azure(String id, String role, boolean listed) {
        String endpointProperty = ProviderProperties.property(id, "endpoint");
        String keyProperty = ProviderProperties.property(id, "api-key");
        String deploymentProperty = ProviderProperties.singleModel(id, ProviderKind.AZURE);
        String authProperty = ProviderProperties.property(id, "auth");
        String auth = value(authProperty);
        boolean entra = auth != null && auth.equalsIgnoreCase("entra");
        if (auth != null && !entra && !auth.equalsIgnoreCase("key")) {
            problems.add(envName(authProperty) + " must be key or entra, got: " + auth);
        }
        KeySource keys = keySource(id);
        List<String> missing = new ArrayList<>(missing(endpointProperty));
        if (!entra && !keys.present()) {
            missing.add(envName(keyProperty)); // or its file, or AZURE_AI_AUTH=entra (README.md)
        }
        if (!listed) {
            missing.addAll(missing(deploymentProperty));
        }
        if (entra) {
            entraIds.add(id);
            if (keys.present()) {
                problems.add(envName(authProperty) + "=entra sends no key: unset " + envName(keyProperty) + " and "
                        + envName(ProviderProperties.property(id, "api-key-file")));
            }
        }
        if (!missing.isEmpty()) {
            problems.add(role + " needs " + String.join(", ", missing));
            return null;
        }
        String endpoint = azureEndpoint(id, endpointProperty, httpUrl(endpointProperty));
        // an Entra ID token always travels as Authorization: Bearer
        String header = entra ? "Authorization" : authHeader(id, "api-key");
        String usageProperty = ProviderProperties.property(id, "stream-usage");
        Boolean streamUsage = value(usageProperty) == null ? null : bool(usageProperty, true);
        if (endpoint == null) {
            return null;
        }
        String deployment = value(deploymentProperty);
        if (deployment == null) {
            deployment = CatalogLoader.firstUpstreamName(value(CatalogLoader.modelsProperty(id)));
        }
        String key = keys.key();
        Path keyFile = keys.file();
        int weight = weight(id);
        String apiVersion = value(ProviderProperties.property(id, "api-version"));
        if (apiVersion == null) {
            apiVersion = "2024-10-21";
        }
        String prefix = prefixFor(header);
        String lower = endpoint.toLowerCase(Locale.ROOT);
        if (lower.endsWith("/models")) {
            // Foundry model inference: the model goes in the body, its api-version has no stream_options
            return new ProviderSettings(id, ProviderKind.AZURE,
                    endpoint + "/chat/completions?api-version=" + FOUNDRY_MODELS_API_VERSION,
                    header, prefix, key, deployment, deployment, streamUsage != null && streamUsage, null, null,
                    keyFile, entra, weight);
        }
        if (lower.endsWith("/openai/v1")) {
            return new ProviderSettings(id, ProviderKind.AZURE, endpoint + "/chat/completions",
                    header, prefix, key, deployment, deployment, streamUsage == null || streamUsage, null, null,
                    keyFile, entra, weight);
        }
        String deploymentUrl = endpoint + "/openai/deployments/" + ProviderSettings.DEPLOYMENT
                + "/chat/completions?api-version=" + URLEncoder.encode(apiVersion, StandardCharsets.UTF_8);
        String url = deploymentUrl.replace(ProviderSettings.DEPLOYMENT,
                URLEncoder.encode(deployment, StandardCharsets.UTF_8));
        return new ProviderSettings(id, ProviderKind.AZURE, url, header, prefix, key, null, deployment,
                streamUsage != null ? streamUsage : acceptsStreamUsage(apiVersion), deploymentUrl, null, keyFile, entra,
                weight);
    }

    /**
     * The Azure endpoint, or null (with a problem) when it cannot be one of the shapes the gateway appends its own path
     * and api-version to: a query string or fragment, or a path that already names a deployment or the chat
     * completions operation - the Azure portal's "Target URI" pasted whole
     * ({@code https://R.openai.azure.com/openai/deployments/D/chat/completions?api-version=V}), which the gateway turned
     * into {@code ...?api-version=V/openai/deployments/D/chat/completions?api-version=2024-10-21} (black-box probe).
     */
    private String azureEndpoint(String id, String property, String endpoint) {
        if (endpoint == null) {
            return null;
        }
        URI uri = URI.create(endpoint);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().toLowerCase(Locale.ROOT);
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || path.contains("/deployments/")
                || path.endsWith("/chat/completions")) {
            problems.add(envName(property) + " must be the resource's endpoint (https://R.openai.azure.com, with"
                    + " /openai/v1, or https://R.services.ai.azure.com/models), without a deployment, operation or"
                    + " query; the deployment goes in " + envName(ProviderProperties.property(id, "deployment"))
                    + " and the api-version in " + envName(ProviderProperties.property(id, "api-version"))
                    + ", got: " + withoutUserInfo(endpoint.replaceAll("[?#].*", "")) + (uri.getRawQuery() != null
                    ? "?..." : ""));
            return null;
        }
        return endpoint;
    }

    /** The simulator: the built-in demo, or another instance of it (another model name, the same simulator). */
    private ProviderSettings demo(String id) {
        String baseProperty = ProviderProperties.property(id, "api-base");
        String base = httpUrl(value(baseProperty) == null && !id.equals("demo") ? "demo.api-base" : baseProperty);
        if (base == null) {
            return null;
        }
        String model = value(ProviderProperties.singleModel(id, ProviderKind.DEMO));
        String label = model == null ? "cobalt-demo" : model;
        return new ProviderSettings(id, ProviderKind.DEMO, base + "/chat/completions", "Authorization", "Bearer ",
                "demo", label, label, true, null, null, null, false, weight(id));
    }

    /** The header that carries the key: the kind's own by default, or llm.provider.<id>.auth-header. */
    private String authHeader(String id, String kindDefault) {
        String property = ProviderProperties.property(id, "auth-header");
        String v = value(property);
        if (v == null) {
            return kindDefault;
        }
        if (!v.matches("[A-Za-z0-9-]+")) {
            problems.add(envName(property) + " must be an HTTP header name, got: " + v);
            return kindDefault;
        }
        return v;
    }

    /** Authorization carries "Bearer <key>"; any other header carries the key alone. */
    private static String prefixFor(String header) {
        return header.equalsIgnoreCase("Authorization") ? "Bearer " : "";
    }

    /** api-versions from 2024-09-01-preview on accept stream_options; a version that is not a date is taken as new. */
    static boolean acceptsStreamUsage(String apiVersion) {
        Matcher m = API_VERSION_DATE.matcher(apiVersion);
        return !m.find() || m.group(1).compareTo(FIRST_USAGE_API_VERSION) >= 0;
    }

    /** A provider id (or a built-in's alias) that is configured; null, with a problem, otherwise. */
    private String providerId(String property, String defaultValue, Map<String, ProviderKind> kinds) {
        String v = value(property);
        if (v == null) {
            v = defaultValue;
        }
        String id = v.trim().toLowerCase(Locale.ROOT);
        id = ProviderProperties.ALIASES.getOrDefault(id, id);
        if (!kinds.containsKey(id)) {
            problems.add(envName(property) + "=" + v + " is not a provider; valid: " + validProviders(kinds)
                    + " (declare another with LLM_PROVIDER_<ID>_KIND)");
            return null;
        }
        return id;
    }

    static String validProviders(Map<String, ProviderKind> kinds) {
        List<String> names = new ArrayList<>();
        for (String id : kinds.keySet()) {
            List<String> aliases = ProviderProperties.ALIASES.entrySet().stream()
                    .filter(e -> e.getValue().equals(id)).map(Map.Entry::getKey).toList();
            names.add(aliases.isEmpty() ? id : id + " (aliases " + String.join(", ", aliases) + ")");
        }
        return String.join(", ", names);
    }

    /** A URL as it may be shown: credentials in it ({@code user:password@}) replaced by {@code ***}. */
    static String withoutUserInfo(String url) {
        return url.replaceFirst("(?<=//)[^/?#]*@", "***@");
    }

    private String httpUrl(String property) {
        String v = value(property);
        if (v == null) {
            problems.add(envName(property) + " is required");
            return null;
        }
        String trimmed = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
        if (!isHttpUrl(trimmed)) {
            problems.add(envName(property) + " must be an http(s) URL, got: " + withoutUserInfo(v));
            return null;
        }
        return trimmed;
    }

    /** An absolute http:// or https:// URL with a host. */
    private static boolean isHttpUrl(String v) {
        try {
            URI uri = URI.create(v);
            String scheme = uri.getScheme();
            return uri.getHost() != null && scheme != null
                    && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private List<String> missing(String... properties) {
        List<String> missing = new ArrayList<>();
        for (String p : properties) {
            if (value(p) == null) {
                missing.add(envName(p));
            }
        }
        return missing;
    }

    private int positiveInt(String property, int defaultValue) {
        return (int) integer(property, defaultValue, 1, Integer.MAX_VALUE, "a positive integer");
    }

    private long positiveLong(String property, long defaultValue) {
        return integer(property, defaultValue, 1, Long.MAX_VALUE, "a positive integer");
    }

    private int nonNegativeInt(String property, int defaultValue) {
        return (int) integer(property, defaultValue, 0, Integer.MAX_VALUE, "zero or a positive integer");
    }

    private int port(String property, int defaultValue) {
        return (int) integer(property, defaultValue, 1, 65535, "a port number from 1 to 65535");
    }

    /** A whole number in [min, max]; anything else (not a number, a fraction, too large) is named as a problem. */
    private long integer(String property, long defaultValue, long min, long max, String what) {
        String v = value(property);
        if (v == null) {
            return defaultValue;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        problems.add(settingName(property) + " must be " + what + ", got: " + v);
        return defaultValue;
    }

    private boolean bool(String property) {
        return bool(property, false);
    }

    private boolean bool(String property, boolean defaultValue) {
        String v = value(property);
        if (v == null) {
            return defaultValue;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        problems.add(settingName(property) + " must be true or false, got: " + v);
        return false;
    }

    String value(String property) {
        String v = lookup.apply(property);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
