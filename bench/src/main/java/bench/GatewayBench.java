package bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.ZoneOffset;
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
 * Load and latency benchmark of the gateway: a fake SambaNova upstream and a streaming client in this JVM, the
 * gateway as a separate process between them. See bench/README.md.
 */
public final class GatewayBench {

    private final Map<String, String> args;
    private final Path repo;
    private final int deltas;
    private final int delayMs;
    private final int latencyChats;
    private final int latencyDeltas;
    private final int latencySessions;
    private final int warmup;
    private final List<Integer> levels;
    private final Duration scenarioTimeout;
    private final boolean direct;
    /** Also drive the gateway's OpenAI-compatible endpoint (latency row and scenario 4). */
    private final boolean openAi;
    private final List<Integer> openAiLevels;
    private static final String OPENAI_ROW = "gateway /v1 (client->/v1/chat/completions->fake)";
    private final Map<String, String> gatewayEnv = new LinkedHashMap<>();
    private final StringBuilder report = new StringBuilder();

    private Vertx fakeVertx;
    private Vertx clientVertx;
    private HttpClient client;
    private FakeUpstream fake;
    private int fakePort;
    private GatewayProcess gateway;

    private GatewayBench(Map<String, String> args, List<String> env) {
        this.args = args;
        this.repo = Path.of(args.getOrDefault("repo", "..")).toAbsolutePath().normalize();
        this.deltas = intArg("deltas", 50);
        this.delayMs = intArg("delay-ms", 20);
        this.latencyChats = intArg("latency-chats", 200);
        this.latencyDeltas = intArg("latency-deltas", 10);
        this.latencySessions = intArg("latency-sessions", 10);
        this.warmup = intArg("warmup", 60);
        this.levels = new ArrayList<>();
        for (String l : args.getOrDefault("levels", "100,500,2000").split(",")) {
            if (!l.isBlank()) {
                levels.add(Integer.parseInt(l.trim()));
            }
        }
        this.scenarioTimeout = Duration.ofSeconds(intArg("scenario-timeout-s", 60));
        this.direct = !"false".equals(args.getOrDefault("direct", "true"));
        this.openAi = !"false".equals(args.getOrDefault("openai", "true"));
        this.openAiLevels = new ArrayList<>();
        for (String l : args.getOrDefault("openai-levels", args.getOrDefault("levels", "100,500,2000")).split(",")) {
            if (!l.isBlank()) {
                openAiLevels.add(Integer.parseInt(l.trim()));
            }
        }
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
        int totalTimeout = Integer.parseInt(args.getOrDefault("total-timeout-s", "900"));
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

    private int run() throws Exception {
        Path out = repo.resolve("bench/target");
        Files.createDirectories(out);
        Path pidFile = Path.of(args.getOrDefault("pid-file", out.resolve("gateway.pid").toString()));

        fakeVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        client = clientVertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(10_000),
                new PoolOptions().setHttp1MaxSize(10_000));
        fake = new FakeUpstream(fakeVertx);
        fakePort = fake.start();

        line("# Gateway benchmark results");
        line("");
        line("- date: " + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        line("- machine: " + machine());
        line("- java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        line("- fake upstream: 127.0.0.1:" + fakePort + ", headers at once, then N deltas " + delayMs
                + " ms apart (first one " + delayMs + " ms after the request), finish chunk, usage chunk, [DONE]");
        try {
            line("- load average at start (1/5/15 min): "
                    + String.join(" ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3))
                    + " on " + cores + " CPUs");
        } catch (Exception ignored) {
            // not Linux
        }
        line("- gateway env overrides: " + (gatewayEnv.isEmpty() ? "none" : gatewayEnv));

        Path log = out.resolve("gateway.log");
        long startNanos = System.nanoTime();
        String jar = "target/cobalt-chat.jar";
        if (!"true".equals(args.get("exact-jar-name"))) {
            Path link = out.resolve("gateway-under-bench.jar");
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, repo.resolve(jar));
            jar = repo.relativize(link).toString();
        }
        line("- gateway command (in " + repo + "): java -jar " + jar);
        gateway = GatewayProcess.start(repo, jar, fakePort, log, pidFile, gatewayEnv);
        Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "stop-gateway"));
        gateway.watchExit();
        gateway.awaitReady(Duration.ofSeconds(90));
        line("- gateway: pid " + gateway.pid() + ", http " + gateway.httpPort + ", management "
                + gateway.managementPort + ", ready in " + Stats.ms((System.nanoTime() - startNanos) / 1e6)
                + " ms; log " + repo.relativize(log));
        boolean jmx = gateway.attachJmx();
        line("");

        boolean allOk;
        try {
            allOk = scenarios();
        } catch (Exception e) {
            line("");
            line("RUN ABORTED: " + e);
            allOk = false;
        }
        Path results = Path.of(args.getOrDefault("results", out.resolve("results.md").toString()));
        Files.writeString(results, report.toString());
        System.out.println();
        System.out.println("(written to " + results + ")");
        return allOk ? 0 : 1;
    }

    private boolean scenarios() throws Exception {
        warmUp();
        long[] idle = gateway.procStatus();
        long[] idleHeap = gateway.heap();
        line("Gateway after warm-up, idle: " + idle[0] + " threads, RSS " + mb(idle[1] * 1024)
                + (idleHeap == null ? "" : ", heap used " + mb(idleHeap[0]) + " of " + mb(idleHeap[1]) + " committed"));
        line("");

        boolean allOk = latencyScenario();
        for (int level : levels) {
            allOk &= concurrencyScenario(level);
        }
        int slowLevel = intArg("slow-headers-streams", 400);
        int slowHeaders = intArg("slow-headers-ms", 500);
        if (slowLevel > 0) {
            line("## 3. Slow upstream headers: " + slowLevel + " streams opened at once, the upstream's status and "
                    + "headers " + slowHeaders + " ms after the request, then 10 deltas " + delayMs + " ms apart");
            line("");
            line("A provider that is queueing or prefilling often sends its 200 only with the first token. The gateway "
                    + "holds one of its Vert.x workers per request until the upstream's headers are in, so at most "
                    + "HTTP_WORKER_POOL_SIZE streams can be waiting for headers at once.");
            line("");
            allOk &= burstScenario(slowLevel, 10, delayMs, slowHeaders, "s");
        }

        if (openAi) {
            for (int level : openAiLevels) {
                allOk &= openAiScenario(level);
            }
        }

        line("## Gateway threads by CPU time over the whole run");
        line("");
        gateway.topThreadsByCpu(12).forEach(t -> line("- " + t));
        line("");
        line("## Gateway log");
        line("");
        List<String> problems = gateway.problemLines();
        Map<String, Integer> kinds = new TreeMap<>();
        for (String p : problems) {
            String k = p.replaceFirst("^\\S+ ", "").replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>")
                    .replaceAll("\\d+", "#");
            kinds.merge(k.length() > 200 ? k.substring(0, 200) : k, 1, Integer::sum);
        }
        line(problems.size() + " WARN/ERROR/blocked lines" + (problems.isEmpty() ? "" : ", by kind:"));
        kinds.forEach((k, v) -> line("- " + v + " x `" + k + "`"));
        line("");
        line(allOk ? "RESULT: every scenario passed" : "RESULT: some scenario FAILED (see above)");
        return allOk;
    }

    // ------------------------------------------------------------------------------------------------ warm-up

    private void warmUp() throws Exception {
        List<String> sessions = createSessions(5);
        int ok = 0;
        for (int i = 0; i < warmup; i++) {
            StreamCall c = chat("w" + i, 10, 5, StreamCall.Target.GATEWAY, sessions.get(i % sessions.size()));
            await(c, Duration.ofSeconds(10));
            if (c.ok()) {
                ok++;
            } else if (ok == i) {
                line("(warm-up chat " + i + " failed: " + c.problem() + ")");
            }
            if (direct) {
                await(chat("dw" + i, 10, 5, StreamCall.Target.DIRECT, null), Duration.ofSeconds(10));
            }
        }
        // one small burst so the connection pools and the relay's paths are warm too
        List<String> burstSessions = createSessions(50);
        List<StreamCall> burst = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            burst.add(chat("wb" + i, 10, 5, StreamCall.Target.GATEWAY, burstSessions.get(i)));
        }
        for (StreamCall c : burst) {
            await(c, Duration.ofSeconds(20));
            ok += c.ok() ? 1 : 0;
        }
        requireGatewayAlive("the warm-up");
        line("Warm-up: " + ok + "/" + (warmup + 50) + " gateway chats ok (10 deltas, 5 ms apart; not measured)");
    }

    // ------------------------------------------------------------------------------------------------ latency

    private boolean latencyScenario() throws Exception {
        line("## 1. Latency: " + latencyChats + " sequential chats, " + latencyDeltas + " deltas " + delayMs
                + " ms apart");
        line("");
        line("Gateway chats rotate over " + latencySessions + " sessions (history grows to the 20-message context "
                + "limit). Times are System.nanoTime() in the bench JVM, which holds both the client and the fake, so "
                + "client and fake timestamps are comparable. `fake first-token delay` = fake wrote delta 0 minus "
                + "request arrived at the fake; `added TTFT` = client TTFT minus that; `request->upstream` = request "
                + "arrived at the fake minus client sent it; `chunk relay` = client received delta k minus fake wrote "
                + "delta k (all deltas).");
        line("");
        Map<String, List<StreamCall>> runs = new LinkedHashMap<>();
        Map<String, String> cpu = new LinkedHashMap<>();
        if (direct) {
            CpuWindow w = new CpuWindow();
            runs.put("direct (client->fake)", sequential(StreamCall.Target.DIRECT, null));
            cpu.put("direct (client->fake)", w.summary());
        }
        List<String> sessions = createSessions(latencySessions);
        CpuWindow w = new CpuWindow();
        runs.put("gateway (client->gateway->fake)", sequential(StreamCall.Target.GATEWAY, sessions));
        cpu.put("gateway (client->gateway->fake)", w.summary());
        if (openAi) {
            CpuWindow o = new CpuWindow();
            runs.put(OPENAI_ROW, sequential(StreamCall.Target.OPENAI, null));
            cpu.put(OPENAI_ROW, o.summary());
        }
        requireGatewayAlive("the latency scenario");

        line("| path | ok | client TTFT p50/p95/p99 | fake first-token delay p50 | added TTFT p50/p95/p99 "
                + "| request->upstream p50/p95/p99 | chunk relay p50/p95/p99 (n) | chat wall p50 |");
        line("|---|---|---|---|---|---|---|---|");
        boolean allOk = true;
        Map<String, double[]> medians = new LinkedHashMap<>();
        for (Map.Entry<String, List<StreamCall>> run : runs.entrySet()) {
            List<StreamCall> calls = run.getValue();
            List<Long> ttft = new ArrayList<>();
            List<Long> fakeDelay = new ArrayList<>();
            List<Long> added = new ArrayList<>();
            List<Long> toUpstream = new ArrayList<>();
            List<Long> chunk = new ArrayList<>();
            List<Long> wall = new ArrayList<>();
            int ok = 0;
            Map<String, Integer> problems = new TreeMap<>();
            for (StreamCall c : calls) {
                String problem = c.problem();
                if (problem != null) {
                    problems.merge(problem, 1, Integer::sum);
                    continue;
                }
                FakeUpstream.Trace t = fake.trace(c.id);
                if (t == null) {
                    problems.merge("no trace at the fake", 1, Integer::sum);
                    continue;
                }
                ok++;
                long clientTtft = c.deltaNanos[0] - c.sendNanos;
                long fakeFirst = t.deltaWriteNanos()[0] - t.arrivalNanos();
                ttft.add(clientTtft);
                fakeDelay.add(fakeFirst);
                added.add(clientTtft - fakeFirst);
                toUpstream.add(t.arrivalNanos() - c.sendNanos);
                for (int k = 0; k < c.deltas; k++) {
                    chunk.add(c.deltaNanos[k] - t.deltaWriteNanos()[k]);
                }
                wall.add(c.endNanos - c.sendNanos);
            }
            allOk &= ok == latencyChats;
            Stats a = new Stats(added);
            Stats u = new Stats(toUpstream);
            Stats ch = new Stats(chunk);
            medians.put(run.getKey(), new double[] {a.pMs(50), a.pMs(95), a.pMs(99), u.pMs(50), ch.pMs(50),
                    ch.pMs(99)});
            line("| " + run.getKey() + " | " + ok + "/" + latencyChats + " | " + new Stats(ttft).p50p95p99() + " | "
                    + Stats.ms(new Stats(fakeDelay).pMs(50)) + " | " + a.p50p95p99() + " | " + u.p50p95p99() + " | "
                    + ch.p50p95p99() + " (" + ch.count() + ") | " + Stats.ms(new Stats(wall).pMs(50)) + " |");
            problems.forEach((p, n) -> line("|   failed: " + n + " x " + p + " | | | | | | | |"));
        }
        double[] d = medians.get("direct (client->fake)");
        for (Map.Entry<String, double[]> m : medians.entrySet()) {
            if (d == null || m.getValue() == d) {
                continue;
            }
            double[] g = m.getValue();
            line("");
            line("Gateway's own share (" + m.getKey() + " row minus direct row): added TTFT p50 "
                    + Stats.ms(g[0] - d[0]) + " ms, p95 " + Stats.ms(g[1] - d[1]) + " ms, p99 " + Stats.ms(g[2] - d[2])
                    + " ms; per-chunk relay p50 " + Stats.ms(g[4] - d[4]) + " ms, p99 " + Stats.ms(g[5] - d[5])
                    + " ms.");
        }
        line("");
        cpu.forEach((k, v) -> line("CPU during " + k + ": " + v + "."));
        int stored = verifyStored(sessions, latencyChats / latencySessions, latencyDeltas, 0,
                (sIdx, e) -> "l" + sIdx + "x" + e);
        line("");
        line("Stored: " + stored + "/" + latencySessions + " latency sessions hold every exchange as `complete` with "
                + "the exact answer (" + getSummary() + ").");
        line("");
        return allOk && stored == latencySessions;
    }

    private List<StreamCall> sequential(StreamCall.Target target, List<String> sessions) throws Exception {
        List<StreamCall> calls = new ArrayList<>();
        long deadline = System.nanoTime() + scenarioTimeout.toNanos();
        String prefix = target == StreamCall.Target.DIRECT ? "dl" : target == StreamCall.Target.OPENAI ? "ol" : "l";
        for (int i = 0; i < latencyChats; i++) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                line("(latency " + target + ": deadline of " + scenarioTimeout.toSeconds() + " s reached after " + i
                        + " chats)");
                break;
            }
            // session i % S gets exchanges i/S: the id encodes both so the store check can rebuild every answer
            String session = sessions == null ? null : sessions.get(i % sessions.size());
            String id = sessions == null ? prefix + i : prefix + (i % sessions.size()) + "x" + (i / sessions.size());
            StreamCall c = chat(id, latencyDeltas, delayMs, target, session);
            await(c, Duration.ofNanos(left));
            calls.add(c);
        }
        return calls;
    }

    // ------------------------------------------------------------------------------------------------ concurrency

    private boolean concurrencyScenario(int level) throws Exception {
        line("## 2. Concurrency: " + level + " streams opened at once, " + deltas + " deltas " + delayMs
                + " ms apart (ideal stream " + (deltas * delayMs) + " ms)");
        line("");
        return burstScenario(level, deltas, delayMs, 0, "c");
    }

    private boolean burstScenario(int level, int n, int d, int h, String idPrefix) throws Exception {
        boolean ok = true;
        List<String> rows = new ArrayList<>();
        List<String> wheres = new ArrayList<>();
        if (direct) {
            Burst db = burst(level, StreamCall.Target.DIRECT, null, n, d, h, idPrefix);
            rows.add(db.row);
            wheres.add(db.where);
        }
        long t0 = System.nanoTime();
        List<String> sessions = createSessions(level);
        double sessionMs = (System.nanoTime() - t0) / 1e6;
        Burst b = burst(level, StreamCall.Target.GATEWAY, sessions, n, d, h, idPrefix);
        rows.add(b.row);
        wheres.add(b.where);
        ok &= b.ok == level;
        line("Sessions: " + sessions.size() + " created first (one per stream, 32 requests in flight) in "
                + Stats.ms(sessionMs) + " ms.");
        line("");
        line("| path | ok | wall | TTFT p50/p99/max | headers p50/p99/max | max streaming at fake "
                + "| gateway threads idle/peak/after | gateway RSS peak (VmHWM) | gateway heap used peak (committed) |");
        line("|---|---|---|---|---|---|---|---|---|");
        rows.forEach(this::line);
        b.problems.forEach((p, count) -> line("|   failed: " + count + " x " + p + " | | | | | | | | |"));
        line("");
        line("Where the time went (ok streams; from the burst start): `request->upstream` = request arrived at the "
                + "fake; `fake stream` = fake's request arrival to its last delta (ideal " + (h + n * d)
                + " ms); `last-delta lag` = client got the last delta minus fake wrote it; CPU = CPU time used from "
                + "the burst's start until its last stream ended or failed (bench = this JVM: client + fake; other "
                + "processes = the rest of the machine, from /proc/stat).");
        line("");
        line("| path | request->upstream p50/p99/max | fake stream p50/p99/max | last-delta lag p50/p99/max "
                + "| CPU during the burst |");
        line("|---|---|---|---|---|");
        wheres.forEach(this::line);
        int stored = verifyStored(sessions, 1, n, h, (sIdx, e) -> idPrefix + level + "-" + sIdx);
        line("");
        line("Stored: " + stored + "/" + level + " sessions hold the exchange as `complete` with the exact answer ("
                + getSummary() + ").");
        ok &= stored == level;
        if (probeLine != null) {
            line("");
            line(probeLine);
        }
        if (!b.peakThreadGroups.isEmpty()) {
            line("");
            line("Gateway threads at the peak, by name: " + b.peakThreadGroups);
        }
        line("");
        return ok;
    }

    private static final int cores = Runtime.getRuntime().availableProcessors();

    /** CPU used while a scenario ran: by the gateway, by this JVM (client + fake), by everything else. */
    private final class CpuWindow {
        private final long wall0 = System.nanoTime();
        private final long gw0 = gateway.cpuMillis();
        private final long bench0 = GatewayProcess.cpuMillis(ProcessHandle.current().pid());
        private final long machine0 = GatewayProcess.machineCpuMillis()[0];
        private final Map<String, Long> loops0 = gateway.eventLoopCpuNanos();

        String summary() {
            double wallMs = (System.nanoTime() - wall0) / 1e6;
            StringBuilder loops = new StringBuilder();
            gateway.eventLoopCpuNanos().forEach((name, ns) -> {
                double busy = (ns - loops0.getOrDefault(name, 0L)) / 1e6 / wallMs * 100;
                if (busy >= 1) {
                    loops.append(loops.length() == 0 ? "" : ", ").append(name.replace("vert.x-eventloop-thread-", "#"))
                            .append(String.format(Locale.ROOT, " %.0f%%", busy));
                }
            });
            long gw = gateway.cpuMillis() - gw0;
            long bench = GatewayProcess.cpuMillis(ProcessHandle.current().pid()) - bench0;
            long machine = GatewayProcess.machineCpuMillis()[0] - machine0;
            long others = Math.max(0, machine - gw - bench);
            return "gateway " + gw + " ms, bench " + bench + " ms, other processes " + others + " ms; machine "
                    + String.format(Locale.ROOT, "%.0f%%", 100.0 * machine / (wallMs * cores)) + " busy over "
                    + Stats.ms(wallMs / 1000) + " s; gateway event loops busy: "
                    + (loops.length() == 0 ? "-" : loops.toString());
        }
    }

    /** Stops the run with a clear message if the gateway process is gone. */
    private void requireGatewayAlive(String during) {
        if (!gateway.alive()) {
            String why = "THE GATEWAY PROCESS EXITED during " + during + " at " + gateway.exitedAt
                    + ". The bench stops it only at the very end, so something else ended it (see "
                    + repo.relativize(gateway.log) + ": 'JVM shutdown hook triggered by SIGTERM' means a signal"
                    + " from outside, e.g. a pkill/kill by name on this shared machine).";
            line(why);
            throw new IllegalStateException(why);
        }
    }
    private String probeLine;

    /**
     * While a burst runs: GET /api/v1/chat/sessions/{id} on the chat port and GET /observe/health on the
     * management port, one at a time, to see how the rest of the API fares while the chat streams queue.
     */
    private final class Probe implements Runnable {
        private final String session;
        private final Thread thread = new Thread(this, "bench-probe");
        private volatile boolean running = true;
        private final List<Long> api = new ArrayList<>();
        private final List<Long> health = new ArrayList<>();
        private final Map<String, Integer> outcomes = new TreeMap<>();

        Probe(String session) {
            this.session = session;
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }

        @Override
        public void run() {
            java.net.http.HttpRequest get = java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                    "http://127.0.0.1:" + gateway.httpPort + "/api/v1/chat/sessions/" + session))
                    .timeout(Duration.ofSeconds(30)).GET().build();
            java.net.http.HttpRequest hc = java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                    "http://127.0.0.1:" + gateway.managementPort + "/observe/health"))
                    .timeout(Duration.ofSeconds(30)).GET().build();
            while (running) {
                timed(get, api, "session GET");
                timed(hc, health, "health");
                try {
                    TimeUnit.MILLISECONDS.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void timed(java.net.http.HttpRequest r, List<Long> into, String what) {
            long t = System.nanoTime();
            String outcome;
            try {
                outcome = what + " " + control.send(r, java.net.http.HttpResponse.BodyHandlers.discarding())
                        .statusCode();
            } catch (Exception e) {
                outcome = what + " " + e.getClass().getSimpleName();
            }
            into.add(System.nanoTime() - t);
            outcomes.merge(outcome, 1, Integer::sum);
        }

        String summary() {
            Stats a = new Stats(api);
            Stats h = new Stats(health);
            return "session GET p50/max " + Stats.ms(a.pMs(50)) + " / " + Stats.ms(a.maxMs()) + " ms, health p50/max "
                    + Stats.ms(h.pMs(50)) + " / " + Stats.ms(h.maxMs()) + " ms " + outcomes;
        }
    }

    private record Burst(String row, String where, int ok, Map<String, Integer> problems, Map<String, Integer> peakThreadGroups) {
    }

    private Burst burst(int level, StreamCall.Target target, List<String> sessions, int n, int d, int h,
                        String idPrefix) throws Exception {
        awaitFakeIdle();
        boolean gw = target != StreamCall.Target.DIRECT;
        String label = target == StreamCall.Target.OPENAI ? "gateway /v1" : gw ? "gateway" : "direct";
        long[] before = gw ? gateway.procStatus() : null;
        CpuWindow cpuWindow = new CpuWindow();
        fake.resetMaxActive();
        Sampler sampler = gw ? new Sampler() : null;
        Probe probe = gw ? new Probe(sessions != null ? sessions.get(0) : createSessions(1).get(0)) : null;
        if (sampler != null) {
            sampler.start();
            probe.start();
        }
        long t0 = System.nanoTime();
        List<StreamCall> calls = new ArrayList<>(level);
        for (int i = 0; i < level; i++) {
            String id = (gw ? idPrefix : "d" + idPrefix) + level + "-" + i;
            calls.add(chat(id, n, d, h, target, target == StreamCall.Target.GATEWAY ? sessions.get(i) : null));
        }
        long deadline = t0 + scenarioTimeout.toNanos();
        int unfinished = 0;
        for (StreamCall c : calls) {
            if (!await(c, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                unfinished++;
            }
        }
        if (sampler != null) {
            sampler.stop();
            probe.stop();
        }
        String cpuSummary = cpuWindow.summary();
        requireGatewayAlive("the " + label + " burst of " + level);
        int maxAtFake = fake.resetMaxActive();
        for (StreamCall c : calls) {
            if (c.phase != StreamCall.Phase.ENDED && c.failure == null) {
                c.abort();
            }
        }
        int ok = 0;
        long lastEnd = t0;
        List<Long> ttft = new ArrayList<>();
        List<Long> headers = new ArrayList<>();
        List<Long> toUpstream = new ArrayList<>();
        List<Long> fakeStream = new ArrayList<>();
        List<Long> lastLag = new ArrayList<>();
        Map<String, Integer> problems = new TreeMap<>();
        for (StreamCall c : calls) {
            String p = c.problem();
            if (p == null) {
                ok++;
                lastEnd = Math.max(lastEnd, c.endNanos);
                ttft.add(c.deltaNanos[0] - t0);
                headers.add(c.headersNanos - t0);
                FakeUpstream.Trace tr = fake.trace(c.id);
                if (tr != null) {
                    long[] w = tr.deltaWriteNanos();
                    toUpstream.add(tr.arrivalNanos() - t0);
                    fakeStream.add(w[w.length - 1] - tr.arrivalNanos());
                    lastLag.add(c.deltaNanos[c.deltas - 1] - w[w.length - 1]);
                }
            } else {
                problems.merge(p.replaceAll("[a-z]+\\d+-\\d+", "<id>"), 1, Integer::sum);
            }
        }
        if (unfinished > 0) {
            problems.merge("(of these, still open at the " + scenarioTimeout.toSeconds() + " s deadline: "
                    + unfinished + ")", 0, Integer::sum);
        }
        Stats t = new Stats(ttft);
        Stats hs = new Stats(headers);
        String wall = Stats.ms((lastEnd - t0) / 1e6) + " ms" + (ok < level ? " (ok ones)" : "");
        String row;
        if (gw) {
            long[] after = settledStatus();
            long heapAfterGc = gateway.heapAfterGc();
            probeLine = "API calls made during the gateway burst (one at a time, 50 ms apart, JDK client): "
                    + probe.summary() + ". Gateway heap used after a full GC once the burst was over: "
                    + mb(heapAfterGc) + ". The default Vert.x workers (vert.x-worker-thread-#) 1 s into the burst: " + sampler.workersAt1s + ".";
            row = "| " + label + " | " + ok + "/" + level + " | " + wall + " | " + triple(t) + " | " + triple(hs) + " | "
                    + maxAtFake + " | " + before[0] + " / " + sampler.maxThreads + " / " + after[0] + " | "
                    + mb(sampler.maxRssKb * 1024) + " (" + mb(sampler.hwmKb * 1024) + ") | "
                    + (sampler.maxHeapUsed < 0 ? "n/a" : mb(sampler.maxHeapUsed) + " (" + mb(sampler.maxHeapCommitted)
                    + ")") + " |";
        } else {
            row = "| direct | " + ok + "/" + level + " | " + wall + " | " + triple(t) + " | " + triple(hs) + " | "
                    + maxAtFake + " | | | |";
            if (ok < level) {
                problems.forEach((p, count) -> System.out.println("direct failure: " + count + " x " + p));
            }
        }
        String where = "| " + label + " | " + triple(new Stats(toUpstream)) + " | "
                + triple(new Stats(fakeStream)) + " | " + triple(new Stats(lastLag)) + " | " + cpuSummary + " |";
        return new Burst(row, where, ok, problems, sampler == null ? Map.of() : sampler.peakGroups);
    }

    /**
     * The concurrency burst of scenario 2, through POST /v1/chat/completions: the same fake answers, the request a
     * client of any OpenAI-compatible gateway sends (model, stream, stream_options.include_usage, one user message),
     * so the rows compare with scenario 2 and with other gateways run on the same work. Each stream must be exact,
     * name the model asked for, end with its finish chunk, a usage chunk and [DONE]; nothing is stored in sessions,
     * so the check afterwards is that every answer reached the usage ledger.
     */
    private boolean openAiScenario(int level) throws Exception {
        line("## 4. OpenAI-compatible endpoint: " + level + " streams opened at once through POST /v1/chat/completions, "
                + deltas + " deltas " + delayMs + " ms apart (ideal stream " + (deltas * delayMs) + " ms)");
        line("");
        long ledgerBefore = ledgerAnswers();
        Burst b = burst(level, StreamCall.Target.OPENAI, null, deltas, delayMs, 0, "o");
        line("| path | ok | wall | TTFT p50/p99/max | headers p50/p99/max | max streaming at fake "
                + "| gateway threads idle/peak/after | gateway RSS peak (VmHWM) | gateway heap used peak (committed) |");
        line("|---|---|---|---|---|---|---|---|---|");
        line(b.row);
        b.problems.forEach((p, count) -> line("|   failed: " + count + " x " + p + " | | | | | | | | |"));
        line("");
        line("| path | request->upstream p50/p99/max | fake stream p50/p99/max | last-delta lag p50/p99/max "
                + "| CPU during the burst |");
        line("|---|---|---|---|---|");
        line(b.where);
        long counted = awaitLedger(ledgerBefore + b.ok) - ledgerBefore;
        line("");
        line("Usage ledger: " + counted + "/" + b.ok + " ok answers counted (GET /api/v1/usage).");
        if (probeLine != null) {
            line("");
            line(probeLine);
        }
        line("");
        return b.ok == level && counted == b.ok;
    }

    private long ledgerAnswers() throws Exception {
        Reply r = call(HttpMethod.GET, "/api/v1/usage?from=2000-01-01&to=2100-01-01", null).get(20, TimeUnit.SECONDS);
        if (r.status() != 200) {
            throw new IllegalStateException("GET /api/v1/usage: " + r.status() + " " + r.body());
        }
        return new JsonObject(r.body()).getJsonObject("total").getLong("answers");
    }

    /** Polls the ledger (answers are recorded after their stream ended) until it holds {@code expected} or 20 s. */
    private long awaitLedger(long expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long seen = ledgerAnswers();
        while (seen < expected && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(250);
            seen = ledgerAnswers();
        }
        return seen;
    }

    private static String triple(Stats s) {
        return Stats.ms(s.pMs(50)) + " / " + Stats.ms(s.pMs(99)) + " / " + Stats.ms(s.maxMs()) + " ms";
    }

    /** Threads and RSS once the gateway has settled after a burst (3 s later). */
    private long[] settledStatus() throws InterruptedException {
        TimeUnit.SECONDS.sleep(3);
        return gateway.procStatus();
    }

    private void awaitFakeIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (fake.active() > 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** Samples the gateway every 50 ms (threads, RSS) and every 250 ms (heap) while a burst runs. */
    private final class Sampler implements Runnable {
        private volatile boolean running = true;
        private final Thread thread = new Thread(this, "bench-sampler");
        long maxThreads;
        long maxRssKb;
        long hwmKb;
        long maxHeapUsed = -1;
        long maxHeapCommitted = -1;
        Map<String, Integer> peakGroups = Map.of();
        Map<String, Integer> workersAt1s = Map.of();
        private long lastGroupsAt;
        private final long started = System.nanoTime();

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }

        @Override
        public void run() {
            int tick = 0;
            while (running) {
                long[] s = gateway.procStatus();
                if (s[0] > maxThreads) {
                    maxThreads = s[0];
                    long now = System.nanoTime();
                    if (now - lastGroupsAt > 1_000_000_000L) {
                        lastGroupsAt = now;
                        peakGroups = gateway.threadGroups();
                    }
                }
                if (workersAt1s.isEmpty() && System.nanoTime() - started > 1_000_000_000L) {
                    workersAt1s = gateway.workerActivity();
                }
                maxRssKb = Math.max(maxRssKb, s[1]);
                hwmKb = Math.max(hwmKb, s[2]);
                if (tick++ % 5 == 0) {
                    long[] heap = gateway.heap();
                    if (heap != null) {
                        maxHeapUsed = Math.max(maxHeapUsed, heap[0]);
                        maxHeapCommitted = Math.max(maxHeapCommitted, heap[1]);
                    }
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private StreamCall chat(String id, int n, int d, StreamCall.Target target, String session) {
        return chat(id, n, d, 0, target, session);
    }

    private StreamCall chat(String id, int n, int d, int h, StreamCall.Target target, String session) {
        StreamCall c = new StreamCall(id, n, target);
        if (target == StreamCall.Target.GATEWAY) {
            c.start(client, "127.0.0.1", gateway.httpPort, "/api/v1/chat/sessions/" + session + "/messages",
                    StreamCall.gatewayBody(id, n, d, h));
        } else if (target == StreamCall.Target.OPENAI) {
            // the very request a client would send the provider, sent to the gateway's OpenAI-compatible endpoint
            c.start(client, "127.0.0.1", gateway.httpPort, "/v1/chat/completions", StreamCall.directBody(id, n, d, h));
        } else {
            c.start(client, "127.0.0.1", fakePort, "/v1/chat/completions", StreamCall.directBody(id, n, d, h));
        }
        return c;
    }

    private static boolean await(StreamCall c, Duration timeout) throws Exception {
        try {
            c.done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    private record Reply(int status, String body) {
    }

    /** Control requests (sessions, store checks) still open, by phase, for diagnosing a hang. */
    private final Map<Integer, String> openCalls = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger callIds = new AtomicInteger();

    /**
     * Control requests (sessions, store checks) go through the JDK's HttpClient, kept apart from the Vert.x client
     * that carries the streams.
     */
    private final java.net.http.HttpClient control = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private CompletableFuture<Reply> call(HttpMethod method, String path, String body) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + gateway.httpPort + path))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json");
        b = body == null ? b.method(method.name(), java.net.http.HttpRequest.BodyPublishers.noBody())
                : b.method(method.name(), java.net.http.HttpRequest.BodyPublishers.ofString(body));
        int callId = callIds.incrementAndGet();
        openCalls.put(callId, method + " " + path);
        return control.sendAsync(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
                .handle((r, t) -> {
                    openCalls.remove(callId);
                    if (t != null) {
                        throw new IllegalStateException(method + " " + path + " -> " + t, t);
                    }
                    return new Reply(r.statusCode(), r.body());
                });
    }

    /** On a hang: what the open calls were doing, the sockets, and the gateway's threads, into bench/target. */
    private String dumpHang(String what) {
        try {
            Path dir = repo.resolve("bench/target");
            String stamp = String.valueOf(System.currentTimeMillis());
            StringBuilder sb = new StringBuilder("open control calls:\n");
            openCalls.values().forEach(v -> sb.append("  ").append(v).append('\n'));
            Path calls = dir.resolve("hang-" + stamp + "-calls.txt");
            Files.writeString(calls, sb.toString());
            Path sockets = dir.resolve("hang-" + stamp + "-ss.txt");
            new ProcessBuilder("ss", "-tnpi", "state", "all", "( dport = :" + gateway.httpPort + " or sport = :"
                    + gateway.httpPort + " )").redirectErrorStream(true).redirectOutput(sockets.toFile()).start()
                    .waitFor(20, TimeUnit.SECONDS);
            Path threads = dir.resolve("hang-" + stamp + "-gateway-threads.txt");
            new ProcessBuilder("jcmd", String.valueOf(gateway.pid()), "Thread.print").redirectErrorStream(true)
                    .redirectOutput(threads.toFile()).start().waitFor(30, TimeUnit.SECONDS);
            return what + ": " + openCalls.size() + " open (" + String.join(" | ", openCalls.values()) + "); see "
                    + repo.relativize(calls) + ", " + repo.relativize(sockets) + ", " + repo.relativize(threads);
        } catch (Exception e) {
            return what + ": (dump failed: " + e + ")";
        }
    }

    /** Runs count tasks with at most parallel in flight; results in index order. */
    private static <T> List<T> bounded(int count, int parallel, IntFunction<CompletableFuture<T>> task,
                                       Duration timeout) throws Exception {
        List<CompletableFuture<T>> results = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            results.add(new CompletableFuture<>());
        }
        AtomicInteger next = new AtomicInteger();
        Runnable[] worker = new Runnable[1];
        worker[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= count) {
                return;
            }
            task.apply(i).whenComplete((v, t) -> {
                if (t != null) {
                    results.get(i).completeExceptionally(t);
                } else {
                    results.get(i).complete(v);
                }
                worker[0].run();
            });
        };
        for (int w = 0; w < Math.min(parallel, count); w++) {
            worker[0].run();
        }
        try {
            CompletableFuture.allOf(results.toArray(new CompletableFuture[0]))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            long open = results.stream().filter(f -> !f.isDone()).count();
            long failed = results.stream().filter(CompletableFuture::isCompletedExceptionally).count();
            String first = results.stream().filter(CompletableFuture::isCompletedExceptionally).findFirst()
                    .map(f -> f.handle((v, t) -> String.valueOf(t)).join()).orElse("-");
            throw new IllegalStateException(count + " requests: " + open + " unanswered after " + timeout.toSeconds()
                    + " s, " + failed + " failed (first: " + first + ")", e);
        }
        List<T> out = new ArrayList<>(count);
        for (CompletableFuture<T> f : results) {
            out.add(f.get());
        }
        return out;
    }

    private List<String> createSessions(int count) throws Exception {
        try {
            return createSessionsOnce(count);
        } catch (IllegalStateException e) {
            requireGatewayAlive("session creation");
            line("(creating " + count + " sessions failed: " + e.getMessage() + "; " + dumpHang("hang") + ")");
            throw e;
        }
    }

    private List<String> createSessionsOnce(int count) throws Exception {
        return bounded(count, 32, i -> call(HttpMethod.POST, "/api/v1/chat/sessions", "{\"title\":\"bench\"}")
                .thenApply(r -> {
                    if (r.status() != 201) {
                        throw new IllegalStateException("POST /api/v1/chat/sessions: " + r.status() + " " + r.body());
                    }
                    return new JsonObject(r.body()).getString("id");
                }), Duration.ofSeconds(60));
    }

    /**
     * Counts the sessions whose stored messages are exactly the expected exchanges: every user message and every
     * assistant answer, `complete`, with the exact text. Polls (the answer is stored after the stream ends) until
     * all match or 20 s passed. idOf gives the id of session s's exchange e.
     */
    private int verifyStored(List<String> sessions, int exchanges, int n, int h,
                             java.util.function.BiFunction<Integer, Integer, String> idOf) throws Exception {
        int count = sessions.size();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        boolean[] good = new boolean[count];
        int matched = 0;
        while (true) {
            requireGatewayAlive("the store check");
            List<Integer> todo = new ArrayList<>();
            for (int s = 0; s < count; s++) {
                if (!good[s]) {
                    todo.add(s);
                }
            }
            List<Boolean> res;
            long passStart = System.nanoTime();
            try {
                res = bounded(todo.size(), 16, j -> {
                    int s = todo.get(j);
                    long sent = System.nanoTime();
                    return call(HttpMethod.GET, "/api/v1/chat/sessions/" + sessions.get(s), null)
                            .handle((r, t) -> {
                                synchronized (getLatencies) {
                                    getLatencies.add(System.nanoTime() - sent);
                                    getOutcomes.merge(t != null ? "failed: " + String.valueOf(t.getMessage())
                                            .replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<id>") : "HTTP " + r.status(),
                                            1, Integer::sum);
                                }
                                return t == null && r.status() == 200 && storedMatches(new JsonObject(r.body()),
                                        exchanges, n, h, e -> idOf.apply(s, e));
                            });
                }, Duration.ofSeconds(60));
            } catch (IllegalStateException e) {
                line("(store check pass over " + todo.size() + " sessions failed after "
                        + Stats.ms((System.nanoTime() - passStart) / 1e6) + " ms: " + e.getMessage() + "; "
                        + dumpHang("hang") + ")");
                return matched;
            }
            for (int j = 0; j < todo.size(); j++) {
                if (res.get(j)) {
                    good[todo.get(j)] = true;
                    matched++;
                }
            }
            if (matched == count || System.nanoTime() > deadline) {
                if (matched < count) {
                    for (int s = 0; s < count; s++) {
                        if (!good[s]) {
                            line("(first session not as expected: #" + s + " " + describeSession(sessions.get(s))
                                    + ")");
                            break;
                        }
                    }
                }
                return matched;
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
    }

    private String describeSession(String id) {
        try {
            Reply r = call(HttpMethod.GET, "/api/v1/chat/sessions/" + id, null).get(20, TimeUnit.SECONDS);
            if (r.status() != 200) {
                return "HTTP " + r.status() + " " + r.body();
            }
            StringBuilder sb = new StringBuilder();
            for (Object o : new JsonObject(r.body()).getJsonArray("messages")) {
                JsonObject m = (JsonObject) o;
                String c = m.getString("content");
                sb.append(m.getString("role")).append('/').append(m.getString("status")).append('/')
                        .append(c.length() > 40 ? c.substring(0, 40) + "..." : c).append("; ");
            }
            return sb.length() == 0 ? "no messages" : sb.toString();
        } catch (Exception e) {
            return "GET failed: " + e;
        }
    }

    private final List<Long> getLatencies = new ArrayList<>();
    private final Map<String, Integer> getOutcomes = new TreeMap<>();

    /** GET /api/v1/chat/sessions/{id} latencies and outcomes since the last call. */
    private String getSummary() {
        synchronized (getLatencies) {
            String s = getLatencies.size() + " GETs " + getOutcomes + ", latency p50/p99/max "
                    + triple(new Stats(getLatencies));
            getLatencies.clear();
            getOutcomes.clear();
            return s;
        }
    }

    private boolean storedMatches(JsonObject session, int exchanges, int n, int h, IntFunction<String> idOf) {
        JsonArray messages = session.getJsonArray("messages");
        if (messages == null || messages.size() != 2 * exchanges) {
            return false;
        }
        for (int e = 0; e < exchanges; e++) {
            String id = idOf.apply(e);
            JsonObject user = messages.getJsonObject(2 * e);
            JsonObject answer = messages.getJsonObject(2 * e + 1);
            if (!"user".equals(user.getString("role"))
                    || !FakeUpstream.content(id, n, delayMs, h).equals(user.getString("content"))
                    || !"assistant".equals(answer.getString("role"))
                    || !"complete".equals(answer.getString("status"))
                    || !FakeUpstream.expectedText(id, n).equals(answer.getString("content"))) {
                return false;
            }
        }
        return true;
    }

    private static String machine() {
        StringBuilder sb = new StringBuilder();
        sb.append(Runtime.getRuntime().availableProcessors()).append(" CPUs");
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    sb.append(" (").append(l.substring(l.indexOf(':') + 1).trim()).append(")");
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(l.substring(9).trim().split("\\s+")[0]);
                    sb.append(", ").append(kb / 1024 / 1024).append(" GiB RAM");
                }
            }
            sb.append(", Linux ").append(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
        } catch (Exception ignored) {
            // not Linux
        }
        return sb.toString();
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MB", bytes / 1024.0 / 1024.0);
    }

    private void line(String s) {
        System.out.println(s);
        report.append(s).append('\n');
    }

    private void shutdown() {
        if (gateway != null) {
            gateway.close();
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
