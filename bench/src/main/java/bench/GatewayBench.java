package bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The gateway benchmark: a fake OpenAI-compatible upstream and a streaming load generator in this JVM, the gateway
 * as a separate process between them. Every scenario runs through the gateway and directly against the fake in the
 * same run, so the difference is the gateway's own cost on this machine. See bench/README.md.
 */
public final class GatewayBench {

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    private final Map<String, String> args;
    private final Path repo;
    private final Path out;
    private final Map<String, String> gatewayEnv = new LinkedHashMap<>();
    private final StringBuilder report = new StringBuilder();
    private final JsonObject results = new JsonObject();
    private final List<String[]> summary = new ArrayList<>();

    private Vertx fakeVertx;
    private Vertx clientVertx;
    private HttpClient client;
    private FakeUpstream fake;
    private int fakePort;
    /** The fake's TLS port when the gateway calls it over TLS (--upstream-tls on), else 0. */
    private int upstreamTlsPort;
    private GatewayProcess gateway;
    private final AtomicInteger ids = new AtomicInteger();

    /** --production: auth on with one JWT per bench user, the README's limits, sessions with history. */
    private final boolean production;
    /** Production mode's users and their tokens (null: lifted mode, auth off, every call is the user "local"). */
    private Tokens tokens;
    /** Which user's token opens each session (production mode: sessions belong to the user who created them). */
    private final Map<String, String> sessionToken = new java.util.concurrent.ConcurrentHashMap<>();
    /** Production mode: messages of history every /v1 and direct chat carries (20: 10 exchanges), else none. */
    private List<String[]> v1History = List.of();
    /** Production mode: messages stored in each session-API scenario's sessions before it measures. */
    private int prefill;
    /** --database postgres: the fresh database the gateway uses, dropped at the end (null: H2). */
    private String pgDatabase;
    private List<String> scenarioNames;
    /** --gateway-cpus: the taskset CPU list every gateway of the run is pinned to (null: not pinned). */
    private String cpus;

    private GatewayBench(Map<String, String> args, List<String> env) {
        this.args = args;
        this.repo = Path.of(args.getOrDefault("repo", "..")).toAbsolutePath().normalize();
        this.out = Path.of(args.getOrDefault("out", repo.resolve("bench/target").toString())).toAbsolutePath();
        this.production = "true".equals(args.get("production"));
        for (String kv : env) {
            int eq = kv.indexOf('=');
            gatewayEnv.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        List<String> env = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            String key = a.substring(2);
            String value = i + 1 < argv.length && !argv[i + 1].startsWith("--") ? argv[++i] : "true";
            if (key.equals("gateway-env")) {
                env.add(value);
            } else {
                args.put(key, value);
            }
        }
        if ("true".equals(args.get("smoke"))) {
            // tiny numbers: checks that every scenario still runs end to end, measures nothing
            String[] smoke = {"warmup", "10", "warmup-seconds", "2", "warmup-max-seconds", "2", "overhead-chats", "20", "throughput-clients", "5",
                    "throughput-seconds", "2", "throughput-sessions", "20", "capacity-levels", "20,50",
                    "capacity-hold-s", "3", "capacity-ramp-s", "2", "history-levels", "0,2,10", "history-sessions", "5",
                    "jfr", "false", "idle-max-seconds", "5", "warmup-sessions", "20", "burst", "50",
                    "single-user-clients", "5", "single-user-seconds", "2",
                    "cold-runs", "1", "cold-chats", "20"};
            for (int i = 0; i < smoke.length; i += 2) {
                args.putIfAbsent(smoke[i], smoke[i + 1]);
            }
        }
        int totalTimeout = Integer.parseInt(args.getOrDefault("total-timeout-s", "1800"));
        Thread watchdog = new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(totalTimeout);
                System.out.println("BENCH ABORTED: the whole run took longer than " + totalTimeout + " s");
                System.exit(3);
            } catch (InterruptedException done) {
                // finished in time
            }
        }, "bench-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        GatewayBench bench = new GatewayBench(args, env);
        int code;
        try {
            code = bench.run();
        } finally {
            bench.shutdown();
        }
        System.exit(code);
    }

    private int intArg(String name, int def) {
        return Integer.parseInt(args.getOrDefault(name, String.valueOf(def)));
    }

    private List<Integer> intList(String name, String def) {
        List<Integer> l = new ArrayList<>();
        for (String s : args.getOrDefault(name, def).split(",")) {
            if (!s.isBlank()) {
                l.add(Integer.parseInt(s.trim()));
            }
        }
        return l;
    }

    // ------------------------------------------------------------------------------------------------ run

    private int run() throws Exception {
        Files.createDirectories(out);
        Path pidFile = Path.of(args.getOrDefault("pid-file", out.resolve("gateway.pid").toString()));
        fakeVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        // idle pooled connections close after 2 s: a burst of 5000 leaves 5000 of them, two descriptors each in this
        // JVM (client and fake end), and the next burst would run out of file descriptors
        client = clientVertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setKeepAliveTimeout(2)
                .setConnectTimeout(30_000).setMaxInitialLineLength(8192),
                new PoolOptions().setHttp1MaxSize(20_000).setMaxWaitQueueSize(-1));
        fake = new FakeUpstream(fakeVertx);
        String upstreamWrites = args.getOrDefault("upstream-writes", "per-event");
        if (!upstreamWrites.equals("per-event") && !upstreamWrites.equals("whole")) {
            throw new IllegalArgumentException("--upstream-writes per-event|whole, not " + upstreamWrites);
        }
        fake.wholeAnswerInOneWrite(upstreamWrites.equals("whole"));
        fakePort = fake.start();
        if ("on".equals(args.get("upstream-tls"))) {
            // the gateway calls the fake over TLS, as it calls a provider: ALPN offers h2 and http/1.1, the gateway
            // trusts the fake's certificate (made now, for localhost) through LLM_TRUSTED_CA_FILE; the direct path
            // stays on the plain port
            Path tlsDir = Files.createDirectories(out.resolve("upstream-tls"));
            Path pem = FakeUpstream.selfSignedCertificate(tlsDir);
            int tlsPort = fake.startTls(tlsDir.resolve("fake.p12"), FakeUpstream.TLS_PASSWORD);
            upstreamTlsPort = tlsPort;
            gatewayEnv.putIfAbsent("SAMBANOVA_API_BASE", "https://localhost:" + tlsPort + "/v1");
            gatewayEnv.putIfAbsent("LLM_TRUSTED_CA_FILE", pem.toString());
        }

        scenarioNames = List.of(args.getOrDefault("scenarios", production
                ? "overhead,throughput,history,burst" : "overhead,throughput,history,capacity,burst").split(","));
        // production mode: the capacity scenario holds thousands of streams open together, which the default
        // LLM_MAX_CONNECTIONS=500 cannot; it runs there only when asked for (--scenarios ...,capacity), and then
        // with the connection limit lifted as in lifted mode
        List<Integer> capacityLevels = scenarioNames.contains("capacity")
                ? intList("capacity-levels", "100,500,1000,2000,5000") : List.of();
        int maxLevel = capacityLevels.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (!production || maxLevel > 0) {
            // the capacity scenario needs more upstream connections than the default 500 per host
            gatewayEnv.putIfAbsent("LLM_MAX_CONNECTIONS", String.valueOf(Math.max(500, maxLevel + 100)));
        }
        if (!production) {
            // the history scenario reads up to 100 messages of a session
            int maxHistory = intList("history-levels", "0,2,10,20,50,100").stream().mapToInt(Integer::intValue).max()
                    .orElse(20);
            gatewayEnv.putIfAbsent("CHAT_MAX_CONTEXT_MESSAGES", String.valueOf(Math.max(20, maxHistory)));
        } else {
            tokens = new Tokens(intArg("users", 2000));
            gatewayEnv.put("CHAT_JWT_SECRET", tokens.secret);
            prefill = intArg("history-prefill", 20);
            List<String[]> h = new ArrayList<>();
            FakeUpstream.Shape hs = new FakeUpstream.Shape(20, 0, 0, 0, true);
            for (int i = 0; i < prefill / 2; i++) {
                String id = "hist" + i;
                h.add(new String[] {FakeUpstream.content(hs, id), FakeUpstream.expectedText(id, hs.n())});
            }
            v1History = List.copyOf(h);
            if (scenarioNames.contains("single-user")) {
                // one service account at 50 clients: the README's limits (4 streams, 100 a minute) would refuse
                // nearly all of it; a separate run with this user's (every user's) limits raised, still admitted
                // through the ledger on every chat
                gatewayEnv.putIfAbsent("CHAT_RATE_LIMIT_PER_MINUTE", "100000000");
                gatewayEnv.putIfAbsent("CHAT_DAILY_MESSAGE_QUOTA", "100000000");
                gatewayEnv.putIfAbsent("CHAT_MAX_CONCURRENT_STREAMS", "100000000");
            }
        }
        if ("postgres".equals(args.get("database"))) {
            pgDatabase = "cobalt_bench_" + ProcessHandle.current().pid();
            psql("DROP DATABASE IF EXISTS " + pgDatabase);
            psql("CREATE DATABASE " + pgDatabase);
            gatewayEnv.putIfAbsent("CHAT_DB_URL", "jdbc:postgresql://127.0.0.1:5432/" + pgDatabase);
            gatewayEnv.putIfAbsent("CHAT_DB_USER", "postgres");
            gatewayEnv.putIfAbsent("CHAT_DB_PASSWORD", System.getenv().getOrDefault("PGPASSWORD", ""));
            // the per-user limits counted in the database, exact across instances (what several instances need)
            gatewayEnv.putIfAbsent("CHAT_LIMITS_SHARED", "true");
        }

        String load = loadAverage();
        line("# Gateway benchmark results");
        line("");
        line("- date: " + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        line("- **load average at start (1/5/15 min): " + load + "** on " + CORES + " CPUs");
        line("- machine: " + machine());
        line("- java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        line("- gateway commit: " + git("rev-parse", "--short", "HEAD") + " " + git("log", "-1", "--format=%s"));
        Map<String, String> shown = new LinkedHashMap<>(gatewayEnv);
        shown.computeIfPresent("CHAT_JWT_SECRET", (k, v) -> "(random, " + v.length() + " chars)");
        line("- mode: " + (production ? "**production defaults**: auth on (JWT HS256 per request, " + tokens.users()
                + " users round robin), the README's per-user limits, " + prefill + " messages of history in every "
                + "session-API session and every /v1 and direct request" : "**lifted**: demo auth (one user), "
                + "per-user limits lifted, fresh sessions") + "; database: " + (pgDatabase == null
                ? "H2 file in a temp folder" : "PostgreSQL `" + pgDatabase + "` (fresh, shared limits)")
                + "; scenarios: " + scenarioNames);
        line("- the fake provider writes an answer " + ("whole".equals(args.get("upstream-writes"))
                ? "whole, in one HTTP chunk (`--upstream-writes whole`, as before fix 40)"
                : "one SSE event per HTTP chunk, as OpenAI-compatible servers do"));
        line("- gateway env overrides: " + shown);
        if (production && !scenarioNames.contains("single-user")) {
            long perMinute = Long.parseLong(gatewayEnv.getOrDefault("CHAT_RATE_LIMIT_PER_MINUTE", "100"));
            line("- per-user minute limit " + perMinute + " x " + tokens.users() + " users: the load spread round robin "
                    + "stays unrefused up to about " + String.format(Locale.ROOT, "%.0f", perMinute * tokens.users() / 60.0)
                    + " chats/s (over any sixty seconds); any 429 counts as an error (raise `--users` if it shows)");
        }
        results.put("date", ZonedDateTime.now(ZoneOffset.UTC).toString()).put("load_average_at_start", load)
                .put("cpus", CORES).put("machine", machine()).put("gateway_env", new JsonObject(new HashMap<>(shown)))
                .put("mode", production ? "production" : "lifted").put("database", pgDatabase == null ? "h2" : "postgres")
                .put("users", tokens == null ? 1 : tokens.users()).put("history_prefill", prefill)
                .put("commit", git("rev-parse", "--short", "HEAD"))
                .put("upstream_writes", args.getOrDefault("upstream-writes", "per-event"));

        Path log = out.resolve("gateway.log");
        long startNanos = System.nanoTime();
        String jar = "target/cobalt-chat.jar";
        if (!"true".equals(args.get("exact-jar-name"))) {
            Path link = out.resolve("gateway-under-bench.jar");
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, repo.resolve(jar));
            jar = link.toString();
        }
        if (args.get("gateway-java") != null) {
            GatewayProcess.javaCommand = args.get("gateway-java");
            line("- **gateway JVM: `" + GatewayProcess.javaCommand + "`** (`--gateway-java`), "
                    + GatewayProcess.javaVersion(GatewayProcess.javaCommand));
        }
        cpus = args.get("gateway-cpus");
        if (cpus != null) {
            line("- **gateway pinned to CPU(s) " + cpus + "** (`taskset -c " + cpus + "`); the load generator and the "
                    + "fake upstream (this JVM) are not pinned and share the machine's " + CORES + " CPUs with it");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            GatewayProcess g = gateway;
            if (g != null) {
                g.close();
            }
        }, "stop-gateway"));
        Path sharedDb = null;
        if (scenarioNames.contains("cold-start")) {
            sharedDb = coldStarts(jar, pidFile);
            startNanos = System.nanoTime();
        }
        gateway = GatewayProcess.start(repo, jar, fakePort, log, pidFile, !production, gatewayEnv,
                new GatewayProcess.Options(cpus, List.of(), sharedDb));
        if (sharedDb != null) {
            gateway.dbDir = sharedDb;  // the last gateway on the cold starts' database deletes it
        }
        gateway.watchExit();
        gateway.awaitReady(Duration.ofSeconds(120));
        line("- gateway: `" + (cpus == null ? "" : "taskset -c " + cpus + " ") + "java -jar " + jar + "` pid "
                + gateway.pid() + " (CPUs allowed: " + gateway.cpusAllowed() + "), ready in "
                + Stats.ms((System.nanoTime() - startNanos) / 1e6) + " ms, database " + (pgDatabase == null
                ? gateway.databaseDir : "PostgreSQL " + pgDatabase) + "; log " + log);
        gateway.attachJmx();
        line("- fake upstream: 127.0.0.1:" + fakePort + " (this JVM, one event loop); load generator: this JVM, "
                + "Vert.x HTTP client on two event loops. Gateway thread counts include the ~5 threads of the bench's "
                + "JMX attach.");
        line("");

        boolean ok;
        try {
            ok = scenarios(capacityLevels);
        } catch (Exception e) {
            line("");
            line("RUN ABORTED: " + e);
            e.printStackTrace();
            ok = false;
        }
        results.put("all_ok", ok);
        Files.writeString(out.resolve("results.md"), report.toString());
        Files.writeString(out.resolve("results.json"), results.encodePrettily());
        System.out.println();
        System.out.println("(written to " + out.resolve("results.md") + ", " + out.resolve("results.json") + ")");
        return ok ? 0 : 1;
    }

    private boolean scenarios(List<Integer> capacityLevels) throws Exception {
        warmUp();
        boolean ok = true;
        if (scenarioNames.contains("cold-start")) {
            ok &= coldStartReport();
        }
        if (scenarioNames.contains("overhead")) {
            ok &= overhead();
        }
        if (scenarioNames.contains("throughput")) {
            ok &= throughput();
        }
        if (scenarioNames.contains("history")) {
            ok &= history();
        }
        if (scenarioNames.contains("capacity") && !capacityLevels.isEmpty()) {
            ok &= capacity(capacityLevels);
            chart();
        }
        if (scenarioNames.contains("burst")) {
            ok &= firstTokenBurst();
        }
        if (scenarioNames.contains("single-user")) {
            ok &= singleUser();
        }
        line("## Targets");
        line("");
        line("| target | measured | met |");
        line("|---|---|---|");
        JsonArray t = new JsonArray();
        for (String[] row : summary) {
            line("| " + row[0] + " | " + row[1] + " | " + row[2] + " |");
            t.add(new JsonObject().put("target", row[0]).put("measured", row[1]).put("met", row[2]));
        }
        results.put("targets", t);
        line("");
        List<String> problems = gateway.problemLines().stream().filter(l -> !l.contains("CHAT_AUTH_DISABLED")).toList();
        line("Gateway log: " + problems.size() + " WARN/ERROR lines besides the auth-disabled notice"
                + (problems.isEmpty() ? "." : "; first: `" + problems.get(0) + "`"));
        line("");
        if (upstreamTlsPort > 0) {
            line("The gateway called the fake over TLS (port " + upstreamTlsPort + "): " + fake.tlsVersions() + ".");
            line("");
        }
        line(ok ? "RESULT: every stream of every scenario was exact" : "RESULT: some streams FAILED (see above)");
        return ok;
    }

    private void target(String what, String measured, boolean met) {
        summary.add(new String[] {what, measured, met ? "yes" : "**no**"});
    }

    // ------------------------------------------------------------------------------------------------ cold start

    /** The cold-start scenario's sessions (production mode: each holding the prefilled history, one user each). */
    private List<String> coldSessions;
    /** One measured start: which JVM options, time to ready, CPU, the chats right after ready, the log's phases. */
    private record ColdRun(String variant, int run, double readyMs, long cpuToReadyMs, long cpuChatsMs, Cold chats,
                           Map<String, Double> phases, String cpusAllowed, double warmupMs) {
    }
    /** Chats sent one after another, in turn: session API, /v1, direct. */
    private record Cold(List<StreamCall> session, List<StreamCall> v1, List<StreamCall> direct) {
        Lat s() {
            return Lat.of(session);
        }

        Lat v() {
            return Lat.of(v1);
        }

        Lat d() {
            return Lat.of(direct);
        }

        boolean ok() {
            return s().ok == session.size() && v().ok == v1.size() && d().ok == direct.size();
        }

        /** What went wrong with the chats that failed, counted (digits as #), with the first failed position. */
        Map<String, Integer> problems() {
            Map<String, Integer> p = new TreeMap<>();
            for (List<StreamCall> path : List.of(session, v1, direct)) {
                for (int i = 0; i < path.size(); i++) {
                    String why = path.get(i).problem();
                    if (why != null) {
                        p.merge(path.get(i).target + ": " + why.replaceAll("\\d+", "#"), 1, Integer::sum);
                    }
                }
            }
            return p;
        }

        double overhead(Lat path, double p) {
            return path.ttft.pMs(p) - d().ttft.pMs(p);
        }
    }
    private final List<ColdRun> coldRuns = new ArrayList<>();
    private double coldFirstReadyMs;
    private long coldFirstCpuMs;
    private String coldCdsNote = "";
    /** --cold-warmup-chats: chats per path sent right after ready and not measured, before the measured ones. */
    private int coldWarmup;
    /** When the warm-up's concurrent rounds ended (System.nanoTime()). */
    private long warmupLoadEndedNanos;
    /** The cold starts' H2 folder: the main gateway deletes it when it stops; if the run failed before, shutdown(). */
    private Path coldDb;

    /**
     * The cold-start scenario, before the run's main gateway starts: a first start on a fresh database (it migrates
     * the schema; with AppCDS it is also the training run that writes the class archive at exit), which fills the
     * scenario's sessions; then --cold-runs restarts on that database for each JVM variant (default, AppCDS), each
     * measured from fork to the first 200 of /observe/health/ready and then sent --cold-chats chats per path one after
     * another, at once. Returns the database folder the main gateway starts on again.
     */
    private Path coldStarts(String jar, Path pidFile) throws Exception {
        int runs = intArg("cold-runs", 3);
        int n = intArg("cold-chats", 300);
        coldWarmup = intArg("cold-warmup-chats", 0);
        String cds = args.getOrDefault("cold-cds", "both");
        if (!List.of("off", "on", "both", "aot").contains(cds)) {
            throw new IllegalArgumentException("--cold-cds off|on|both|aot, not " + cds);
        }
        // aot: Java 24+'s AOT cache (JEP 483, 514, 515) in place of AppCDS - classes loaded and linked, and the method
        // profiles the training run collected; needs --gateway-java of such a JDK
        boolean aot = "aot".equals(cds);
        // JVM options for every restart (not the first start), e.g. JIT thresholds to try
        List<String> extraJvm = args.getOrDefault("cold-jvm-options", "").isBlank() ? List.of()
                : List.of(args.get("cold-jvm-options").trim().split("\\s+"));
        Path archive = out.resolve(aot ? "gateway.aot" : "gateway-cds.jsa");
        Files.deleteIfExists(archive);
        Path db = Files.createTempDirectory("cobalt-bench-db-");
        coldDb = db;
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        GatewayProcess first = GatewayProcess.start(repo, jar, fakePort, out.resolve("gateway-cold-first.log"), pidFile,
                !production, gatewayEnv, new GatewayProcess.Options(cpus, "off".equals(cds) ? List.of()
                        : List.of((aot ? "-XX:AOTCacheOutput=" : "-XX:ArchiveClassesAtExit=") + archive), db));
        gateway = first;
        coldFirstReadyMs = (first.awaitReadyAt(Duration.ofSeconds(120), 5) - first.startedNanos) / 1e6;
        coldFirstCpuMs = first.cpuMillis();
        coldSessions = createSessions(n);
        // the bench's own client and the fake are warmed here, not in the first run's measured chats; the gateway
        // runs both paths, which is what the class archive then holds
        for (int i = 0; i < Math.max(n, 300); i++) {
            awaitOk(chat("cpd" + i, s, null, null));
            awaitOk(chatOpenAi("cpv" + i, s));
            awaitOk(chat("cpg" + i, s, coldSessions.get(i % n), null));
        }
        requireGatewayAlive("the cold-start scenario's first start");
        // SIGTERM: with -XX:ArchiveClassesAtExit or -XX:AOTCacheOutput the JVM writes the archive as it exits (the AOT
        // cache in a child JVM it waits for)
        first.close(Duration.ofSeconds(120));
        gateway = null;
        List<String> variants = new ArrayList<>();
        if (!"on".equals(cds)) {
            variants.add("default");
        }
        if (aot) {
            if (Files.exists(archive)) {
                variants.add("AOT cache");
                coldCdsNote = "AOT cache: " + Files.size(archive) / MIB + " MiB (" + out.relativize(archive)
                        + ") written by the first start (`-XX:AOTCacheOutput`), used by every AOT-cache start "
                        + "(`-XX:AOTCache`).";
            } else {
                coldCdsNote = "AOT cache: the first start wrote none (" + archive + "); see its log.";
            }
        } else if (!"off".equals(cds)) {
            if (Files.exists(archive)) {
                variants.add("AppCDS");
                coldCdsNote = "AppCDS: a dynamic archive of " + Files.size(archive) / MIB + " MiB ("
                        + out.relativize(archive) + ") written by the first start (`-XX:ArchiveClassesAtExit`), "
                        + "used by every AppCDS start (`-XX:SharedArchiveFile`).";
            } else {
                coldCdsNote = "AppCDS: the first start wrote no archive (" + archive + "); see its log.";
            }
        }
        for (int r = 1; r <= runs; r++) {
            for (String v : variants) {
                List<String> jvm = new ArrayList<>(extraJvm);
                if ("AppCDS".equals(v)) {
                    jvm.add("-XX:SharedArchiveFile=" + archive);
                } else if ("AOT cache".equals(v)) {
                    jvm.add("-XX:AOTCache=" + archive);
                }
                String name = switch (v) {
                    case "AppCDS" -> "cds";
                    case "AOT cache" -> "aot";
                    default -> "default";
                };
                GatewayProcess g = GatewayProcess.start(repo, jar, fakePort,
                        out.resolve("gateway-cold-" + name + "-" + r + ".log"), pidFile, !production, gatewayEnv,
                        new GatewayProcess.Options(cpus, jvm, db));
                gateway = g;
                g.watchExit();
                long readyAt = g.awaitReadyAt(Duration.ofSeconds(120), 5);
                long cpuReady = g.cpuMillis();
                long warmupNanos = 0;
                if (coldWarmup > 0) {
                    // what a warm-up inside the gateway before ready would buy: its chats, not measured, and the time
                    // they take (which ready would be later by)
                    long w0 = System.nanoTime();
                    coldSequence("cx" + name.charAt(0) + r + "-", coldWarmup);
                    warmupNanos = System.nanoTime() - w0;
                }
                Cold c = coldSequence("c" + name.charAt(0) + r + "-", n);
                long cpuChats = g.cpuMillis() - cpuReady;
                requireGatewayAlive("cold start " + r + " (" + v + ")");
                String allowed = g.cpusAllowed();
                g.close();
                gateway = null;
                coldRuns.add(new ColdRun(v, r, (readyAt - g.startedNanos) / 1e6, cpuReady, cpuChats, c,
                        logPhases(g.log, g.startedEpochMs), allowed, warmupNanos / 1e6));
                System.out.printf(Locale.ROOT, "(cold start %d, %s: ready in %.0f ms, %d ms CPU)%n", r, v,
                        (readyAt - g.startedNanos) / 1e6, cpuReady);
            }
        }
        return db;
    }

    /** n chats on each path, one at a time, in turn: session API (the cold-start sessions), /v1, direct. */
    private Cold coldSequence(String prefix, int n) throws Exception {
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        List<StreamCall> gw = new ArrayList<>();
        List<StreamCall> v1 = new ArrayList<>();
        List<StreamCall> direct = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StreamCall g = chat(prefix + "g" + i, s, coldSessions.get(i % coldSessions.size()), null);
            awaitOk(g);
            gw.add(g);
            StreamCall v = chatOpenAi(prefix + "v" + i, s);
            awaitOk(v);
            v1.add(v);
            StreamCall d = chat(prefix + "d" + i, s, null, null);
            awaitOk(d);
            direct.add(d);
        }
        return new Cold(gw, v1, direct);
    }

    private static final java.util.regex.Pattern LOG_TIME =
            java.util.regex.Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d,\\d{3}) ");

    /**
     * Where a start's time went, from its log's timestamps (ms after fork): the first line (JVM and logging up),
     * Flyway's first and last line (the database opened, migrated or validated), Camel's context starting and
     * started (routes, Kamelets, the HTTP servers).
     */
    static Map<String, Double> logPhases(Path log, long startEpochMs) {
        Map<String, Double> out = new LinkedHashMap<>();
        java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss,SSS");
        try {
            for (String line : Files.readAllLines(log)) {
                java.util.regex.Matcher m = LOG_TIME.matcher(line);
                if (!m.find()) {
                    continue;
                }
                double at = java.time.LocalDateTime.parse(m.group(1), f).atZone(java.time.ZoneId.systemDefault())
                        .toInstant().toEpochMilli() - startEpochMs;
                out.putIfAbsent("first log line", at);
                if (line.matches(".* (FlywayExecutor|DbValidate|DbMigrate|JdbcTableSchemaHistory|DbInfo) - .*")) {
                    out.putIfAbsent("Flyway starts", at);
                    out.put("Flyway done", at);
                }
                if (line.contains("AbstractCamelContext - Apache Camel") && line.contains("is starting")) {
                    out.putIfAbsent("Camel context starting", at);
                }
                if (line.contains("AbstractCamelContext - Apache Camel") && line.contains(" started in ")) {
                    out.putIfAbsent("Camel context started", at);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no phases
        }
        return out;
    }

    /** The cold-start scenario's report, once the main gateway is warm: the same sequence warm, and the ratios. */
    private boolean coldStartReport() throws Exception {
        int n = intArg("cold-chats", 300);
        List<String> problemsSeen = new ArrayList<>();
        line("## 0. Cold start: ready, and the first " + n + " chats per path after it");
        line("");
        if (production) {
            // the warm-up's concurrent rounds send some users tens of chats a minute (each of its sessions belongs to
            // one user); the warm sequence starts once their minute has passed, or the README's limit of 100 a
            // minute refuses some of its chats (429)
            long wait = warmupLoadEndedNanos + TimeUnit.SECONDS.toNanos(61) - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
        awaitGatewayIdle(Double.parseDouble(args.getOrDefault("idle-cores", "0.05")), intArg("idle-max-seconds", 60));
        Cold warm = coldSequence("cw-", n);
        requireGatewayAlive("the cold-start scenario's warm sequence");
        line("Each start is `java -jar` on the database the first start migrated (a restart: the schema is there), "
                + "timed from fork to the first 200 of `/observe/health/ready` (polled every 5 ms). Right after ready, "
                + n + " chats per path, one at a time, in turn: session API (" + coldSessions.size() + " sessions"
                + (prefill > 0 ? " holding " + prefill + " stored messages, one user each" : "") + "), `/v1`"
                + (v1History.isEmpty() ? "" : " (" + v1History.size() * 2 + " messages of history)") + ", direct. "
                + "TTFT overhead = gateway TTFT pX minus direct TTFT pX of the same sequence. \"warm\" is the same "
                + "sequence on the main gateway after the warm-up. The first start (fresh database, " + "schema "
                + "migrated" + (coldCdsNote.contains("written") ? ", the training run" : "") + ") was ready in "
                + Stats.ms(coldFirstReadyMs) + " ms (" + coldFirstCpuMs + " ms CPU). " + coldCdsNote
                + (coldWarmup == 0 ? "" : " **--cold-warmup-chats " + coldWarmup + "**: after ready, " + coldWarmup
                + " chats per path (not measured) before the measured ones, as a warm-up inside the gateway before "
                + "ready would send them; the column \"warm-up took\" is what ready would then be later by."));
        line("");
        line("| start | ready (ms) | gateway CPU to ready (ms) | TTFT overhead p50 / p99, session API | same, `/v1` "
                + "| first chat's TTFT, session / `/v1` | gateway CPU over the chats (ms) | warm-up took (ms) | all exact |");
        line("|---|---|---|---|---|---|---|---|---|");
        JsonArray runsJson = new JsonArray();
        boolean ok = warm.ok();
        for (ColdRun r : coldRuns) {
            Cold c = r.chats();
            ok &= c.ok();
            line("| " + r.variant() + " #" + r.run() + " | " + Stats.ms(r.readyMs()) + " | " + r.cpuToReadyMs() + " | "
                    + Stats.ms(c.overhead(c.s(), 50)) + " / " + Stats.ms(c.overhead(c.s(), 99)) + " | "
                    + Stats.ms(c.overhead(c.v(), 50)) + " / " + Stats.ms(c.overhead(c.v(), 99)) + " | "
                    + Stats.ms(ttftNanos(c.session().get(0)) / 1e6) + " / " + Stats.ms(ttftNanos(c.v1().get(0)) / 1e6)
                    + " | " + r.cpuChatsMs() + " | " + (coldWarmup == 0 ? "-" : Stats.ms(r.warmupMs())) + " | "
                    + (c.ok() ? "yes" : "**no**") + " |");
            JsonObject phases = new JsonObject();
            r.phases().forEach(phases::put);
            runsJson.add(new JsonObject().put("variant", r.variant()).put("run", r.run()).put("ready_ms", r.readyMs())
                    .put("cpu_to_ready_ms", r.cpuToReadyMs()).put("cpu_chats_ms", r.cpuChatsMs())
                    .put("cpus_allowed", r.cpusAllowed()).put("phases_ms", phases).put("warmup_chats", coldWarmup)
                    .put("warmup_ms", r.warmupMs())
                    .put("session", c.s().json()).put("openai", c.v().json()).put("direct", c.d().json())
                    .put("ttft_overhead_ms", overheads(c)).put("all_ok", c.ok())
                    .put("problems", new JsonObject(new LinkedHashMap<>(c.problems()))));
        }
        for (ColdRun r : coldRuns) {
            if (!r.chats().ok()) {
                problemsSeen.add(r.variant() + " #" + r.run() + ": " + r.chats().problems());
            }
        }
        line("| warm (after the warm-up) | | | " + Stats.ms(warm.overhead(warm.s(), 50)) + " / "
                + Stats.ms(warm.overhead(warm.s(), 99)) + " | " + Stats.ms(warm.overhead(warm.v(), 50)) + " / "
                + Stats.ms(warm.overhead(warm.v(), 99)) + " | " + Stats.ms(ttftNanos(warm.session().get(0)) / 1e6) + " / "
                + Stats.ms(ttftNanos(warm.v1().get(0)) / 1e6) + " | | | " + (warm.ok() ? "yes" : "**no**") + " |");
        line("");
        if (!warm.ok()) {
            problemsSeen.add("warm: " + warm.problems());
        }
        if (!problemsSeen.isEmpty()) {
            line("Failed chats: " + String.join("; ", problemsSeen));
            line("");
        }
        line("Where the time to ready went (ms after fork, from the gateway log's timestamps, which have the log's "
                + "millisecond resolution): first log line = the JVM and logging up; Flyway = the database opened and "
                + "the schema validated; Camel context = routes, Kamelets and the HTTP servers started; ready = the "
                + "first 200 of `/observe/health/ready`, after the context started.");
        line("");
        line("| start | first log line | Flyway starts | Flyway done | Camel context starting | Camel context started | ready |");
        line("|---|---|---|---|---|---|---|");
        JsonObject summaryJson = new JsonObject();
        for (ColdRun r : coldRuns) {
            StringBuilder row = new StringBuilder("| " + r.variant() + " #" + r.run() + " |");
            for (String phase : List.of("first log line", "Flyway starts", "Flyway done", "Camel context starting",
                    "Camel context started")) {
                row.append(' ').append(Stats.ms(r.phases().getOrDefault(phase, Double.NaN))).append(" |");
            }
            row.append(' ').append(Stats.ms(r.readyMs())).append(" |");
            line(row.toString());
        }
        line("");
        line("Over the runs (median, min - max), and the cold figures against the warm ones:");
        line("");
        line("| figure | " + String.join(" | ", coldRuns.stream().map(ColdRun::variant).distinct().toList())
                + " | warm |");
        line("|---|" + "---|".repeat((int) coldRuns.stream().map(ColdRun::variant).distinct().count()) + "---|");
        double[] warmO = {warm.overhead(warm.s(), 50), warm.overhead(warm.s(), 99), warm.overhead(warm.v(), 50),
                warm.overhead(warm.v(), 99)};
        List<String> figures = List.of("ready (ms)", "gateway CPU to ready (ms)", "TTFT overhead p50, session API (ms)",
                "TTFT overhead p99, session API (ms)", "TTFT overhead p50, `/v1` (ms)", "TTFT overhead p99, `/v1` (ms)");
        Map<String, double[]> medians = new LinkedHashMap<>();
        for (int fi = 0; fi < figures.size(); fi++) {
            StringBuilder row = new StringBuilder("| " + figures.get(fi) + " |");
            for (String v : coldRuns.stream().map(ColdRun::variant).distinct().toList()) {
                int k = fi;
                double[] xs = coldRuns.stream().filter(r -> r.variant().equals(v)).mapToDouble(r -> switch (k) {
                    case 0 -> r.readyMs();
                    case 1 -> r.cpuToReadyMs();
                    case 2 -> r.chats().overhead(r.chats().s(), 50);
                    case 3 -> r.chats().overhead(r.chats().s(), 99);
                    case 4 -> r.chats().overhead(r.chats().v(), 50);
                    default -> r.chats().overhead(r.chats().v(), 99);
                }).toArray();
                double med = median(xs);
                medians.computeIfAbsent(v, x -> new double[figures.size()])[fi] = med;
                row.append(' ').append(Stats.ms(med)).append(" (").append(Stats.ms(Arrays.stream(xs).min().orElse(Double.NaN)))
                        .append(" - ").append(Stats.ms(Arrays.stream(xs).max().orElse(Double.NaN))).append(")");
                if (fi >= 2 && warmO[fi - 2] > 0) {
                    row.append(String.format(Locale.ROOT, ", %.1fx warm", med / warmO[fi - 2]));
                }
                row.append(" |");
                summaryJson.put(v, summaryJson.getJsonObject(v, new JsonObject()).put(figures.get(fi), new JsonObject()
                        .put("median", med).put("min", Arrays.stream(xs).min().orElse(Double.NaN))
                        .put("max", Arrays.stream(xs).max().orElse(Double.NaN))));
            }
            row.append(fi >= 2 ? " " + Stats.ms(warmO[fi - 2]) + " |" : " |");
            line(row.toString());
        }
        line("");
        line("A ratio over a warm overhead well under a millisecond magnifies noise: read the p99 ratios with the "
                + "absolute figures beside them (one stall of a few ms on two shared cores decides a p99 of " + n + ").");
        line("");
        results.put("cold_start", new JsonObject().put("chats_per_path", n).put("first_start_ready_ms", coldFirstReadyMs)
                .put("first_start_cpu_ms", coldFirstCpuMs).put("cds", coldCdsNote).put("runs", runsJson)
                .put("summary", summaryJson).put("warm", new JsonObject().put("session", warm.s().json())
                        .put("openai", warm.v().json()).put("direct", warm.d().json()).put("ttft_overhead_ms", overheads(warm))));
        for (Map.Entry<String, double[]> e : medians.entrySet()) {
            double[] m = e.getValue();
            target("ready in under 2 s (" + e.getKey() + ", median)", Stats.ms(m[0]) + " ms", m[0] < 2000);
            boolean within = true;
            for (int k = 0; k < 4; k++) {
                within &= m[k + 2] <= 2 * Math.max(warmO[k], 0);
            }
            target("first " + n + " chats' TTFT overhead within 2x warm (" + e.getKey() + ", median; p50 and p99, "
                    + "both paths)", String.format(Locale.ROOT, "session %s / %s ms, /v1 %s / %s ms (warm %s / %s, %s / %s)",
                    Stats.ms(m[2]), Stats.ms(m[3]), Stats.ms(m[4]), Stats.ms(m[5]), Stats.ms(warmO[0]), Stats.ms(warmO[1]),
                    Stats.ms(warmO[2]), Stats.ms(warmO[3])), within);
        }
        return ok;
    }

    private static JsonObject overheads(Cold c) {
        return new JsonObject().put("session_p50", c.overhead(c.s(), 50)).put("session_p99", c.overhead(c.s(), 99))
                .put("openai_p50", c.overhead(c.v(), 50)).put("openai_p99", c.overhead(c.v(), 99));
    }

    private static double median(double[] xs) {
        double[] v = Arrays.stream(xs).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    // ------------------------------------------------------------------------------------------------ warm-up

    private void warmUp() throws Exception {
        int n = intArg("warmup", 300);
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        List<String> sessions = createSessions(20);
        int ok = 0;
        for (int i = 0; i < n; i++) {
            ok += awaitOk(chat("w" + i, s, sessions.get(i % sessions.size()), null)) ? 1 : 0;
            awaitOk(chat("dw" + i, s, null, null));
        }
        // Then rounds of 50 concurrent clients, session API and /v1 alternately, until the JIT has (nearly) stopped
        // compiling: on two cores the C2 compiler competes with the gateway itself, and a run that starts while it
        // is still busy measures the compiler as much as the gateway.
        int round = intArg("warmup-seconds", 10);
        int max = intArg("warmup-max-seconds", 240);
        double settled = Double.parseDouble(args.getOrDefault("warmup-jit-settled", "0.05"));
        // production mode: the warm-up's session chats rotate over these sessions, one user each, for up to
        // --warmup-max-seconds; over 500 users a fast gateway sent some of them past the README's 100 chats a minute,
        // and the next scenario's prefill got 429 for them. Half the users spreads them under it.
        List<String> loopSessions = createSessions(intArg("warmup-sessions", warmupSessionsDefault()));
        boolean openAi = !"false".equals(args.get("openai"));
        long chats = 0;
        int elapsed = 0;
        double jitShare = -1;
        List<String> shares = new ArrayList<>();
        do {
            long jit0 = gateway.compileMillis();
            chats += closedLoop(50, round, s, loopSessions, false).lat.ok;
            if (openAi) {
                chats += closedLoop(50, round, s, List.of(OPENAI), false).lat.ok;
            }
            int spent = openAi ? 2 * round : round;
            elapsed += spent;
            long jit1 = gateway.compileMillis();
            jitShare = jit0 < 0 || jit1 < 0 ? -1 : (jit1 - jit0) / (spent * 1000.0);
            shares.add(jitShare < 0 ? "?" : String.format("%.0f%%", 100 * jitShare));
        } while (jitShare > settled && elapsed < max);
        warmupLoadEndedNanos = System.nanoTime();
        closedLoop(10, 2, s, null, false);
        // and the overhead scenario's own shape, one chat at a time on each path: code the concurrent rounds never
        // ran (branches taken only when nothing else is in flight) is compiled here, not in its first measured block
        int sequential = Math.min(100, intArg("warmup-sessions", warmupSessionsDefault()));
        List<String> sequentialSessions = createSessions(sequential);
        for (int i = 0; i < sequential; i++) {
            awaitOk(chat("ws" + i, s, null, null));
            awaitOk(chat("wg" + i, s, sequentialSessions.get(i), null));
            if (openAi) {
                awaitOk(chatOpenAi("wv" + i, s));
            }
        }
        // the fake's per-request traces serve only the capacity scenario's relay lag: hundreds of thousands from the
        // warm-up made this JVM's own young collections pause 70-140 ms, on the clock of whatever chat was running
        fake.clearTraces();
        requireGatewayAlive("the warm-up");
        line("Warm-up (not measured, lets the JIT settle): " + ok + "/" + n + " sequential gateway chats ok, then "
                + elapsed + " s of 50 concurrent clients, session API and `/v1` alternately (" + chats + " chats), "
                + "until the gateway's JIT compilers worked less than " + Math.round(100 * settled) + "% of a round "
                + "(compile time per round: " + String.join(", ", shares) + (jitShare > settled ? "; not settled "
                + "within " + max + " s" : "") + "), then 100 sequential chats on each path as the overhead "
                + "scenario sends them.");
        line("");
    }

    // ------------------------------------------------------------------------------------------------ overhead

    private boolean overhead() throws Exception {
        int n = intArg("overhead-chats", 500);
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        line("## 1. Overhead: " + n + " sequential streamed chats (20 chunks, first token at once, no delay)");
        line("");
        line((production ? "Each gateway chat goes to its own session, of the next user (JWT), holding " + prefill
                + " stored messages (filled through the gateway before the scenario); `/v1` and direct chats carry "
                + v1History.size() * 2 + " messages of history in `messages`. TTFT"
                : "Each gateway chat goes to a fresh session (no history: the minimal session path; the history scenario "
                + "below adds it). TTFT")
                + " = client sent -> client got the first content delta; total = client sent -> "
                + "`[DONE]` (the gateway stores the answer and releases the stream slot before `[DONE]`). The direct "
                + "run sends the same chats straight to the fake.");
        line("");
        List<String> sessions = createSessions(n);
        double idleCores = Double.parseDouble(args.getOrDefault("idle-cores", "0.05"));
        int idleMax = intArg("idle-max-seconds", 60);
        double waited = awaitGatewayIdle(idleCores, idleMax);
        line("The chats start once the gateway is idle (under " + Math.round(100 * idleCores) + "% of a core over 1 s), "
                + "so they do not share the cores with the background work the warm-up left behind (H2 compacting "
                + "its writes, the collector): " + (waited < 0 ? "it was not idle within " + idleMax + " s, measured "
                + "anyway." : "waited " + String.format(Locale.ROOT, "%.0f", waited) + " s."));
        line("");
        List<StreamCall> direct = new ArrayList<>();
        List<StreamCall> gw = new ArrayList<>();
        List<StreamCall> v1 = new ArrayList<>();
        boolean openAi = !"false".equals(args.get("openai"));
        CpuWindow cpuGw = null;
        // interleaved in blocks of 50, so a burst of noise from another process hits both paths alike
        long gwCpu = 0;
        long alloc = 0;
        long allocV1 = 0;
        Map<Long, Long> allocById = new java.util.HashMap<>();
        Map<Long, Long> cpuById = new java.util.HashMap<>();
        for (int b = 0; b < n; b += 50) {
            for (int i = b; i < Math.min(n, b + 50); i++) {
                StreamCall c = chat("o" + i, s, null, null);
                awaitOk(c);
                direct.add(c);
            }
            long cpu0 = gateway.cpuMillis();
            Map<Long, Long> alloc0 = gateway.allocatedBytes();
            Map<Long, Long> threadCpu0 = gateway.cpuNanosByThread();
            for (int i = b; i < Math.min(n, b + 50); i++) {
                StreamCall c = chat("og" + i, s, sessions.get(i), null);
                awaitOk(c);
                gw.add(c);
            }
            gwCpu += gateway.cpuMillis() - cpu0;
            // two JMX reads between the blocks, as before the session API's block: no thread names (a safepoint)
            GatewayProcess.addSince(threadCpu0, gateway.cpuNanosByThread(), cpuById);
            Map<Long, Long> allocV10 = gateway.allocatedBytes();
            Map<Long, Long> allocAdded = new java.util.HashMap<>();
            GatewayProcess.addSince(alloc0, allocV10, allocAdded);
            alloc += allocAdded.values().stream().mapToLong(Long::longValue).sum();
            allocAdded.forEach((id, bytes) -> allocById.merge(id, bytes, Long::sum));
            for (int i = b; openAi && i < Math.min(n, b + 50); i++) {
                StreamCall c = chatOpenAi("ov" + i, s);
                awaitOk(c);
                v1.add(c);
            }
            allocV1 += openAi ? gateway.allocatedSince(allocV10) : 0;
        }
        requireGatewayAlive("the overhead scenario");
        Map<String, Long> allocByThread = gateway.byThreadName(allocById);
        Map<String, Long> cpuByThread = gateway.byThreadName(cpuById);
        Lat d = Lat.of(direct);
        Lat g = Lat.of(gw);
        line("| path | ok | TTFT p50 / p99 / max | total p50 / p99 / max |");
        line("|---|---|---|---|");
        line("| direct (client -> fake) | " + d.ok + "/" + n + " | " + d.ttft.p50p99max() + " | " + d.total.p50p99max() + " |");
        line("| gateway (client -> gateway -> fake) | " + g.ok + "/" + n + " | " + g.ttft.p50p99max() + " | "
                + g.total.p50p99max() + " |");
        double ttft50 = g.ttft.pMs(50) - d.ttft.pMs(50);
        double ttft99 = g.ttft.pMs(99) - d.ttft.pMs(99);
        double tot50 = g.total.pMs(50) - d.total.pMs(50);
        double tot99 = g.total.pMs(99) - d.total.pMs(99);
        line("| **gateway minus direct** | | **" + Stats.ms(ttft50) + " / " + Stats.ms(ttft99) + "** | **"
                + Stats.ms(tot50) + " / " + Stats.ms(tot99) + "** |");
        Lat o = Lat.of(v1);
        if (openAi) {
            line("| gateway /v1/chat/completions (OpenAI-compatible, no session) | " + o.ok + "/" + n + " | "
                    + o.ttft.p50p99max() + " | " + o.total.p50p99max() + " |");
            line("| **/v1 minus direct** | | **" + Stats.ms(o.ttft.pMs(50) - d.ttft.pMs(50)) + " / "
                    + Stats.ms(o.ttft.pMs(99) - d.ttft.pMs(99)) + "** | **" + Stats.ms(o.total.pMs(50) - d.total.pMs(50))
                    + " / " + Stats.ms(o.total.pMs(99) - d.total.pMs(99)) + "** |");
        }
        line("");
        line("Gateway CPU per chat: " + Stats.ms((double) gwCpu / n) + " ms (process user+system time over the "
                + "gateway chats); allocated per chat (all of the gateway's threads, its background work included): "
                + kb(alloc / Math.max(1, n)) + " session API" + (openAi ? ", " + kb(allocV1 / Math.max(1, n)) + " `/v1`" : "")
                + ".");
        line("Allocated per session-API chat by thread: " + allocByThread.entrySet().stream()
                .filter(e -> e.getValue() >= 1024L * n)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> e.getKey() + " " + kb(e.getValue() / Math.max(1, n)))
                .collect(java.util.stream.Collectors.joining("; ")) + ".");
        line("CPU per session-API chat by thread (JVM threads; GC and JIT threads are not among them): "
                + cpuByThread.entrySet().stream()
                .filter(e -> e.getValue() >= 10_000L * n)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> e.getKey() + " " + Stats.ms(e.getValue() / 1e6 / Math.max(1, n)) + " ms")
                .collect(java.util.stream.Collectors.joining("; ")) + ".");
        int stored = verifyStored(sessions, gw, s);
        line("Stored: " + stored + "/" + n + " sessions hold the user message and the exact answer as `complete`.");
        line("");
        results.put("overhead", new JsonObject().put("chats", n).put("idle_wait_s", waited).put("direct", d.json())
                .put("gateway", g.json().put("slowest_ttft_positions", slowestPositions(gw)))
                .put("ttft_overhead_ms", new JsonObject().put("p50", ttft50).put("p99", ttft99))
                .put("total_overhead_ms", new JsonObject().put("p50", tot50).put("p99", tot99))
                .put("gateway_cpu_ms_per_chat", (double) gwCpu / n).put("allocated_bytes_per_chat", alloc / Math.max(1, n))
                .put("allocated_bytes_per_v1_chat", allocV1 / Math.max(1, n))
                .put("stored_ok", stored).put("openai", openAi ? o.json().put("slowest_ttft_positions", slowestPositions(v1)) : null));
        target("TTFT overhead p50 <= 1 ms", Stats.ms(ttft50) + " ms", ttft50 <= 1);
        target("TTFT overhead p99 <= 5 ms", Stats.ms(ttft99) + " ms", ttft99 <= 5);
        return d.ok == n && g.ok == n && stored == n && (!openAi || o.ok == n);
    }

    /**
     * Waits until the gateway used less than {@code cores} of CPU over one second, at most {@code maxSeconds}; the
     * seconds it waited, or -1 if it never got there. Sleeping is the measurement here: a one-second CPU window.
     */
    private double awaitGatewayIdle(double cores, int maxSeconds) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + maxSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            long cpu0 = gateway.cpuMillis();
            long t0 = System.nanoTime();
            Thread.sleep(1000);
            long cpu1 = gateway.cpuMillis();
            if (cpu0 < 0 || cpu1 < 0) {
                return -1;
            }
            if ((cpu1 - cpu0) / ((System.nanoTime() - t0) / 1e6) < cores) {
                return (System.nanoTime() - start) / 1e9;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------------------------------------ throughput

    private boolean throughput() throws Exception {
        int clients = intArg("throughput-clients", 50);
        int seconds = intArg("throughput-seconds", 15);
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        line("## 2. Throughput: " + clients + " concurrent clients, each sending streamed chats back to back for "
                + seconds + " s (20 chunks, no delay)");
        line("");
        List<String> sessions = createSessions(intArg("throughput-sessions", production ? tokens.users() : 3000));
        line("Gateway chats rotate over " + sessions.size() + " sessions (" + (production ? prefill
                + " stored messages each before the run, one user each; `/v1` and direct chats carry " + v1History.size() * 2
                + " messages of history" : "a few exchanges of history each") + "). "
                + "Latency = client sent -> `[DONE]`.");
        line("");
        fake.clearTraces();
        CpuWindow wd = new CpuWindow();
        Loop direct = closedLoop(clients, seconds, s, null, false);
        String cpuD = wd.summary();
        boolean jfr = !"false".equals(args.get("jfr"));
        Path jfrFile = out.resolve("throughput-gateway.jfr");
        fake.clearTraces();
        CpuWindow wg = new CpuWindow();
        Loop gw = closedLoop(clients, seconds, s, sessions, false);
        String cpuG = wg.summary();
        boolean openAi = !"false".equals(args.get("openai"));
        Loop v1 = null;
        long ledgerCounted = -1;
        String cpuV1 = null;
        if (openAi) {
            long before = ledgerAnswers();
            fake.clearTraces();
            CpuWindow wv = new CpuWindow();
            v1 = closedLoop(clients, seconds, s, List.of(OPENAI), false);
            cpuV1 = wv.summary();
            ledgerCounted = awaitLedger(before + v1.lat.ok) - before;
        }
        boolean profileV1 = "v1".equals(args.get("jfr-run"));
        if (jfr) {
            // a separate session-API (or --jfr-run v1: /v1) run under JFR, after the measured ones: the profiler's own cost stays out of
            // the figures above
            Files.deleteIfExists(jfrFile);
            gateway.jcmd("JFR.start", "name=bench-throughput", "settings=profile", "filename=" + jfrFile);
            closedLoop(clients, seconds, s, profileV1 ? List.of(OPENAI) : sessions, false);
            gateway.jcmd("JFR.stop", "name=bench-throughput");
        }
        String asyncProfiler = args.get("async-profiler");
        if (asyncProfiler != null) {
            // the same extra run under async-profiler (a libasyncProfiler.so, e.g. from the Maven artifact
            // tools.profiler:async-profiler): CPU samples with the kernel's and the JVM's own frames, which JFR leaves out.
            // The options in single quotes: jcmd would read "event=cpu" as an argument of its own
            Path collapsed = out.resolve("throughput-gateway.collapsed");
            Files.deleteIfExists(collapsed);
            line("async-profiler start: " + gateway.jcmd("JVMTI.agent_load", asyncProfiler,
                    "'start,event=cpu,interval=1ms,threads'").strip().replace('\n', ' '));
            closedLoop(clients, seconds, s, profileV1 ? List.of(OPENAI) : sessions, false);
            gateway.jcmd("JVMTI.agent_load", asyncProfiler, "'stop,collapsed,threads,file=" + collapsed + "'");
            line("async-profiler: " + (Files.exists(collapsed) ? collapsed : "no output") + " (" + (profileV1 ? "/v1"
                    : "session API") + ")");
        }
        requireGatewayAlive("the throughput scenario");
        line("| path | chats ok | errors | chats/s | latency p50 / p99 / max | TTFT p50 / p99 |");
        line("|---|---|---|---|---|---|");
        Map<String, Loop> rows = new LinkedHashMap<>();
        rows.put("direct (client -> fake)", direct);
        rows.put("gateway (session API)", gw);
        if (v1 != null) {
            rows.put("gateway /v1/chat/completions (OpenAI-compatible)", v1);
        }
        for (Map.Entry<String, Loop> e : rows.entrySet()) {
            Loop l = e.getValue();
            line("| " + e.getKey() + " | " + l.lat.ok + " | " + l.errors + " | " + String.format(Locale.ROOT, "%.0f",
                    l.rate()) + " | " + l.lat.total.p50p99max() + " | " + Stats.ms(l.lat.ttft.pMs(50)) + " / "
                    + Stats.ms(l.lat.ttft.pMs(99)) + " |");
        }
        line("");
        l("CPU, direct run: " + cpuD + ".");
        l("CPU, gateway run: " + cpuG + ".");
        if (cpuV1 != null) {
            l("CPU, /v1 run: " + cpuV1 + ".");
        }
        if (!gw.problems.isEmpty()) {
            line("Gateway errors: " + gw.problems);
        }
        if (v1 != null) {
            line("Usage ledger: " + ledgerCounted + "/" + v1.lat.ok + " ok /v1 answers counted (GET /api/v1/usage)."
                    + (v1.problems.isEmpty() ? "" : " /v1 errors: " + v1.problems));
        }
        line("");
        JsonObject j = new JsonObject().put("clients", clients).put("seconds", seconds).put("direct", direct.json())
                .put("gateway", gw.json()).put("cpu_direct", cpuD).put("cpu_gateway", cpuG)
                .put("openai", v1 == null ? null : v1.json().put("ledger_counted", ledgerCounted));
        if (jfr && Files.exists(jfrFile)) {
            Profile p = Profile.read(jfrFile);
            p.lines("a " + (profileV1 ? "/v1" : "session-API") + " throughput run after the measured ones ("
                    + jfrFile.getFileName()
                    + ", JFR settings=profile)").forEach(this::line);
            line("");
            j.put("profile", p.json());
        }
        results.put("throughput", j);
        target("streamed chats/s at " + clients + " clients >= 1,500", String.format(Locale.ROOT, "session API %.0f/s "
                + "(p99 %s ms)%s, direct %.0f/s", gw.rate(), Stats.ms(gw.lat.total.pMs(99)), v1 == null ? ""
                : String.format(Locale.ROOT, "; /v1 %.0f/s (p99 %s ms)", v1.rate(), Stats.ms(v1.lat.total.pMs(99))),
                direct.rate()), gw.rate() >= 1500);
        return gw.errors == 0 && direct.errors == 0 && (v1 == null || (v1.errors == 0 && ledgerCounted >= v1.lat.ok));
    }

    /** In closedLoop's sessions: send to the OpenAI-compatible endpoint instead of a session. */
    private static final String OPENAI = "<openai>";
    /** In closedLoop's sessions: send to the OpenAI-compatible endpoint, always as the first bench user. */
    private static final String OPENAI_ONE_USER = "<openai-one-user>";

    /** Closed loop: each client sends its next chat when the previous one ended. Sessions null: direct. */
    private Loop closedLoop(int clients, int seconds, FakeUpstream.Shape s, List<String> sessions, boolean keep)
            throws Exception {
        ConcurrentLinkedQueue<StreamCall> done = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        AtomicInteger next = new AtomicInteger();
        CompletableFuture<?>[] finished = new CompletableFuture<?>[clients];
        for (int c = 0; c < clients; c++) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            finished[c] = f;
            Runnable[] loop = new Runnable[1];
            loop[0] = () -> {
                if (System.nanoTime() >= end) {
                    f.complete(null);
                    return;
                }
                int i = next.getAndIncrement();
                String session = sessions == null ? null : sessions.get(i % sessions.size());
                StreamCall call = OPENAI.equals(session) ? chatOpenAi("tv" + ids.incrementAndGet(), s)
                        : OPENAI_ONE_USER.equals(session) ? chatOpenAi("tu" + ids.incrementAndGet(), s,
                                tokens == null ? null : tokens.user(0))
                        : chat((sessions == null ? "td" : "tg") + ids.incrementAndGet(), s, session, null);
                call.done.whenComplete((v, t) -> {
                    if (System.nanoTime() <= end) {
                        done.add(call);
                    }
                    loop[0].run();
                });
            };
            loop[0].run();
        }
        CompletableFuture.allOf(finished).get(seconds + 120L, TimeUnit.SECONDS);
        return new Loop(new ArrayList<>(done), seconds);
    }

    private static final class Loop {
        final Lat lat;
        final int errors;
        final double seconds;
        final Map<String, Integer> problems = new TreeMap<>();

        Loop(List<StreamCall> calls, double seconds) {
            this.lat = Lat.of(calls);
            this.seconds = seconds;
            int e = 0;
            for (StreamCall c : calls) {
                String p = c.problem();
                if (p != null) {
                    e++;
                    problems.merge(p.replaceAll("\\d+", "#"), 1, Integer::sum);
                }
            }
            this.errors = e;
        }

        double rate() {
            return lat.ok / seconds;
        }

        JsonObject json() {
            return lat.json().put("errors", errors).put("chats_per_s", rate());
        }
    }

    // ------------------------------------------------------------------------------------------------ history

    private boolean history() throws Exception {
        List<Integer> levels = intList("history-levels", "0,2,10,20,50,100");
        int n = intArg("history-sessions", 50);
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        line("## 3. Session path: history of 0 to " + levels.get(levels.size() - 1) + " messages");
        line("");
        line("For each level, " + n + " sessions are first filled (through the gateway) to that many stored messages, "
                + "then one chat per session is measured, sequentially; the direct run sends the fake the same "
                + "messages (the history plus the new one). Level 0 is the minimal session (nothing to read); every "
                + "level has the same writes (admission, user message, answer, usage, release). The gateway reads "
                + "up to CHAT_MAX_CONTEXT_MESSAGES=" + gatewayEnv.getOrDefault("CHAT_MAX_CONTEXT_MESSAGES", "20 (default)") + " messages."
                + (production ? " Production mode: the direct chats carry the same history as the session." : ""));
        line("");
        List<String> sessions = createSessions(n, 0);
        java.util.concurrent.ExecutorService fillers = java.util.concurrent.Executors.newFixedThreadPool(8);
        int[] stored = new int[n];
        List<List<String[]>> hist = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            hist.add(new ArrayList<>());
        }
        line("| history messages | direct TTFT p50 / p99 | gateway TTFT p50 / p99 | TTFT overhead p50 / p99 | "
                + "total overhead p50 | gateway CPU / chat | allocated / chat |");
        line("|---|---|---|---|---|---|---|");
        JsonArray rows = new JsonArray();
        boolean ok = true;
        for (int level : levels) {
            // fill every session to the level (each chat stores 2 messages), 8 sessions at a time
            bounded(n, 8, i -> CompletableFuture.supplyAsync(() -> {
                try {
                    while (stored[i] + 2 <= level) {
                        String id = "hf" + ids.incrementAndGet();
                        StreamCall c = chat(id, s, sessions.get(i), null);
                        if (!awaitOk(c)) {
                            throw new IllegalStateException("fill chat failed: " + c.problem());
                        }
                        synchronized (hist) {
                            hist.get(i).add(new String[] {FakeUpstream.content(s, id), c.text.toString()});
                        }
                        stored[i] += 2;
                    }
                    return null;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, fillers), Duration.ofSeconds(300));
            List<StreamCall> d = new ArrayList<>();
            List<StreamCall> g = new ArrayList<>();
            long cpu = 0;
            Map<Long, Long> alloc0 = gateway.allocatedBytes();
            for (int i = 0; i < n; i++) {
                StreamCall dc = chat("hd" + ids.incrementAndGet(), s, null, hist.get(i));
                awaitOk(dc);
                d.add(dc);
                long c0 = gateway.cpuMillis();
                String id = "hg" + ids.incrementAndGet();
                StreamCall gc = chat(id, s, sessions.get(i), null);
                awaitOk(gc);
                cpu += gateway.cpuMillis() - c0;
                g.add(gc);
                hist.get(i).add(new String[] {FakeUpstream.content(s, id), gc.text.toString()});
                stored[i] += 2;
            }
            long alloc = gateway.allocatedSince(alloc0);
            Lat ld = Lat.of(d);
            Lat lg = Lat.of(g);
            ok &= ld.ok == n && lg.ok == n;
            int effective = Math.min(level, Integer.parseInt(gatewayEnv.getOrDefault("CHAT_MAX_CONTEXT_MESSAGES", "20")));
            double o50 = lg.ttft.pMs(50) - ld.ttft.pMs(50);
            double o99 = lg.ttft.pMs(99) - ld.ttft.pMs(99);
            double t50 = lg.total.pMs(50) - ld.total.pMs(50);
            line("| " + level + (lg.ok < n ? " (" + lg.ok + "/" + n + " ok)" : "") + " | " + Stats.ms(ld.ttft.pMs(50))
                    + " / " + Stats.ms(ld.ttft.pMs(99)) + " | " + Stats.ms(lg.ttft.pMs(50)) + " / "
                    + Stats.ms(lg.ttft.pMs(99)) + " | " + Stats.ms(o50) + " / " + Stats.ms(o99) + " | " + Stats.ms(t50)
                    + " | " + Stats.ms((double) cpu / n) + " ms | " + kb(alloc / n) + " |");
            rows.add(new JsonObject().put("history_messages", level).put("context_messages", effective)
                    .put("direct", ld.json()).put("gateway", lg.json()).put("ttft_overhead_p50_ms", o50)
                    .put("ttft_overhead_p99_ms", o99).put("total_overhead_p50_ms", t50)
                    .put("gateway_cpu_ms_per_chat", (double) cpu / n).put("allocated_bytes_per_chat", alloc / n));
        }
        fillers.shutdown();
        requireGatewayAlive("the history scenario");
        line("");
        results.put("history", rows);
        return ok;
    }

    // ------------------------------------------------------------------------------------------------ capacity

    private boolean capacity(List<Integer> levels) throws Exception {
        int hold = intArg("capacity-hold-s", 30);
        int ramp = intArg("capacity-ramp-s", 20);
        int ttft = intArg("capacity-ttft-ms", 0);
        FakeUpstream.Shape s = new FakeUpstream.Shape(hold + ramp, ttft, 1000, 0, true);
        line("## 4. Capacity: N streams opened at once, all N open together for " + hold + " s (the slow upstream sends "
                + "1 chunk/s: first token " + ttft + " ms after the headers, then " + (hold + ramp - 1) + " more, so a "
                + "stream lasts about " + (hold + ramp) + " s: the " + hold + " s plus " + ramp + " s for the burst to get in)");
        line("");
        line("A route worker is held per request until the provider's first token (the synchronous circuitBreaker, "
                + "see README), so how fast a burst gets in is HTTP_WORKER_POOL_SIZE / time to first token; "
                + "`--capacity-ttft-ms` sets the fake's first-token delay here (default 0: this scenario measures "
                + "holding open streams, the throughput scenario measures admitting new ones).");
        line("");
        int max = levels.stream().mapToInt(Integer::intValue).max().orElse(0);
        List<String> sessions = createSessions(max);
        line("Per level: the direct burst, then the gateway burst (one session per stream). `open` = the most "
                + "answers open at the fake at once; `all open after` = burst start -> the fake has all N open; "
                + "threads / heap / RSS are sampled every 500 ms during the burst (threads: live JVM threads; heap: "
                + "used, and the live set after a full GC taken while all N were open); `relay lag` = the fake wrote "
                + "a chunk -> the client got it, over all chunks. `threads with N open` is the last sample while all N "
                + "were open (the route workers that admitted the burst have ended by then if they idled "
                + "HTTP_WORKER_KEEP_ALIVE_SECONDS); `peak` is the most during the burst.");
        line("");
        line("| N | path | ok | open | all open after | TTFT p50 / p99 | relay lag p50 / p99 | threads with N open / peak "
                + "| heap peak / live with N open | RSS peak |");
        line("|---|---|---|---|---|---|---|---|---|---|");
        JsonArray rows = new JsonArray();
        int largest = 0;
        JsonObject atLargest = null;
        boolean allOk = true;
        for (int level : levels) {
            awaitFakeIdle();
            TimeUnit.SECONDS.sleep(5);
            Burst d = burst(level, s, null);
            line(d.row());
            awaitFakeIdle();
            TimeUnit.SECONDS.sleep(5);
            Burst g = burst(level, s, sessions);
            line(g.row());
            JsonObject row = new JsonObject().put("streams", level).put("direct", d.json()).put("gateway", g.json());
            rows.add(row);
            boolean passed = g.ok == level && d.ok == level;
            allOk &= passed;
            if (passed) {
                largest = level;
                atLargest = g.json();
            } else if (!g.problems.isEmpty()) {
                line("|   gateway problems: " + g.problems + " | | | | | | | | | |");
            }
            requireGatewayAlive("the capacity scenario at " + level);
        }
        line("");
        line("Largest N with zero errors: **" + largest + "**" + (atLargest == null ? "" : " (gateway with N open: "
                + atLargest.getInteger("threads_all_open") + " live threads, heap live " + atLargest.getLong("heap_live_mb")
                + " MiB / peak " + atLargest.getLong("heap_peak_mb") + " MiB, RSS peak " + atLargest.getLong("rss_peak_mb")
                + " MiB)") + ".");
        line("");
        results.put("capacity", new JsonObject().put("hold_s", hold).put("ramp_s", ramp).put("ttft_ms", ttft).put("levels", rows)
                .put("largest_ok", largest));
        int target = 5000;
        JsonObject at = null;
        for (Object o : rows) {
            JsonObject r = (JsonObject) o;
            if (r.getInteger("streams") == target) {
                at = r.getJsonObject("gateway");
            }
        }
        if (at == null) {
            target("5,000 open streams, zero errors, heap <= 512 MiB, < 100 threads", "not run (levels " + levels + ")", false);
        } else {
            boolean met = at.getInteger("ok") == target && at.getLong("heap_peak_mb") <= 512
                    && at.getInteger("threads_all_open") < 100;
            target("5,000 open streams, zero errors, heap <= 512 MiB, < 100 threads", at.getInteger("ok") + "/" + target
                    + " ok, heap peak " + at.getLong("heap_peak_mb") + " MiB (live " + at.getLong("heap_live_mb")
                    + "), threads " + at.getInteger("threads_all_open") + " with all open (peak "
                    + at.getInteger("threads_peak") + ")", met);
        }
        return allOk;
    }

    private record Burst(String path, int level, int ok, int open, double allOpenMs, Lat lat, Stats lag, int threadsAllOpen,
                         int threadsPeak, long heapPeak, long heapLive, long rssPeak, Map<String, Integer> problems) {
        String row() {
            boolean gw = path.equals("gateway");
            return "| " + level + " | " + path + " | " + ok + "/" + level + " | " + open + " | "
                    + (Double.isNaN(allOpenMs) ? "never" : Stats.ms(allOpenMs / 1000) + " s") + " | "
                    + Stats.ms(lat.ttft.pMs(50)) + " / " + Stats.ms(lat.ttft.pMs(99)) + " | " + Stats.ms(lag.pMs(50))
                    + " / " + Stats.ms(lag.pMs(99)) + " | " + (gw ? threadsAllOpen + " / " + threadsPeak : "") + " | "
                    + (gw ? heapPeak / MIB + " / " + (heapLive < 0 ? "-" : heapLive / MIB) + " MiB" : "") + " | "
                    + (gw ? rssPeak / MIB + " MiB" : "") + " |";
        }

        JsonObject json() {
            return lat.json().put("ok", ok).put("max_open_at_fake", open).put("all_open_after_ms", Double.isNaN(allOpenMs)
                            ? null : allOpenMs).put("relay_lag_p50_ms", lag.pMs(50)).put("relay_lag_p99_ms", lag.pMs(99))
                    .put("threads_all_open", threadsAllOpen).put("threads_peak", threadsPeak)
                    .put("heap_peak_mb", heapPeak / MIB).put("heap_live_mb", heapLive < 0 ? null : heapLive / MIB)
                    .put("rss_peak_mb", rssPeak / MIB).put("problems", new JsonObject(new HashMap<>(problems)));
        }
    }

    private static final long MIB = 1024 * 1024;

    private Burst burst(int level, FakeUpstream.Shape s, List<String> sessions) throws Exception {
        boolean gw = sessions != null;
        fake.clearTraces();
        fake.resetMaxActive();
        List<StreamCall> calls = new ArrayList<>(level);
        long t0 = System.nanoTime();
        for (int i = 0; i < level; i++) {
            calls.add(chat((gw ? "cg" : "cd") + ids.incrementAndGet(), s, gw ? sessions.get(i) : null, null));
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(calls.stream().map(c -> c.done).toArray(CompletableFuture[]::new));
        double allOpen = Double.NaN;
        int threadsAllOpen = -1;
        int threadsPeak = 0;
        long heapPeak = 0;
        long heapLive = -1;
        long rssPeak = 0;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(s.n() + 120L);
        while (!all.isDone() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(500);
            int open = fake.active();
            if (gw) {
                int th = gateway.liveThreads();
                threadsPeak = Math.max(threadsPeak, th);
                long[] h = gateway.heap();
                if (h != null) {
                    heapPeak = Math.max(heapPeak, h[0]);
                }
                rssPeak = Math.max(rssPeak, gateway.procStatus()[1] * 1024);
                if (open >= level) {
                    threadsAllOpen = th;
                    if (Double.isNaN(allOpen)) {
                        allOpen = (System.nanoTime() - t0) / 1e6;
                        heapLive = gateway.heapAfterGc();
                    }
                }
            } else if (open >= level && Double.isNaN(allOpen)) {
                allOpen = (System.nanoTime() - t0) / 1e6;
            }
        }
        if (!all.isDone()) {
            calls.forEach(StreamCall::abort);
        }
        int maxOpen = fake.resetMaxActive();
        if (Double.isNaN(allOpen) && maxOpen >= level) {
            allOpen = -1; // reached between two samples
        }
        Lat lat = Lat.of(calls);
        List<Long> lag = new ArrayList<>();
        Map<String, Integer> problems = new TreeMap<>();
        for (StreamCall c : calls) {
            String p = c.problem();
            if (p != null) {
                problems.merge(p.replaceAll("\\d+", "#"), 1, Integer::sum);
                continue;
            }
            FakeUpstream.Trace t = fake.trace(c.id);
            if (t != null) {
                for (int k = 0; k < c.deltas; k++) {
                    lag.add(c.deltaNanos[k] - t.deltaWriteNanos()[k]);
                }
            }
        }
        if (gw && threadsAllOpen < 0) {
            threadsAllOpen = threadsPeak;
        }
        return new Burst(gw ? "gateway" : "direct", level, lat.ok, maxOpen, allOpen, lat, new Stats(lag), threadsAllOpen,
                threadsPeak, heapPeak, heapLive, rssPeak, problems);
    }

    // ------------------------------------------------------------------------------------------------ burst

    /**
     * N new /v1 chats at once against a provider whose first token comes 500 ms after the request: how many got
     * their first token within 1.5 s of the burst start, errors, and the gateway's live threads sampled every 50 ms
     * (JMX) - the peak, while the burst is admitted, not after the worker pool idled out.
     */
    private boolean firstTokenBurst() throws Exception {
        int n = intArg("burst", 5000);
        int ttft = intArg("burst-ttft-ms", 500);
        long withinMs = intArg("burst-within-ms", 1500);
        FakeUpstream.Shape s = new FakeUpstream.Shape(5, ttft, 0, 0, true);
        line("## 5. Burst: " + n + " new chats at once, first token " + ttft + " ms after the request");
        line("");
        line("All " + n + " requests are sent at once (`/v1/chat/completions`" + (tokens == null ? ""
                + ", demo auth" : ", each with the next user's JWT and " + v1History.size() * 2 + " messages of history")
                + "; 5 chunks, then `[DONE]`); direct first, then the gateway. `in time` = first token within " + withinMs
                + " ms of the burst start; threads = the gateway's live JVM threads, sampled every 50 ms over JMX "
                + "(before the burst / peak). LLM_MAX_CONNECTIONS = " + gatewayEnv.getOrDefault("LLM_MAX_CONNECTIONS",
                "500 (default)") + ": requests beyond it wait for a pooled upstream connection.");
        line("");
        line("| path | ok | errors | first token in time | TTFT p50 / p99 / max | threads before / peak | all done after |");
        line("|---|---|---|---|---|---|---|");
        JsonObject j = new JsonObject().put("chats", n).put("ttft_ms", ttft).put("within_ms", withinMs);
        boolean ok = true;
        for (boolean gw : new boolean[] {false, true}) {
            awaitFakeIdle();
            fake.clearTraces();
            int before = gw ? gateway.liveThreads() : 0;
            List<StreamCall> calls = new ArrayList<>(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                calls.add(gw ? chatOpenAi("bg" + ids.incrementAndGet(), s) : chat("bd" + ids.incrementAndGet(), s, null, null));
            }
            CompletableFuture<Void> all = CompletableFuture.allOf(calls.stream().map(c -> c.done)
                    .toArray(CompletableFuture[]::new));
            int peak = before;
            long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
            while (!all.isDone() && System.nanoTime() < deadline) {
                if (gw) {
                    peak = Math.max(peak, gateway.liveThreads());
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
            double doneMs = (System.nanoTime() - t0) / 1e6;
            if (!all.isDone()) {
                calls.forEach(StreamCall::abort);
            }
            Lat lat = Lat.of(calls);
            int inTime = 0;
            Map<String, Integer> problems = new TreeMap<>();
            for (StreamCall c : calls) {
                String p = c.problem();
                if (p != null) {
                    problems.merge(p.replaceAll("\\d+", "#"), 1, Integer::sum);
                } else if (c.deltaNanos[0] - t0 <= TimeUnit.MILLISECONDS.toNanos(withinMs)) {
                    inTime++;
                }
            }
            int errors = n - lat.ok;
            line("| " + (gw ? "gateway `/v1`" : "direct (client -> fake)") + " | " + lat.ok + "/" + n + " | " + errors
                    + " | " + inTime + "/" + n + " | " + lat.ttft.p50p99max() + " | " + (gw ? before + " / " + peak : "")
                    + " | " + (all.isDone() ? Stats.ms(doneMs / 1000) + " s" : "not within 120 s") + " |");
            if (!problems.isEmpty()) {
                line("|   problems: " + problems + " | | | | | | |");
            }
            j.put(gw ? "gateway" : "direct", lat.json().put("errors", errors).put("first_token_in_time", inTime)
                    .put("threads_before", gw ? before : null).put("threads_peak", gw ? peak : null)
                    .put("all_done_ms", doneMs).put("problems", new JsonObject(new HashMap<>(problems))));
            ok &= errors == 0;
            if (gw) {
                target(n + " new chats at once (first token after " + ttft + " ms): all within " + withinMs
                        + " ms, zero errors, < 100 live threads at the peak", inTime + "/" + n + " in time, " + errors
                        + " errors, peak " + peak + " threads", inTime == n && errors == 0 && peak < 100);
            }
            requireGatewayAlive("the burst scenario");
        }
        line("");
        results.put("burst", j);
        return ok;
    }

    // ------------------------------------------------------------------------------------------------ single user

    /** One service account: many clients, all the same user, through /v1: its admissions per second. */
    private boolean singleUser() throws Exception {
        int clients = intArg("single-user-clients", 50);
        int seconds = intArg("single-user-seconds", 15);
        FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
        line("## 6. One service account: " + clients + " clients, all one user, through `/v1`, " + seconds + " s closed loop");
        line("");
        line("Every chat is admitted and released through the per-user limits of one user ("
                + (pgDatabase == null ? "H2, in memory" : "the shared ledger in PostgreSQL") + "); in this run the "
                + "three per-user limits are raised (CHAT_RATE_LIMIT_PER_MINUTE, CHAT_DAILY_MESSAGE_QUOTA, "
                + "CHAT_MAX_CONCURRENT_STREAMS = " + gatewayEnv.get("CHAT_RATE_LIMIT_PER_MINUTE") + ") so that the "
                + "figure is how fast one user can be admitted, not the limit's value" + (v1History.isEmpty() ? ""
                : "; each request carries " + v1History.size() * 2 + " messages of history") + ".");
        line("");
        fake.clearTraces();
        CpuWindow w = new CpuWindow();
        Loop l = closedLoop(clients, seconds, s, List.of(OPENAI_ONE_USER), false);
        String cpu = w.summary();
        requireGatewayAlive("the single-user scenario");
        line("| path | chats ok | errors | chats/s | latency p50 / p99 / max | TTFT p50 / p99 |");
        line("|---|---|---|---|---|---|");
        line("| gateway `/v1`, one user | " + l.lat.ok + " | " + l.errors + " | " + String.format(Locale.ROOT, "%.0f",
                l.rate()) + " | " + l.lat.total.p50p99max() + " | " + Stats.ms(l.lat.ttft.pMs(50)) + " / "
                + Stats.ms(l.lat.ttft.pMs(99)) + " |");
        line("");
        l("CPU: " + cpu + ".");
        if (!l.problems.isEmpty()) {
            line("Errors: " + l.problems);
        }
        line("");
        results.put("single_user", l.json().put("clients", clients).put("seconds", seconds).put("cpu", cpu));
        target("one user through `/v1` >= 1,000 chats/s" + (pgDatabase == null ? "" : " (shared ledger)"),
                String.format(Locale.ROOT, "%.0f/s, %d errors", l.rate(), l.errors), l.rate() >= 1000 && l.errors == 0);
        return l.errors == 0;
    }

    /** Runs one statement as the postgres user on 127.0.0.1 (creates and drops the bench's own database). */
    private static void psql(String sql) throws Exception {
        Process p = new ProcessBuilder("psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql)
                .redirectErrorStream(true).start();
        String outText = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("psql -c '" + sql + "' failed: " + outText.trim());
        }
    }

    private void awaitFakeIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (fake.active() > 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    // ------------------------------------------------------------------------------------------------ chart

    private void chart() throws Exception {
        JsonArray cap = results.getJsonObject("capacity") == null ? new JsonArray()
                : results.getJsonObject("capacity").getJsonArray("levels");
        JsonArray hist = results.getJsonArray("history", new JsonArray());
        int nc = cap.size();
        double[] x = new double[nc];
        double[] gTtft = new double[nc];
        double[] dTtft = new double[nc];
        double[] gLag = new double[nc];
        double[] heapPeak = new double[nc];
        double[] heapLive = new double[nc];
        double[] rss = new double[nc];
        double[] threads = new double[nc];
        for (int i = 0; i < nc; i++) {
            JsonObject r = cap.getJsonObject(i);
            JsonObject g = r.getJsonObject("gateway");
            x[i] = r.getInteger("streams");
            gTtft[i] = g.getJsonObject("ttft_ms").getDouble("p99");
            dTtft[i] = r.getJsonObject("direct").getJsonObject("ttft_ms").getDouble("p99");
            gLag[i] = g.getDouble("relay_lag_p99_ms");
            heapPeak[i] = g.getLong("heap_peak_mb");
            heapLive[i] = g.getLong("heap_live_mb") == null ? Double.NaN : g.getLong("heap_live_mb");
            rss[i] = g.getLong("rss_peak_mb");
            threads[i] = g.getInteger("threads_all_open");
        }
        int nh = hist.size();
        double[] hx = new double[nh];
        double[] o50 = new double[nh];
        double[] o99 = new double[nh];
        double[] cpu = new double[nh];
        for (int i = 0; i < nh; i++) {
            JsonObject r = hist.getJsonObject(i);
            hx[i] = r.getInteger("history_messages");
            o50[i] = r.getDouble("ttft_overhead_p50_ms");
            o99[i] = r.getDouble("ttft_overhead_p99_ms");
            cpu[i] = r.getDouble("gateway_cpu_ms_per_chat");
        }
        Path png = out.resolve("scaling.png");
        Chart.write(png, List.of(
                new Chart.Panel("Open streams: latency (slow upstream, 1 chunk/s)", "concurrent open streams", "ms",
                        List.of(new Chart.Series("gateway TTFT p99", x, gTtft), new Chart.Series("direct TTFT p99", x, dTtft),
                                new Chart.Series("gateway relay lag p99", x, gLag))),
                new Chart.Panel("Open streams: gateway memory and threads", "concurrent open streams", "MiB / threads",
                        List.of(new Chart.Series("heap peak", x, heapPeak), new Chart.Series("heap live", x, heapLive),
                                new Chart.Series("RSS peak", x, rss), new Chart.Series("live threads", x, threads))),
                new Chart.Panel("History per session: gateway cost", "history messages", "ms",
                        List.of(new Chart.Series("TTFT overhead p50", hx, o50), new Chart.Series("TTFT overhead p99", hx, o99),
                                new Chart.Series("gateway CPU per chat", hx, cpu)))));
        line("Chart: " + png);
        line("");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** TTFT and total latency of the successful calls. */
    /** Where in the sequence (0 = first chat) the ten slowest first tokens were: the first of a block of 50 or any? */
    private static io.vertx.core.json.JsonArray slowestPositions(List<StreamCall> calls) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).ok()) {
                order.add(i);
            }
        }
        order.sort((a, b) -> Long.compare(ttftNanos(calls.get(b)), ttftNanos(calls.get(a))));
        return new io.vertx.core.json.JsonArray(order.subList(0, Math.min(10, order.size())));
    }

    private static long ttftNanos(StreamCall c) {
        return c.deltaNanos[0] - c.sendNanos;
    }

    private record Lat(int ok, Stats ttft, Stats total) {
        static Lat of(List<StreamCall> calls) {
            List<Long> ttft = new ArrayList<>();
            List<Long> total = new ArrayList<>();
            int ok = 0;
            for (StreamCall c : calls) {
                if (c.ok()) {
                    ok++;
                    ttft.add(c.deltaNanos[0] - c.sendNanos);
                    total.add(c.endNanos - c.sendNanos);
                }
            }
            return new Lat(ok, new Stats(ttft), new Stats(total));
        }

        JsonObject json() {
            return new JsonObject().put("ok", ok).put("ttft_ms", ttft.json()).put("total_ms", total.json());
        }
    }

    private final class CpuWindow {
        private final long wall0 = System.nanoTime();
        private final long gw0 = gateway.cpuMillis();
        private final long bench0 = GatewayProcess.cpuMillis(ProcessHandle.current().pid());
        private final long machine0 = GatewayProcess.machineCpuMillis()[0];

        String summary() {
            double wallMs = (System.nanoTime() - wall0) / 1e6;
            long gw = gateway.cpuMillis() - gw0;
            long bench = GatewayProcess.cpuMillis(ProcessHandle.current().pid()) - bench0;
            long machine = GatewayProcess.machineCpuMillis()[0] - machine0;
            long others = Math.max(0, machine - gw - bench);
            return String.format(Locale.ROOT, "gateway %.2f cores, bench (client + fake) %.2f cores, other processes "
                    + "%.2f cores, machine %.0f%% busy over %.1f s", gw / wallMs, bench / wallMs, others / wallMs,
                    100.0 * machine / (wallMs * CORES), wallMs / 1000);
        }
    }

    private void requireGatewayAlive(String during) {
        if (!gateway.alive()) {
            String why = "THE GATEWAY PROCESS EXITED during " + during + " at " + gateway.exitedAt + " (see "
                    + gateway.log + ")";
            line(why);
            throw new IllegalStateException(why);
        }
    }

    /** A chat through the gateway (session given) or straight to the fake (history: earlier user/assistant pairs). */
    private StreamCall chat(String id, FakeUpstream.Shape s, String session, List<String[]> history) {
        StreamCall c = new StreamCall(id, s.n(), session != null ? StreamCall.Target.GATEWAY : StreamCall.Target.DIRECT);
        if (session != null) {
            c.bearer = sessionToken.get(session);
            c.start(client, "127.0.0.1", gateway.httpPort, "/api/v1/chat/sessions/" + session + "/messages",
                    StreamCall.gatewayBody(id, s));
        } else {
            JsonArray messages = new JsonArray();
            if (history == null) {
                history = v1History;  // production mode: the same history a /v1 chat carries
            }
            if (history != null) {
                for (String[] h : history) {
                    messages.add(new JsonObject().put("role", "user").put("content", h[0]));
                    messages.add(new JsonObject().put("role", "assistant").put("content", h[1]));
                }
            }
            messages.add(new JsonObject().put("role", "user").put("content", FakeUpstream.content(s, id)));
            String body = new JsonObject().put("model", "bench").put("stream", true).put("max_tokens", 2048)
                    .put("stream_options", new JsonObject().put("include_usage", true)).put("messages", messages).encode();
            c.start(client, "127.0.0.1", fakePort, "/v1/chat/completions", body);
        }
        return c;
    }

    /** A chat through the gateway's OpenAI-compatible endpoint: the very request an OpenAI client sends. */
    private StreamCall chatOpenAi(String id, FakeUpstream.Shape s) {
        return chatOpenAi(id, s, tokens == null ? null : tokens.next());
    }

    /** The same as one user (production mode: token is that user's JWT; null: auth off). */
    private StreamCall chatOpenAi(String id, FakeUpstream.Shape s, String token) {
        StreamCall c = new StreamCall(id, s.n(), StreamCall.Target.OPENAI);
        c.bearer = token;
        c.start(client, "127.0.0.1", gateway.httpPort, "/v1/chat/completions", StreamCall.directBody(id, s, v1History));
        return c;
    }

    private long ledgerAnswers() throws Exception {
        // production mode: the admin's totals over every user (group_by=user); lifted mode: the one user "local"
        Reply r = call(HttpMethod.GET, "/api/v1/usage?from=2000-01-01&to=2100-01-01" + (tokens == null ? ""
                : "&group_by=user"), null, tokens == null ? null : tokens.admin).get(30, TimeUnit.SECONDS);
        if (r.status() != 200) {
            throw new IllegalStateException("GET /api/v1/usage: " + r.status() + " " + r.body());
        }
        return new JsonObject(r.body()).getJsonObject("total").getLong("answers");
    }

    /** Polls the usage ledger (answers are recorded after their stream ended) until it holds expected, or 20 s. */
    private long awaitLedger(long expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long seen = ledgerAnswers();
        while (seen < expected && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(250);
            seen = ledgerAnswers();
        }
        return seen;
    }

    private static boolean awaitOk(StreamCall c) throws Exception {
        try {
            c.done.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            c.abort();
            return false;
        }
        return c.ok();
    }

    private record Reply(int status, String body) {
    }

    private final java.net.http.HttpClient control = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private CompletableFuture<Reply> call(HttpMethod method, String path, String body, String token) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + gateway.httpPort + path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
        if (token != null) {
            b = b.header("Authorization", "Bearer " + token);
        }
        b = body == null ? b.method(method.name(), java.net.http.HttpRequest.BodyPublishers.noBody())
                : b.method(method.name(), java.net.http.HttpRequest.BodyPublishers.ofString(body));
        return control.sendAsync(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
                .handle((r, t) -> {
                    if (t != null) {
                        throw new IllegalStateException(method + " " + path + " -> " + t, t);
                    }
                    return new Reply(r.statusCode(), r.body());
                });
    }

    /** Runs count tasks with at most parallel in flight; results in index order. */
    private static <T> List<T> bounded(int count, int parallel, IntFunction<CompletableFuture<T>> task,
                                       Duration timeout) throws Exception {
        List<CompletableFuture<T>> res = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            res.add(new CompletableFuture<>());
        }
        AtomicInteger next = new AtomicInteger();
        Runnable[] worker = new Runnable[1];
        worker[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= count) {
                return;
            }
            CompletableFuture<T> f;
            try {
                f = task.apply(i);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((v, t) -> {
                if (t != null) {
                    res.get(i).completeExceptionally(t);
                } else {
                    res.get(i).complete(v);
                }
                worker[0].run();
            });
        };
        for (int w = 0; w < Math.min(parallel, count); w++) {
            worker[0].run();
        }
        CompletableFuture.allOf(res.toArray(new CompletableFuture[0])).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        List<T> outList = new ArrayList<>(count);
        for (CompletableFuture<T> f : res) {
            outList.add(f.get());
        }
        return outList;
    }

    private int warmupSessionsDefault() {
        return tokens == null ? 500 : Math.max(500, tokens.users() / 2);
    }

    private List<String> createSessions(int count) throws Exception {
        return createSessions(count, prefill);
    }

    /**
     * Sessions for a session-API scenario; production mode: each of the next user's (round robin), then filled
     * through the gateway with history messages (one chat stores 2), 16 sessions at a time, before anything is
     * measured.
     */
    private List<String> createSessions(int count, int history) throws Exception {
        List<String> sessions = bounded(count, 16, i -> {
            String token = tokens == null ? null : tokens.next();
            return call(HttpMethod.POST, "/api/v1/chat/sessions", "{\"title\":\"bench\"}", token)
                .thenApply(r -> {
                    if (r.status() != 201) {
                        throw new IllegalStateException("POST /api/v1/chat/sessions: " + r.status() + " " + r.body());
                    }
                    String id = new JsonObject(r.body()).getString("id");
                    if (token != null) {
                        sessionToken.put(id, token);
                    }
                    return id;
                });
        }, Duration.ofSeconds(300));
        if (history >= 2) {
            FakeUpstream.Shape s = new FakeUpstream.Shape(20, 0, 0, 0, true);
            bounded(count, 16, i -> fill(sessions.get(i), s, history / 2), Duration.ofSeconds(900));
        }
        return sessions;
    }

    /** exchanges chats into session, one after another (the gateway stores user message and answer of each). */
    private CompletableFuture<Void> fill(String session, FakeUpstream.Shape s, int exchanges) {
        if (exchanges == 0) {
            return CompletableFuture.completedFuture(null);
        }
        StreamCall c = chat("pf" + ids.incrementAndGet(), s, session, null);
        return c.done.thenCompose(done -> {
            if (!done.ok()) {
                throw new IllegalStateException("history prefill chat failed: " + done.problem());
            }
            return fill(session, s, exchanges - 1);
        });
    }

    /** Sessions (one chat each) whose stored user message and answer are exact and complete; polls up to 20 s. */
    private int verifyStored(List<String> sessions, List<StreamCall> calls, FakeUpstream.Shape s) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<Boolean> good = bounded(sessions.size(), 16, i -> call(HttpMethod.GET, "/api/v1/chat/sessions/"
                    + sessions.get(i), null, sessionToken.get(sessions.get(i))).thenApply(r -> {
                        if (r.status() != 200) {
                            return false;
                        }
                        JsonArray m = new JsonObject(r.body()).getJsonArray("messages");
                        String id = calls.get(i).id;
                        int k = prefill - prefill % 2;  // the prefilled history comes first
                        return m != null && m.size() == k + 2 && FakeUpstream.content(s, id).equals(m.getJsonObject(k)
                                .getString("content")) && "complete".equals(m.getJsonObject(k + 1).getString("status"))
                                && FakeUpstream.expectedText(id, s.n()).equals(m.getJsonObject(k + 1).getString("content"));
                    }), Duration.ofSeconds(120));
            int n = (int) good.stream().filter(b -> b).count();
            if (n == sessions.size() || System.nanoTime() > deadline) {
                return n;
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
    }

    private String git(String... a) {
        try {
            List<String> cmd = new ArrayList<>(List.of("git", "-C", repo.toString()));
            cmd.addAll(Arrays.asList(a));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return s;
        } catch (Exception e) {
            return "?";
        }
    }

    static String loadAverage() {
        try {
            return String.join(" ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
        } catch (Exception e) {
            return "n/a";
        }
    }

    private static String machine() {
        StringBuilder sb = new StringBuilder();
        sb.append(CORES).append(" CPUs");
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    sb.append(" (").append(l.substring(l.indexOf(':') + 1).trim()).append(")");
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    sb.append(", ").append(Long.parseLong(l.substring(9).trim().split("\\s+")[0]) / 1024 / 1024)
                            .append(" GiB RAM");
                }
            }
            sb.append(", Linux ").append(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
        } catch (Exception ignored) {
            // not Linux
        }
        return sb.toString();
    }

    private static String kb(long bytes) {
        return String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }

    private void line(String s) {
        System.out.println(s);
        report.append(s).append('\n');
    }

    private void l(String s) {
        line(s);
        line("");
    }

    private void shutdown() {
        if (gateway != null) {
            gateway.close();
        }
        if (coldDb != null && Files.isDirectory(coldDb) && (gateway == null || !gateway.alive())) {
            try (var files = Files.walk(coldDb)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temp folder
            }
        }
        if (pgDatabase != null) {
            try {
                psql("DROP DATABASE IF EXISTS " + pgDatabase);
            } catch (Exception e) {
                System.out.println("could not drop the bench database " + pgDatabase + ": " + e);
            }
        }
        try {
            if (client != null) {
                client.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
            if (fake != null) {
                fake.stop();
            }
        } catch (Exception ignored) {
            // exiting anyway
        }
        if (clientVertx != null) {
            clientVertx.close();
        }
        if (fakeVertx != null) {
            fakeVertx.close();
        }
    }
}
