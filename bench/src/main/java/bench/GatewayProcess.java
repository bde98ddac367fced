package bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.sun.tools.attach.VirtualMachine;

/**
 * The gateway as a separate process ({@code java -jar target/cobalt-chat.jar} in the repository root), and what can
 * be read about it from outside: threads and RSS from {@code /proc/<pid>/status}, CPU time from
 * {@code /proc/<pid>/stat}, heap through the JDK's attach API (the local management agent, read-only MXBeans).
 */
final class GatewayProcess implements AutoCloseable {

    final int httpPort;
    final int managementPort;
    final Path log;
    private final Process process;
    private JMXConnector jmx;
    private MemoryMXBean memory;
    private ThreadMXBean threads;
    private com.sun.management.ThreadMXBean allocation;
    private java.lang.management.CompilationMXBean compilation;
    Path dbDir;
    /**
     * The java launcher every gateway of the run starts with: {@code java} from the PATH, or the one --gateway-java
     * names (another JDK, e.g. one whose AOT cache the cold-start scenario tries).
     */
    static String javaCommand = "java";

    private GatewayProcess(Process process, int httpPort, int managementPort, Path log) {
        this.process = process;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.log = log;
    }

    /**
     * Starts {@code java -jar <jar>} in the repository root. jar is {@code target/cobalt-chat.jar}, or a symbolic link
     * to it under bench/target (same file, another name on the command line: on a shared machine a
     * {@code pkill -f cobalt-chat.jar} by someone else's tooling then leaves the gateway under test alone).
     */
    static GatewayProcess start(Path repo, String jar, int fakePort, Path log, Path pidFile, boolean lifted,
                                Map<String, String> extraEnv) throws IOException {
        return start(repo, jar, fakePort, log, pidFile, lifted, extraEnv, new Options(null, List.of(), null));
    }

    /**
     * How to start it beyond the environment. cpus: a taskset CPU list ("0", "0,1") the gateway is pinned to, or
     * null; jvmOptions: before -jar (AppCDS flags); dbDir: an existing H2 folder to start on again (a restart: the
     * schema is there, nothing migrates; the caller deletes it), or null for a fresh temporary one this object
     * deletes on close.
     */
    record Options(String cpus, List<String> jvmOptions, Path dbDir) {
    }

    static GatewayProcess start(Path repo, String jar, int fakePort, Path log, Path pidFile, boolean lifted,
                                Map<String, String> extraEnv, Options options) throws IOException {
        int http = freePort();
        int mgmt = freePort();
        List<String> command = new java.util.ArrayList<>();
        if (options.cpus() != null) {
            // taskset execs java: the pid is the JVM's, and the JVM sizes its pools (GC, JIT, event loops) by the
            // CPUs it may run on
            command.addAll(List.of("taskset", "-c", options.cpus()));
        }
        command.add(javaCommand);
        command.addAll(options.jvmOptions());
        command.addAll(List.of("-jar", jar));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(repo.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("LLM_PROVIDER", "sambanova");
        env.put("SAMBANOVA_API_BASE", "http://127.0.0.1:" + fakePort + "/v1");
        env.put("SAMBANOVA_API_KEY", FakeUpstream.API_KEY);
        env.put("SAMBANOVA_MODEL", "bench");
        if (lifted) {
            env.put("CHAT_AUTH_DISABLED", "true");
        } else {
            // production mode: auth on (the bench passes CHAT_JWT_SECRET), nothing inherited may switch it off
            env.remove("CHAT_AUTH_DISABLED");
        }
        env.put("HTTP_PORT", String.valueOf(http));
        env.put("MANAGEMENT_PORT", String.valueOf(mgmt));
        // demo auth and an embedded H2 file database in a fresh temporary folder (deleted on close)
        Path dbDir = options.dbDir() != null ? options.dbDir() : Files.createTempDirectory("cobalt-bench-db-");
        // BENCH_H2_SETTINGS (e.g. ";AUTO_COMPACT_FILL_RATE=50") tries H2 settings on the bench's database
        env.put("CHAT_DB_URL", "jdbc:h2:file:" + dbDir.resolve("chat") + System.getenv().getOrDefault("BENCH_H2_SETTINGS", ""));
        if (lifted) {
            // every bench chat is the single user "local": lift the per-user limits out of the way
            env.put("CHAT_RATE_LIMIT_PER_MINUTE", "100000000");
            env.put("CHAT_DAILY_MESSAGE_QUOTA", "100000000");
            env.put("CHAT_MAX_CONCURRENT_STREAMS", "100000000");
            // the bench creates thousands of sessions for the one user "local" in a few seconds
            env.put("CHAT_MAX_SESSIONS_PER_USER", "100000000");
            env.put("CHAT_SESSION_CREATE_RATE_PER_MINUTE", "100000000");
        }
        // production mode leaves every limit at its default: the load is spread over many users instead
        env.putAll(extraEnv);
        long startNanos = System.nanoTime();
        long startEpochMs = System.currentTimeMillis();
        Process p = pb.start();
        Files.writeString(pidFile, p.pid() + "\n");
        GatewayProcess g = new GatewayProcess(p, http, mgmt, log);
        g.startedNanos = startNanos;
        g.startedEpochMs = startEpochMs;
        g.dbDir = options.dbDir() == null ? dbDir : null;
        g.databaseDir = dbDir;
        return g;
    }

    /** When the process was started (System.nanoTime() and wall clock), right before fork and exec. */
    long startedNanos;
    long startedEpochMs;
    /** The H2 folder it runs on (also when it is not this object's to delete). */
    Path databaseDir;

    /**
     * Polls /observe/health/ready every pollMs until it answers 200 (or the process dies, or the deadline passes);
     * the System.nanoTime() of the first 200. For the cold start: the readiness probe a balancer or Kubernetes uses.
     */
    long awaitReadyAt(Duration timeout, long pollMs) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                        + "/observe/health/ready")).timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the gateway exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<Void> r = http.send(ready, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return System.nanoTime();
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(pollMs);
        }
        throw new IllegalStateException("the gateway was not ready in " + timeout + "; see " + log);
    }

    /** The CPUs the process may run on (/proc/<pid>/status Cpus_allowed_list), or "?". */
    String cpusAllowed() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(18).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return "?";
    }

    /** When the gateway exited, if it did (System.nanoTime()), and its exit code. */
    volatile long exitedAtNanos;
    volatile String exitedAt;

    void watchExit() {
        process.onExit().thenRun(() -> {
            exitedAtNanos = System.nanoTime();
            exitedAt = java.time.LocalTime.now().toString() + " (exit code " + process.exitValue() + ")";
        });
    }

    /** Machine-wide CPU time from /proc/stat in ms (all CPUs): {busy, total}. */
    static long[] machineCpuMillis() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long user = Long.parseLong(f[1]);
            long nice = Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long idle = Long.parseLong(f[4]);
            long iowait = Long.parseLong(f[5]);
            long irq = Long.parseLong(f[6]);
            long softirq = Long.parseLong(f[7]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            long busy = user + nice + system + irq + softirq + steal;
            return new long[] {busy * 10, (busy + idle + iowait) * 10};
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Polls /observe/health until it answers UP (or the process dies, or the deadline passes). */
    void awaitReady(Duration timeout) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/observe/health"))
                .timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the gateway exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("UP")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new IllegalStateException("the gateway did not answer /observe/health in " + timeout + "; see " + log);
    }

    /** Attaches to the gateway's JVM for heap and thread figures; false (and no heap figures) if that fails. */
    boolean attachJmx() {
        try {
            VirtualMachine vm = VirtualMachine.attach(String.valueOf(pid()));
            String address;
            try {
                address = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
            jmx = JMXConnectorFactory.connect(new JMXServiceURL(address));
            MBeanServerConnection mbs = jmx.getMBeanServerConnection();
            memory = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.MEMORY_MXBEAN_NAME,
                    MemoryMXBean.class);
            threads = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.THREAD_MXBEAN_NAME,
                    ThreadMXBean.class);
            allocation = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.THREAD_MXBEAN_NAME,
                    com.sun.management.ThreadMXBean.class);
            compilation = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.COMPILATION_MXBEAN_NAME,
                    java.lang.management.CompilationMXBean.class);
            return true;
        } catch (Exception e) {
            System.out.println("(no JMX: " + e + "; heap will not be reported)");
            return false;
        }
    }

    /** Heap used and committed in bytes, or null without JMX. */
    long[] heap() {
        if (memory == null) {
            return null;
        }
        try {
            var u = memory.getHeapMemoryUsage();
            return new long[] {u.getUsed(), u.getCommitted()};
        } catch (Exception e) {
            return null;
        }
    }

    /** Bytes allocated so far by each live thread of the gateway (JMX), by thread id; empty without JMX. */
    Map<Long, Long> allocatedBytes() {
        return perThread(ids -> allocation.getThreadAllocatedBytes(ids));
    }

    /**
     * Bytes the gateway allocated since the snapshot: every thread alive now, minus what it had then (threads that
     * started since count from zero; what threads that ended since allocated is lost, so this is a lower bound).
     */
    long allocatedSince(Map<Long, Long> before) {
        Map<Long, Long> now = allocatedBytes();
        if (now.isEmpty()) {
            return -1;
        }
        Map<Long, Long> added = new java.util.HashMap<>();
        addSince(before, now, added);
        return added.values().stream().mapToLong(Long::longValue).sum();
    }

    /** CPU nanoseconds each live thread of the gateway has used so far (JMX), by thread id; empty without JMX. */
    Map<Long, Long> cpuNanosByThread() {
        return perThread(ids -> allocation.getThreadCpuTime(ids));
    }

    /** One per-thread counter of every live gateway thread, by thread id (a thread that has none is left out). */
    private Map<Long, Long> perThread(java.util.function.UnaryOperator<long[]> read) {
        Map<Long, Long> out = new java.util.HashMap<>();
        if (allocation == null) {
            return out;
        }
        try {
            long[] ids = allocation.getAllThreadIds();
            long[] values = read.apply(ids);
            for (int i = 0; i < ids.length; i++) {
                if (values[i] >= 0) {
                    out.put(ids[i], values[i]);
                }
            }
        } catch (Exception e) {
            // no figures
        }
        return out;
    }

    /** Adds what each thread added to a per-thread counter between two snapshots into {@code intoById}. */
    static void addSince(Map<Long, Long> before, Map<Long, Long> now, Map<Long, Long> intoById) {
        for (Map.Entry<Long, Long> e : now.entrySet()) {
            intoById.merge(e.getKey(), Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L)), Long::sum);
        }
    }

    /**
     * Per-thread figures summed by thread name with the numbers replaced by {@code #} (the pool a thread belongs
     * to). The names are read once, at the end: reading them takes a safepoint, which the bench does not want
     * between two measured blocks.
     */
    Map<String, Long> byThreadName(Map<Long, Long> byId) {
        Map<String, Long> out = new java.util.TreeMap<>();
        if (byId.isEmpty() || allocation == null) {
            return out;
        }
        try {
            long[] ids = byId.keySet().stream().mapToLong(Long::longValue).toArray();
            java.lang.management.ThreadInfo[] infos = allocation.getThreadInfo(ids);
            for (int i = 0; i < ids.length; i++) {
                String name = infos[i] == null ? "(ended)" : infos[i].getThreadName().replaceAll("\\d+", "#");
                out.merge(name, byId.get(ids[i]), Long::sum);
            }
        } catch (Exception e) {
            // no figures
        }
        return out;
    }

    /** Milliseconds the gateway's JIT compilers have worked so far, or -1 without JMX. */
    long compileMillis() {
        try {
            return compilation == null ? -1 : compilation.getTotalCompilationTime();
        } catch (Exception e) {
            return -1;
        }
    }

    /** Live threads of the gateway's JVM (JMX; /proc when unavailable). */
    int liveThreads() {
        try {
            if (threads != null) {
                return threads.getThreadCount();
            }
        } catch (Exception e) {
            // fall through
        }
        return (int) procStatus()[0];
    }

    /** jcmd against the gateway (JFR.start / JFR.stop ...); its output. */
    String jcmd(String... command) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("jcmd", String.valueOf(pid())));
            cmd.addAll(List.of(command));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (Exception e) {
            return "jcmd failed: " + e;
        }
    }

    /** Runs a full GC in the gateway and returns the heap used afterwards in bytes, or -1 without JMX. */
    long heapAfterGc() {
        if (memory == null) {
            return -1;
        }
        try {
            memory.gc();
            return memory.getHeapMemoryUsage().getUsed();
        } catch (Exception e) {
            return -1;
        }
    }

    /** CPU time (ns) of each Vert.x event loop thread of the gateway, by name. */
    Map<String, Long> eventLoopCpuNanos() {
        Map<String, Long> out = new TreeMap<>();
        if (threads == null) {
            return out;
        }
        try {
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null && info.getThreadName().startsWith("vert.x-eventloop")) {
                    out.put(info.getThreadName(), threads.getThreadCpuTime(info.getThreadId()));
                }
            }
        } catch (Exception e) {
            // no figures
        }
        return out;
    }

    /** CPU time per live thread in ms, highest first (the top n). */
    List<String> topThreadsByCpu(int n) {
        if (threads == null) {
            return List.of();
        }
        try {
            List<long[]> cpu = new java.util.ArrayList<>();
            Map<Long, String> names = new java.util.HashMap<>();
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null) {
                    names.put(info.getThreadId(), info.getThreadName());
                    cpu.add(new long[] {info.getThreadId(), threads.getThreadCpuTime(info.getThreadId())});
                }
            }
            cpu.sort((a, b) -> Long.compare(b[1], a[1]));
            return cpu.stream().limit(n).map(c -> names.get(c[0]) + " " + c[1] / 1_000_000 + " ms").toList();
        } catch (Exception e) {
            return List.of("(unavailable: " + e + ")");
        }
    }

    /**
     * What the Vert.x worker threads are doing right now: for each, the first gateway frame (com.cobalt...) of its
     * stack, or its top frame, counted.
     */
    Map<String, Integer> workerActivity() {
        Map<String, Integer> out = new TreeMap<>();
        if (threads == null) {
            return out;
        }
        try {
            for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
                if (!info.getThreadName().startsWith("vert.x-worker-thread")) {
                    continue;
                }
                StackTraceElement[] st = info.getStackTrace();
                String where = st.length == 0 ? "idle" : st[0].getClassName().replaceAll(".*\\.", "") + "."
                        + st[0].getMethodName();
                for (StackTraceElement e : st) {
                    if (e.getClassName().startsWith("com.cobalt")) {
                        where = e.getClassName().replaceAll(".*\\.", "") + "." + e.getMethodName();
                        break;
                    }
                }
                if (where.equals("Unsafe.park") && info.getThreadState() == Thread.State.WAITING) {
                    where = "parked (no task)";
                }
                out.merge(info.getThreadState() + " in " + where, 1, Integer::sum);
            }
        } catch (Exception e) {
            out.put("(unavailable: " + e.getClass().getSimpleName() + ")", 0);
        }
        return out;
    }

    /** Live threads grouped by name with the digits taken out ("vert.x-worker-thread-#": 40). */
    Map<String, Integer> threadGroups() {
        Map<String, Integer> groups = new TreeMap<>();
        if (threads == null) {
            return groups;
        }
        try {
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null) {
                    groups.merge(info.getThreadName().replaceAll("\\d+", "#"), 1, Integer::sum);
                }
            }
        } catch (Exception e) {
            groups.put("(unavailable: " + e.getClass().getSimpleName() + ")", 0);
        }
        return groups;
    }

    /** Threads and VmRSS / VmHWM (kB) from /proc/<pid>/status: {threads, rssKb, hwmKb}. */
    long[] procStatus() {
        long[] out = {-1, -1, -1};
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
                if (line.startsWith("Threads:")) {
                    out[0] = Long.parseLong(line.substring(8).trim());
                } else if (line.startsWith("VmRSS:")) {
                    out[1] = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                } else if (line.startsWith("VmHWM:")) {
                    out[2] = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // process gone
        }
        return out;
    }

    /** User + system CPU time of the gateway process in milliseconds (from /proc/<pid>/stat, 100 ticks/s). */
    long cpuMillis() {
        return cpuMillis(pid());
    }

    /** User + system CPU time of a process in milliseconds (this JVM: ProcessHandle.current().pid()). */
    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * 10;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Lines of the gateway's log that are WARN or ERROR, or mention a blocked thread. */
    List<String> problemLines() {
        try {
            return Files.readAllLines(log).stream()
                    .filter(l -> l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("blocked"))
                    .toList();
        } catch (IOException e) {
            return List.of("(log unreadable: " + e + ")");
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(25));
    }

    /**
     * SIGTERM, and up to exitWait for the exit before SIGKILL (a training run that writes an AOT cache as it exits
     * needs longer than Camel's graceful shutdown).
     */
    void close(Duration exitWait) {
        try {
            if (jmx != null) {
                jmx.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: Camel's graceful shutdown
            try {
                if (!process.waitFor(exitWait.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (dbDir != null && !process.isAlive()) {
            try (var files = Files.walk(dbDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temp folder
            }
        }
    }

    /** The first line of {@code <java> -version}: which JDK the gateways run on. */
    static String javaVersion(String java) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
        String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().findFirst().orElse("?");
        p.waitFor();
        return first;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
