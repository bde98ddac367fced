package com.cobalt.chat.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real process refuses to start on a bad configuration: {@code java com.cobalt.chat.Application} in the
 * repository root with a controlled environment exits with code 2, names every problem in one message, and never
 * prints a key. The three processes start together so the class takes one JVM start, not three.
 */
class StartupRefusalTest {

    static final String SAMBANOVA_KEY = "sk-DISTINCTIVE-123";
    static final String JWT_SECRET = "refusal-test-secret-that-is-long-enough-0123456789";
    static final List<String> CLEARED_PREFIXES =
            List.of("LLM_", "SAMBANOVA_", "AZURE_", "CHAT_", "DEMO_", "HTTP_", "MANAGEMENT_", "CAMEL_", "OTEL_");

    static Run missingVariables;
    static Run unknownProvider;
    static Run demoTwice;
    static Run noDatabase;
    static Run badJwksUrl;
    static Run noVerifier;
    static Run badCatalog;
    static Run badLimits;
    static Run declaredProviders;
    static Run badNumbers;
    static Run badOtlpEndpoint;
    static Run busyManagementPort;
    static Run foreignHosts;
    static Run noSuchDatabase;
    static Run noSuchRole;
    static Run noRights;
    static Run noConnections;
    static com.cobalt.chat.testing.Postgres.Schema noRightsSchema;
    static Run unknownStep;
    static Path badRoutes;
    static java.net.ServerSocket heldPort;
    static final List<Run> runs = new ArrayList<>();

    @BeforeAll
    static void startAll() {
        // held before any run's ports are drawn: bound later, it could take a port a starting run was given
        try {
            heldPort = new java.net.ServerSocket(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> missing = new LinkedHashMap<>();
        missing.put("LLM_PROVIDER", "azure");
        missing.put("LLM_FALLBACK_PROVIDER", "sambanova");
        missing.put("SAMBANOVA_API_KEY", SAMBANOVA_KEY);
        missingVariables = start(missing);

        Map<String, String> unknown = new LinkedHashMap<>();
        unknown.put("LLM_PROVIDER", "sambanovva");
        unknown.put("SAMBANOVA_API_KEY", SAMBANOVA_KEY);
        unknown.put("SAMBANOVA_MODEL", "Meta-Llama-3.3-70B-Instruct");
        unknownProvider = start(unknown);

        Map<String, String> twice = new LinkedHashMap<>();
        twice.put("LLM_PROVIDER", "demo");
        twice.put("LLM_FALLBACK_PROVIDER", "demo");
        demoTwice = start(twice);

        Map<String, String> database = new LinkedHashMap<>();
        database.put("LLM_PROVIDER", "demo");
        database.put("CHAT_DB_URL", "jdbc:postgresql://127.0.0.1:1/nowhere");
        database.put("CHAT_DB_PASSWORD", "db-DISTINCTIVE-456");
        noDatabase = start(database);

        Map<String, String> jwks = new LinkedHashMap<>();
        jwks.put("LLM_PROVIDER", "demo");
        jwks.put("CHAT_JWT_JWKS_URL", "ftp://idp.example.com/jwks.json");
        jwks.put("CHAT_JWT_AUDIENCE", "cobalt-chat");
        badJwksUrl = start(jwks);

        Map<String, String> neither = new LinkedHashMap<>();
        neither.put("LLM_PROVIDER", "demo");
        neither.put("CHAT_JWT_SECRET", null);
        neither.put("CHAT_JWT_ISSUER", "https://idp.example.com/");
        noVerifier = start(neither);

        Map<String, String> catalog = new LinkedHashMap<>();
        catalog.put("LLM_PROVIDER", "sambanova");
        catalog.put("SAMBANOVA_API_KEY", SAMBANOVA_KEY);
        catalog.put("LLM_MODELS_SAMBANOVA", "Meta-Llama-3.3-70B-Instruct, DeepSeek-V3-0324, DeepSeek-V3-0324");
        catalog.put("LLM_MODELS_OPENAI", "gpt-5");
        catalog.put("LLM_MODEL_DEEPSEEK_V3_0324_CONTEXT_WINDOW", "lots");
        catalog.put("LLM_SPLIT", "Meta-Llama-3.3-70B-Instruct:90, gpt-4o:10");
        badCatalog = start(catalog);

        Map<String, String> limits = new LinkedHashMap<>();
        limits.put("LLM_PROVIDER", "demo");
        limits.put("CHAT_LIMITS_SHARED", "maybe");
        badLimits = start(limits);

        Map<String, String> declared = new LinkedHashMap<>();
        declared.put("LLM_PROVIDER", "openai-local");
        declared.put("LLM_FALLBACK_PROVIDER", "azure-west");
        declared.put("LLM_PROVIDER_OPENAI_LOCAL_KIND", "openai");
        declared.put("LLM_PROVIDER_OPENAI_LOCAL_API_KEY", "local-DISTINCTIVE-789");
        declared.put("LLM_PROVIDER_AZURE_WEST_KIND", "azure");
        declared.put("LLM_PROVIDER_AZURE_WEST_ENDPOINT", "not a url");
        declared.put("LLM_PROVIDER_AZURE_WEST_API_KEY", "west-DISTINCTIVE-012");
        declared.put("LLM_PROVIDER_AZURE_WEST_DEPLOYMENT", "gpt-4o");
        declared.put("LLM_PROVIDER_GRPC_THING_KIND", "grpc");
        declared.put("LLM_MODELS_NOWHERE", "m1");
        declaredProviders = start(declared);

        Map<String, String> numbers = new LinkedHashMap<>();
        numbers.put("LLM_PROVIDER", "demo");
        numbers.put("LLM_BREAKER_FAILURE_RATE_THRESHOLD", "abc");
        numbers.put("LLM_BREAKER_DEMO_SLIDING_WINDOW_SIZE", "0");
        numbers.put("HTTP_WORKER_POOL_SIZE", "-1");
        numbers.put("CHAT_DB_POOL_SIZE", "0");
        numbers.put("CHAT_RECORD_THREADS", "eight");
        numbers.put("LLM_CATALOG_CHECK_ENABLED", "yes");
        numbers.put("CHAT_ROUTES_RELOAD", "sometimes"); // Camel binds it before the check: it must not get there first
        numbers.put("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"); // checked apart, and was left out of the refusal
        badNumbers = start(numbers);

        Map<String, String> otel = new LinkedHashMap<>();
        otel.put("LLM_PROVIDER", "demo");
        // no scheme: the exporter would fail on every export, silently; the gateway refuses it at start
        otel.put("OTEL_EXPORTER_OTLP_ENDPOINT", "otel-DISTINCTIVE-345:4318");
        badOtlpEndpoint = start(otel);

        if (com.cobalt.chat.testing.Postgres.available()) {
            String server = com.cobalt.chat.testing.Postgres.URL.replaceAll("^(jdbc:postgresql://[^/]+/).*$", "$1");
            Map<String, String> missingDb = new LinkedHashMap<>();
            missingDb.put("LLM_PROVIDER", "demo");
            missingDb.put("CHAT_DB_URL", server + "cobalt_no_such_database");
            missingDb.put("CHAT_DB_USER", com.cobalt.chat.testing.Postgres.USER);
            noSuchDatabase = start(missingDb);
            Map<String, String> missingRole = new LinkedHashMap<>();
            missingRole.put("LLM_PROVIDER", "demo");
            missingRole.put("CHAT_DB_URL", com.cobalt.chat.testing.Postgres.URL);
            missingRole.put("CHAT_DB_USER", "cobalt_no_such_role");
            missingRole.put("CHAT_DB_PASSWORD", "db-DISTINCTIVE-789");
            noSuchRole = start(missingRole);
            noRightsSchema = com.cobalt.chat.testing.Postgres.newSchema("refusal");
            Map<String, String> withoutRights = new LinkedHashMap<>();
            withoutRights.put("LLM_PROVIDER", "demo");
            withoutRights.put("CHAT_DB_URL", noRightsSchema.url());
            withoutRights.put("CHAT_DB_USER", com.cobalt.chat.testing.Postgres.roleWithoutRights());
            noRights = start(withoutRights);
            Map<String, String> withoutConnections = new LinkedHashMap<>();
            withoutConnections.put("LLM_PROVIDER", "demo");
            withoutConnections.put("CHAT_DB_URL", com.cobalt.chat.testing.Postgres.URL);
            withoutConnections.put("CHAT_DB_USER", com.cobalt.chat.testing.Postgres.roleWithoutConnections());
            noConnections = start(withoutConnections);
        }

        // the project's routes and one more file with a step Camel does not know
        try {
            badRoutes = java.nio.file.Files.createTempDirectory("bad-routes");
            try (var files = java.nio.file.Files.list(Path.of("routes"))) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.copy(f, badRoutes.resolve(f.getFileName()));
                }
            }
            java.nio.file.Files.writeString(badRoutes.resolve("team-route.camel.yaml"), "- route:\n    id: team-route\n"
                    + "    from:\n      uri: direct:team-route\n      steps:\n        - sett Body:\n"
                    + "            constant: x\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> step = new LinkedHashMap<>();
        step.put("LLM_PROVIDER", "demo");
        step.put("CHAT_ROUTES_DIRECTORY", badRoutes.toString());
        unknownStep = start(step);

        Map<String, String> busy = new LinkedHashMap<>();
        busy.put("LLM_PROVIDER", "demo");
        busy.put("MANAGEMENT_PORT", String.valueOf(heldPort.getLocalPort()));
        busyManagementPort = start(busy);

        Map<String, String> hosts = new LinkedHashMap<>();
        hosts.put("LLM_PROVIDER", "demo");
        hosts.put("HTTP_HOST", "192.0.2.1"); // TEST-NET-1 (RFC 5737): never an address of this machine
        hosts.put("MANAGEMENT_HOST", "no-such-host.invalid");
        foreignHosts = start(hosts);
    }

    @AfterAll
    static void stopAll() throws IOException {
        if (heldPort != null) {
            heldPort.close();
        }
        if (noRightsSchema != null) {
            noRightsSchema.close();
        }
        for (Run r : runs) {
            if (r.process.isAlive()) {
                r.process.destroyForcibly();
            }
        }
        if (badRoutes != null) {
            try (var files = java.nio.file.Files.list(badRoutes)) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(badRoutes);
        }
    }

    /**
     * A route file Camel cannot read is refused like a bad setting, naming the file, line and column: it was thrown
     * out of main with a stack trace while the event loops kept the process alive, serving nothing, never exiting
     * (black-box probe, 2026-12-05).
     */
    @Test
    void aRouteFileWithAnUnknownStepIsRefusedByFileAndLineWithExit2() {
        Run r = unknownStep.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Unknown node id: sett Body\n"
                + " in file:" + badRoutes.resolve("team-route.camel.yaml") + ", line 6, column 11:\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }

    @Test
    void missingVariablesOfPrimaryAndFallbackAreNamedInOneMessageAndExitIs2() {
        Run r = missingVariables.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - LLM_PROVIDER=azure needs AZURE_AI_ENDPOINT, AZURE_AI_API_KEY, AZURE_AI_DEPLOYMENT\n"
                + "  - LLM_FALLBACK_PROVIDER=sambanova needs SAMBANOVA_MODEL\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain(SAMBANOVA_KEY).doesNotContain(JWT_SECRET);
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    @Test
    void unknownProviderListsTheValidNamesAndExitIs2() {
        Run r = unknownProvider.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - LLM_PROVIDER=sambanovva is not a provider; valid: sambanova, azure (aliases azureai, azure-ai),"
                + " demo (declare another with LLM_PROVIDER_<ID>_KIND)\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain(SAMBANOVA_KEY).doesNotContain(JWT_SECRET);
    }

    @Test
    void catalogMistakesFromTheEnvironmentAreNamedInOneMessageAndExitIs2() {
        Run r = badCatalog.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - LLM_MODELS_OPENAI names an unknown provider 'openai'; valid: sambanova, azure, demo (declare another with LLM_PROVIDER_<ID>_KIND)\n"
                + "  - LLM_MODELS_SAMBANOVA lists the model DeepSeek-V3-0324 twice\n"
                + "  - LLM_MODEL_DEEPSEEK_V3_0324_CONTEXT_WINDOW must be a positive integer, got: lots\n"
                + "  - LLM_SPLIT: gpt-4o is not in the catalog; valid: Meta-Llama-3.3-70B-Instruct,"
                + " DeepSeek-V3-0324\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain(SAMBANOVA_KEY).doesNotContain(JWT_SECRET);
    }

    @Test
    void demoAsPrimaryAndFallbackIsRefusedWithExit2() {
        Run r = demoTwice.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - LLM_FALLBACK_PROVIDER must differ from LLM_PROVIDER (both are demo)\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain(JWT_SECRET);
    }

    @Test
    void aDatabaseThatCannotBeOpenedIsRefusedInOneLineWithExit2() {
        Run r = noDatabase.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - CHAT_DB_URL: nothing accepts connections at its host and port (ConnectException)\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("db-DISTINCTIVE-456")
                .doesNotContain(JWT_SECRET);
    }

    /** A database that does not exist and a login the server refuses name the setting to mend (ops audit, 2026-12-04). */
    @Test
    void aMissingDatabaseAndARefusedLoginNameTheSettingToMend() {
        org.junit.jupiter.api.Assumptions.assumeTrue(noSuchDatabase != null, "no PostgreSQL server to refuse");
        Run db = noSuchDatabase.await();
        Run role = noSuchRole.await();

        assertThat(db.exitCode).as(db.describe()).isEqualTo(2);
        assertThat(db.stderr).as(db.describe()).contains("Invalid configuration:\n"
                + "  - CHAT_DB_URL: the database it names does not exist (SQLState 3D000)\n");
        assertThat(role.exitCode).as(role.describe()).isEqualTo(2);
        assertThat(role.stderr).as(role.describe()).containsPattern("Invalid configuration:\n"
                + "  - CHAT_DB_USER / CHAT_DB_PASSWORD: the database refused the login \\(SQLState 28[0-9A-Z]{3}\\)\n");
        assertThat(role.stdout + role.stderr).as(role.describe()).doesNotContain("db-DISTINCTIVE-789");
    }

    /**
     * A user the database lets in but grants nothing (here: not the schema, so no migration can run) is told what it
     * needs: it said only "cannot open the database (PSQLException, SQLState 42501)" (data probe, 2026-12-05).
     */
    @Test
    void aUserWithoutTheRightsItNeedsIsToldWhichRights() {
        org.junit.jupiter.api.Assumptions.assumeTrue(noRights != null, "no PostgreSQL server to refuse");
        Run r = noRights.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Invalid configuration:\n"
                + "  - CHAT_DB_USER: the database refused this user a privilege (SQLState 42501): it needs CONNECT on"
                + " the database, and to own or be allowed to create the gateway's tables in its schema (the"
                + " migrations), and to read and write them\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("\tat ");
    }

    /**
     * A server with no connection left for the user (max_connections, or the role's limit: instances times
     * CHAT_DB_POOL_SIZE past it) says so: it said only "cannot open the database (PSQLException, SQLState 53300)".
     */
    @Test
    void aServerWithNoConnectionLeftSaysSoAndWhatToChange() {
        org.junit.jupiter.api.Assumptions.assumeTrue(noConnections != null, "no PostgreSQL server to refuse");
        Run r = noConnections.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Invalid configuration:\n"
                + "  - CHAT_DB_URL: the database server has no connection left for this user (SQLState 53300): raise"
                + " its max_connections or the user's connection limit, or lower CHAT_DB_POOL_SIZE (each instance"
                + " opens up to that many)\n");
    }

    @Test
    void anOtlpEndpointThatIsNotAnHttpUrlIsRefusedByNameWithExit2() {
        Run r = badOtlpEndpoint.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL of an OTLP receiver"
                + " (e.g. http://otel-collector:4318)\n");
        // a collector URL may carry credentials: it is not echoed
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("DISTINCTIVE-345").doesNotContain(JWT_SECRET);
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    /**
     * A management port another process holds refuses the start, like a busy chat port: Camel's server only logged
     * it, and the gateway ran with the other process answering its health checks (black-box audit, 2026-12-04).
     */
    @Test
    void aBusyManagementPortIsRefusedWithExit2() {
        Run r = busyManagementPort.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - MANAGEMENT_PORT=" + heldPort.getLocalPort() + ": cannot listen on 0.0.0.0:"
                + heldPort.getLocalPort() + " (the port is already in use)\n");
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    /**
     * Hosts nothing can listen on are refused with the settings, in the one message and before Camel starts its
     * servers: Camel's own server logged two ERROR lines (an "unhandled exception" among them) before the refusal.
     */
    @Test
    void hostsThatAreNotThisMachinesAreRefusedWithTheSettingsBeforeAnyServerStarts() {
        Run r = foreignHosts.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - HTTP_HOST=192.0.2.1: not an address of this machine\n"
                + "  - MANAGEMENT_HOST=no-such-host.invalid: the name does not resolve to an address\n");
        assertThat(r.stdout).as(r.describe()).doesNotContain(" ERROR ").doesNotContain("HttpServer");
    }

    @Test
    void aJwksUrlThatIsNotHttpIsRefusedWithExit2() {
        Run r = badJwksUrl.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - CHAT_JWT_JWKS_URL must be an http(s) URL, got: ftp://idp.example.com/jwks.json\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain(JWT_SECRET);
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    @Test
    void whereTheLimitsAreCountedMustBeAutoTrueOrFalse() {
        Run r = badLimits.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - CHAT_LIMITS_SHARED must be auto, true or false, got: maybe\n");
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    @Test
    void authWithNeitherSecretNorJwksUrlIsRefusedWithExit2() {
        Run r = noVerifier.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - CHAT_JWT_SECRET or CHAT_JWT_JWKS_URL is required unless CHAT_AUTH_DISABLED=true\n");
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    @Test
    void providersDeclaredInTheEnvironmentAloneAreValidatedInTheSameOneRefusal() {
        Run r = declaredProviders.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe())
                .contains("  - LLM_PROVIDER_GRPC_THING_KIND=grpc is not a provider kind; valid: openai, azure, demo\n")
                .contains("  - LLM_MODELS_NOWHERE names an unknown provider 'nowhere'; valid: sambanova, azure, demo,"
                        + " azure-west, openai-local (declare another with LLM_PROVIDER_<ID>_KIND)\n")
                .contains("  - LLM_PROVIDER=openai-local needs LLM_PROVIDER_OPENAI_LOCAL_API_BASE,"
                        + " LLM_PROVIDER_OPENAI_LOCAL_MODEL\n")
                .contains("  - LLM_PROVIDER_AZURE_WEST_ENDPOINT must be an http(s) URL, got: not a url\n");
        assertThat(r.stdout + r.stderr).as(r.describe()).doesNotContain("local-DISTINCTIVE-789")
                .doesNotContain("west-DISTINCTIVE-012");
    }

    @Test
    void numbersAndBooleansTheBeansAndCamelReadAreRefusedInTheOneMessageWithExit2() {
        Run r = badNumbers.await();

        assertThat(r.exitCode).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr).as(r.describe()).contains("Cobalt Chat Gateway cannot start. Invalid configuration:\n"
                + "  - LLM_BREAKER_FAILURE_RATE_THRESHOLD (llm.breaker.failure-rate-threshold) must be a percentage"
                + " above 0 and at most 100, got: abc\n"
                + "  - LLM_BREAKER_DEMO_SLIDING_WINDOW_SIZE (llm.breaker.demo.sliding-window-size) must be a positive"
                + " integer, got: 0\n"
                + "  - HTTP_WORKER_POOL_SIZE (http.worker-pool-size) must be a positive integer, got: -1\n"
                + "  - CHAT_DB_POOL_SIZE (chat.db.pool-size) must be a positive integer, got: 0\n"
                + "  - CHAT_RECORD_THREADS (chat.record-threads) must be a positive integer, got: eight\n"
                + "  - LLM_CATALOG_CHECK_ENABLED (llm.catalog-check.enabled) must be true or false, got: yes\n"
                + "  - CHAT_ROUTES_RELOAD must be true or false, got: sometimes\n"
                + "  - OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL of an OTLP receiver"
                + " (e.g. http://otel-collector:4318)\n");
        assertThat(r.stderr).as(r.describe()).doesNotContain("Exception");
        assertThat(r.stdout).as(r.describe()).doesNotContain("HttpServer started");
    }

    // --- the process ---

    static Run start(Map<String, String> env) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "com.cobalt.chat.Application");
        pb.directory(Path.of(System.getProperty("user.dir")).toFile());
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> CLEARED_PREFIXES.stream().anyMatch(k::startsWith));
        environment.put("CHAT_JWT_SECRET", JWT_SECRET);
        environment.put("HTTP_PORT", String.valueOf(freePort()));
        environment.put("MANAGEMENT_PORT", String.valueOf(freePort()));
        environment.put("CHAT_DB_URL", "jdbc:h2:mem:refusal");
        // a null value removes the variable (e.g. CHAT_JWT_SECRET, set by default above)
        env.forEach((k, v) -> {
            if (v == null) {
                environment.remove(k);
            } else {
                environment.put(k, v);
            }
        });
        try {
            Run run = new Run(env, pb.start());
            runs.add(run);
            return run;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class Run {
        final Map<String, String> env;
        final Process process;
        final CompletableFuture<String> out;
        final CompletableFuture<String> err;
        Integer exitCode;
        String stdout;
        String stderr;

        Run(Map<String, String> env, Process process) {
            this.env = env;
            this.process = process;
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.out = drain(process.getInputStream());
            this.err = drain(process.getErrorStream());
        }

        Run await() {
            if (stdout != null) {
                return this;
            }
            try {
                boolean exited = process.waitFor(180, TimeUnit.SECONDS); // ten JVMs start at once on two cores
                if (!exited) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                exitCode = exited ? process.exitValue() : null;
                stdout = out.get(10, TimeUnit.SECONDS);
                stderr = err.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("process with " + env + " could not be awaited", e);
            }
            return this;
        }

        String describe() {
            return "java com.cobalt.chat.Application with " + env + " -> exit " + exitCode
                    + "\n--- stderr ---\n" + stderr + "\n--- stdout ---\n" + stdout;
        }

        private static CompletableFuture<String> drain(InputStream in) {
            CompletableFuture<String> text = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try (in) {
                    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                    in.transferTo(buffer);
                    text.complete(buffer.toString(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    text.completeExceptionally(e);
                }
            }, "drain");
            t.setDaemon(true);
            t.start();
            return text;
        }
    }

    static int freePort() {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }
}
