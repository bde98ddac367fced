package com.cobalt.chat.config;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
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

    private SettingsLoader(Function<String, String> lookup) {
        this.lookup = lookup;
    }

    public static GatewaySettings load(Function<String, String> lookup) {
        return load(lookup, Set.of());
    }

    /**
     * @param catalogProviders the provider names found under {@code llm.models.*} (in the properties files and the
     *                         environment), so that a catalog naming an unknown provider is refused
     */
    public static GatewaySettings load(Function<String, String> lookup, Set<String> catalogProviders) {
        SettingsLoader loader = new SettingsLoader(lookup);
        loader.catalogProviders.addAll(catalogProviders);
        return loader.load();
    }

    /** The environment variable that overrides a property: llm.fallback-provider -> LLM_FALLBACK_PROVIDER. */
    public static String envName(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private GatewaySettings load() {
        ProviderName primary = providerName("llm.provider", "sambanova");
        ProviderName fallback = null;
        String fallbackValue = value("llm.fallback-provider");
        if (fallbackValue != null) {
            fallback = providerName("llm.fallback-provider", null);
            if (fallback != null && fallback == primary) {
                problems.add("LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are " + primary.id() + ")");
                fallback = null;
            }
        }

        CatalogLoader catalogLoader = new CatalogLoader(this::value, problems);
        catalogLoader.checkProviderNames(catalogProviders);
        Set<ProviderName> wanted = new LinkedHashSet<>();
        if (primary != null) {
            wanted.add(primary);
        }
        if (fallback != null) {
            wanted.add(fallback);
        }
        wanted.addAll(catalogLoader.providersWithModels());
        Map<ProviderName, ProviderSettings> providers = new EnumMap<>(ProviderName.class);
        for (ProviderName p : wanted) {
            String role = p == primary ? "LLM_PROVIDER=" + p.id() : p == fallback ? "LLM_FALLBACK_PROVIDER=" + p.id()
                    : envName(CatalogLoader.modelsProperty(p));
            ProviderSettings s = switch (p) {
                case SAMBANOVA -> sambanova(role);
                case AZURE -> azure(role);
                case DEMO -> demo();
            };
            if (s != null) {
                providers.put(p, s);
            }
        }

        CatalogSettings catalog = catalogLoader.load(providers);

        int maxTokens = positiveInt("chat.max-tokens", 2048);
        int maxContext = nonNegativeInt("chat.max-context-messages", 20);
        int maxLength = positiveInt("chat.max-message-length", 4000);
        int perMinute = positiveInt("chat.rate-limit-per-minute", 100);
        int perDay = positiveInt("chat.daily-message-quota", 10000);
        int maxStreams = positiveInt("chat.max-concurrent-streams", 4);
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
                problems.add("CHAT_JWT_JWKS_URL must be an http(s) URL, got: " + jwksUrl);
            }
        }
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

        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return new GatewaySettings(primary, fallback, providers, maxTokens, maxContext, maxLength, perMinute, perDay,
                maxStreams, limitsShared, authDisabled, jwtSecret, jwksUrl, jwtIssuer, jwtAudience,
                connectTimeout, headersTimeout, firstTokenTimeout, idleTimeout, maxConnections, errorBodyMax,
                keepAliveMs, maxRetries, retryBase, retryMax, retryBudget, catalog);
    }

    /**
     * auto: shared unless the database is an embedded H2 (a file or memory database only this process can open);
     * an H2 server (tcp:, ssl:, AUTO_SERVER) may have other instances on it.
     */
    private boolean limitsShared() {
        String value = value("chat.limits.shared");
        if (value == null || value.equalsIgnoreCase("auto")) {
            String url = value("chat.db.url");
            String lower = url == null ? "" : url.toLowerCase(Locale.ROOT);
            boolean embeddedH2 = lower.startsWith("jdbc:h2:") && !lower.startsWith("jdbc:h2:tcp:")
                    && !lower.startsWith("jdbc:h2:ssl:") && !lower.contains("auto_server=true");
            return !embeddedH2;
        }
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        problems.add("CHAT_LIMITS_SHARED must be auto, true or false, got: " + value);
        return true;
    }

    private ProviderSettings sambanova(String role) {
        boolean listed = value(CatalogLoader.modelsProperty(ProviderName.SAMBANOVA)) != null;
        List<String> missing = listed ? missing("sambanova.api-base", "sambanova.api-key")
                : missing("sambanova.api-base", "sambanova.api-key", "sambanova.model");
        if (!missing.isEmpty()) {
            problems.add(role + " needs " + String.join(", ", missing));
            return null;
        }
        String base = httpUrl("sambanova.api-base");
        if (base == null) {
            return null;
        }
        String model = value("sambanova.model");
        if (model == null) {
            model = CatalogLoader.firstUpstreamName(value(CatalogLoader.modelsProperty(ProviderName.SAMBANOVA)));
        }
        return new ProviderSettings(ProviderName.SAMBANOVA, base + "/chat/completions", "Authorization", "Bearer ",
                value("sambanova.api-key"), model, model, true, null, base + "/models");
    }

    private ProviderSettings azure(String role) {
        boolean listed = value(CatalogLoader.modelsProperty(ProviderName.AZURE)) != null;
        List<String> missing = listed ? missing("azure.ai.endpoint", "azure.ai.api-key")
                : missing("azure.ai.endpoint", "azure.ai.api-key", "azure.ai.deployment");
        if (!missing.isEmpty()) {
            problems.add(role + " needs " + String.join(", ", missing));
            return null;
        }
        String endpoint = httpUrl("azure.ai.endpoint");
        if (endpoint == null) {
            return null;
        }
        String deployment = value("azure.ai.deployment");
        if (deployment == null) {
            deployment = CatalogLoader.firstUpstreamName(value(CatalogLoader.modelsProperty(ProviderName.AZURE)));
        }
        String key = value("azure.ai.api-key");
        String apiVersion = value("azure.ai.api-version");
        if (apiVersion == null) {
            apiVersion = "2024-10-21";
        }
        String lower = endpoint.toLowerCase(Locale.ROOT);
        if (lower.endsWith("/models")) {
            // Foundry model inference: the model goes in the body, its api-version has no stream_options
            return new ProviderSettings(ProviderName.AZURE,
                    endpoint + "/chat/completions?api-version=" + FOUNDRY_MODELS_API_VERSION,
                    "api-key", "", key, deployment, deployment, false, null, null);
        }
        if (lower.endsWith("/openai/v1")) {
            return new ProviderSettings(ProviderName.AZURE, endpoint + "/chat/completions",
                    "api-key", "", key, deployment, deployment, true, null, null);
        }
        String deploymentUrl = endpoint + "/openai/deployments/" + ProviderSettings.DEPLOYMENT
                + "/chat/completions?api-version=" + URLEncoder.encode(apiVersion, StandardCharsets.UTF_8);
        String url = deploymentUrl.replace(ProviderSettings.DEPLOYMENT,
                URLEncoder.encode(deployment, StandardCharsets.UTF_8));
        return new ProviderSettings(ProviderName.AZURE, url, "api-key", "", key, null, deployment,
                acceptsStreamUsage(apiVersion), deploymentUrl, null);
    }

    private ProviderSettings demo() {
        String base = httpUrl("demo.api-base");
        if (base == null) {
            return null;
        }
        String model = value("demo.model");
        return new ProviderSettings(ProviderName.DEMO, base + "/chat/completions", "Authorization", "Bearer ",
                "demo", model == null ? "cobalt-demo" : model, model == null ? "cobalt-demo" : model, true, null, null);
    }

    /** api-versions from 2024-09-01-preview on accept stream_options; a version that is not a date is taken as new. */
    static boolean acceptsStreamUsage(String apiVersion) {
        Matcher m = API_VERSION_DATE.matcher(apiVersion);
        return !m.find() || m.group(1).compareTo(FIRST_USAGE_API_VERSION) >= 0;
    }

    private ProviderName providerName(String property, String defaultValue) {
        String v = value(property);
        if (v == null) {
            v = defaultValue;
        }
        ProviderName p = ProviderName.parse(v).orElse(null);
        if (p == null) {
            problems.add(envName(property) + "=" + v + " is not a provider; valid: " + ProviderName.validNames());
        }
        return p;
    }

    private String httpUrl(String property) {
        String v = value(property);
        if (v == null) {
            problems.add(envName(property) + " is required");
            return null;
        }
        String trimmed = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
        if (!isHttpUrl(trimmed)) {
            problems.add(envName(property) + " must be an http(s) URL, got: " + v);
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
        int v = integer(property, defaultValue);
        if (v <= 0) {
            problems.add(envName(property) + " must be a positive integer, got: " + value(property));
        }
        return v;
    }

    private int nonNegativeInt(String property, int defaultValue) {
        int v = integer(property, defaultValue);
        if (v < 0) {
            problems.add(envName(property) + " must be zero or a positive integer, got: " + value(property));
        }
        return v;
    }

    private int integer(String property, int defaultValue) {
        String v = value(property);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private boolean bool(String property) {
        String v = value(property);
        if (v == null) {
            return false;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        problems.add(envName(property) + " must be true or false, got: " + v);
        return false;
    }

    String value(String property) {
        String v = lookup.apply(property);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
