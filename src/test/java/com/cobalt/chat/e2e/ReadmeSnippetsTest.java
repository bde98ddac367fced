package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README.md's snippets run as printed against the demo gateway. The snippets are read from README.md by the heading
 * they sit under and their fence language (never copied into this class); the only change made to them is the port:
 * {@code localhost:8080} and {@code localhost:9876} become the free ports of the gateway this class starts.
 *
 * <p>What runs, in README order:
 * <ol>
 *   <li>"Two commands", 1st {@code bash} block: its {@code NAME=value} assignments in front of {@code java -jar}
 *       ({@code LLM_PROVIDER=demo CHAT_AUTH_DISABLED=true}) are the whole configuration of the gateway started here,
 *       as a child process {@code java -cp <test class path> com.cobalt.chat.Application} (the jar's main class;
 *       {@code mvn package} is not run) in the repository root, with every LLM_/CHAT_/... variable of the caller's
 *       environment removed. Three further variables differ from the README on purpose: HTTP_PORT and
 *       MANAGEMENT_PORT are free ports, and CHAT_DB_URL is an H2 file in a temporary directory instead of
 *       {@code ./data}, so a run never touches a developer's data nor waits on the lock of a gateway they run.</li>
 *   <li>"Chat with the demo", the {@code bash} block (create a session, stream a message, read the session) with
 *       {@code bash -c} and curl; one line is appended that prints {@code $SESSION}, so the id the snippet created
 *       can be asserted. The untagged block after it ("The answer arrives as") is the expected first and last
 *       events of the stream.</li>
 *   <li>"Chat with the demo", the "Operations:" line's {@code curl localhost:9876/observe/health} and
 *       {@code curl localhost:9876/observe/metrics}.</li>
 *   <li>"Use it from an OpenAI SDK", the {@code bash} block ({@code export COBALT_JWT=...}): run in the same bash
 *       ahead of each SDK program below, whose environment otherwise has no COBALT_JWT and no OPENAI_* variable
 *       (the SDKs would take OPENAI_API_KEY in its place).</li>
 *   <li>the {@code js} block as {@code chat.mjs} with {@code node}, next to the official {@code openai} npm package
 *       {@value #OPENAI_NPM_VERSION} installed once under {@code target/readme-snippets/} (skipped, with the reason,
 *       when node/npm are missing or the npm registry cannot be reached). {@value #OPENAI_NPM_VERSION} is the
 *       newest release whose {@code engines} accepts Node 20, the machine image's Node; 7.x asks for Node 22 (the
 *       snippet also ran with 7.59.0 on Node 20 by hand). {@code -Dreadme.openai.npm.version=...} tries another.</li>
 *   <li>the {@code java} block: its {@code import} lines and then its statements as the body of {@code main},
 *       compiled with {@link ToolProvider#getSystemJavaCompiler()} against the test class path (the official
 *       {@code com.openai:openai-java} is a test dependency) and run in a new JVM.</li>
 *   <li>the {@code python} block with {@code python3}, only where the {@code openai} Python package is installed:
 *       {@code pip install openai} needs PyPI, which this project's machines cannot reach, so here it is skipped
 *       with that reason.</li>
 * </ol>
 * Not run: the blocks that need a real provider's credentials or an Azure subscription (SambaNova, Azure, OpenAI,
 * vLLM set-ups), {@code mvn -B test} (it is this suite), and blocks that are data rather than commands (properties,
 * JSON, PromQL, the layout). {@link #everyCommandSnippetIsRunOrSaysWhyNot()} keeps this list honest: a new command
 * block in the README fails it until it is listed here.
 */
class ReadmeSnippetsTest {

    static final String OPENAI_NPM_VERSION = "6.49.0";
    static final String DEMO_ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer word by word"
            + " through the same routes, circuit breaker and SSE relay a real provider uses. Set LLM_PROVIDER to"
            + " sambanova or azure to talk to a real model.";
    static final Pattern UUID_V7 =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    static final List<String> GATEWAY_PREFIXES =
            List.of("LLM_", "SAMBANOVA_", "AZURE_", "CHAT_", "DEMO_", "HTTP_", "MANAGEMENT_", "CAMEL_", "COBALT_");
    static final ObjectMapper JSON = new ObjectMapper();

    static final String TWO_COMMANDS = "Two commands";
    static final String CHAT = "Chat with the demo";
    static final String SDK = "Use it from an OpenAI SDK";

    /** Every command block of the README (heading, language, index under the heading) and what this class does with it. */
    static final Map<String, String> COVERAGE = new LinkedHashMap<>();

    static {
        COVERAGE.put(TWO_COMMANDS + " / bash #0", "run: its environment configures the gateway under test");
        COVERAGE.put(TWO_COMMANDS + " / bash #1", "not run: mvn -B test is this suite");
        COVERAGE.put(CHAT + " / bash #0", "run: chatWithTheDemoCurls");
        COVERAGE.put("Talking to real providers / bash #0", "not run: needs SambaNova and Azure credentials");
        COVERAGE.put("Add a provider / bash #0", "not run: needs SambaNova and OpenAI credentials");
        COVERAGE.put("Add a provider / bash #1", "not run: needs a vLLM server and SambaNova credentials");
        COVERAGE.put("Configure the catalog / bash #0", "not run: SambaNova / Azure catalog, needs their credentials");
        COVERAGE.put("Azure AI Foundry set-up / bash #0", "not run: needs an Azure subscription");
        COVERAGE.put("Azure AI Foundry set-up / bash #1", "not run: needs an Azure subscription and SambaNova key");
        String enterprise = "Azure in the enterprise: Entra ID, rotating keys, several deployments";
        COVERAGE.put(enterprise + " / bash #0", "not run: needs an Azure subscription (role assignment, az login);"
                + " the Entra flows run against fakes in EntraManagedIdentityTest and EntraClientSecretTest");
        COVERAGE.put(enterprise + " / bash #1", "not run: needs an AKS cluster and an Azure subscription");
        COVERAGE.put(enterprise + " / bash #2", "not run: needs a Container App and an Azure subscription");
        COVERAGE.put(enterprise + " / bash #3", "not run: needs an Azure subscription and a Kubernetes cluster;"
                + " key-file rotation runs in KeyFileRotationTest");
        COVERAGE.put(enterprise + " / bash #4", "not run: needs two Azure deployments; the weighted spread runs"
                + " against two fakes in WeightedBalanceTest");
        COVERAGE.put(SDK + " / bash #0", "run: ahead of each SDK program");
        COVERAGE.put("The image / bash #0", "not run: builds the image (ImageTarTest runs a built one)");
        COVERAGE.put("Start-up / bash #0", "not run: a training run and a restart with AppCDS; bench/run.sh --scenarios"
                + " cold-start runs the same two flags against the built jar");
        COVERAGE.put("Start-up / bash #1", "not run: needs Java 24 or later (the AOT cache); bench/run.sh --scenarios"
                + " cold-start --cold-cds aot --gateway-java <java> measures it");
        COVERAGE.put("Kubernetes / bash #0", "not run: needs a Kubernetes cluster (DeployManifestsTest checks the manifests)");
        COVERAGE.put(SDK + " / python #0", "run where the openai Python package is installed: pythonSnippet");
        COVERAGE.put(SDK + " / js #0", "run: javascriptSnippet");
        COVERAGE.put(SDK + " / java #0", "run: javaSnippet");
    }

    static final List<String> COMMAND_LANGUAGES =
            List.of("bash", "sh", "shell", "console", "js", "javascript", "mjs", "ts", "typescript", "java", "python",
                    "py");

    @TempDir
    static Path work;

    static Readme readme;
    static Process gateway;
    static Path gatewayLog;
    static int port;
    static int managementPort;

    @BeforeAll
    static void startTheDemoAsTheReadmeSaysOnFreePorts() throws Exception {
        readme = Readme.read(Path.of("README.md"));
        String first = readme.block(TWO_COMMANDS, "bash", 0).body();
        Matcher command = Pattern.compile("((?:[A-Z][A-Z0-9_]*=\\S+\\s+)+)java -jar target/cobalt-chat\\.jar")
                .matcher(first);
        assertThat(command.find()).as("the first command starts the jar with its environment:\n" + first).isTrue();
        Map<String, String> readmeEnvironment = new LinkedHashMap<>();
        for (String assignment : command.group(1).trim().split("\\s+")) {
            readmeEnvironment.put(assignment.substring(0, assignment.indexOf('=')),
                    assignment.substring(assignment.indexOf('=') + 1));
        }
        assertThat(readmeEnvironment).containsEntry("LLM_PROVIDER", "demo");

        port = freePort();
        managementPort = freePort();
        ProcessBuilder pb = new ProcessBuilder(javaBinary(), "-cp", System.getProperty("java.class.path"),
                "com.cobalt.chat.Application");
        pb.directory(Path.of(System.getProperty("user.dir")).toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> GATEWAY_PREFIXES.stream().anyMatch(k::startsWith));
        env.putAll(readmeEnvironment);
        // the only differences from the README's command: free ports instead of 8080 / 9876, and a database file of
        // this run instead of ./data/cobalt-chat (still an embedded H2 file, as by default)
        env.put("HTTP_PORT", String.valueOf(port));
        env.put("MANAGEMENT_PORT", String.valueOf(managementPort));
        env.put("CHAT_DB_URL", "jdbc:h2:file:" + work.resolve("data/cobalt-chat").toAbsolutePath());
        gatewayLog = work.resolve("gateway.log");
        pb.redirectErrorStream(true).redirectOutput(gatewayLog.toFile());
        gateway = pb.start();
        gateway.getOutputStream().close();

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/observe/health"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // a JVM start on two shared cores
        while (true) {
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            // the pause between polls ends at once if the gateway exits
            if (gateway.waitFor(200, TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the demo gateway exited with " + gateway.exitValue() + ":\n" + log());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the demo gateway was not UP within 120 s:\n" + log());
            }
        }
    }

    @AfterAll
    static void stopTheGateway() throws Exception {
        if (gateway != null) {
            gateway.destroy(); // SIGTERM: the graceful shutdown, as an operator stops it
            if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
                gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void everyCommandSnippetIsRunOrSaysWhyNot() {
        List<String> commandBlocks = readme.blocks().stream()
                .filter(b -> COMMAND_LANGUAGES.contains(b.lang()))
                .map(Block::key)
                .collect(Collectors.toList());

        assertThat(commandBlocks).as("README command blocks against this class's COVERAGE list")
                .containsExactlyInAnyOrderElementsOf(COVERAGE.keySet());
    }

    @Test
    void chatWithTheDemoCurls() throws Exception {
        Block snippet = readme.block(CHAT, "bash", 0);
        // appended: print what the snippet put in $SESSION, so the id it created can be asserted
        String script = withPorts(snippet.body()) + "\nprintf '\\nSESSION=%s\\n' \"$SESSION\"\n";

        Run run = Run.of(List.of("bash", "-c", script), work, Map.of(), Duration.ofSeconds(60));

        assertThat(run.exit()).as(run.describe()).isZero();
        String out = run.stdout();
        int probe = out.lastIndexOf("\nSESSION=");
        assertThat(probe).as(run.describe()).isPositive();
        String session = out.substring(probe + "\nSESSION=".length());
        assertThat(session).as(run.describe()).matches(UUID_V7.pattern() + "\n");
        session = session.strip();

        // the answer: server-sent events, one data line each, a blank line after each
        String done = "data: [DONE]\n\n";
        int streamEnd = out.indexOf(done);
        assertThat(streamEnd).as(run.describe()).isPositive();
        String stream = out.substring(0, streamEnd + done.length());
        List<String> events = List.of(stream.substring(0, stream.length() - 2).split("\n\n", -1));
        assertThat(events).as(run.describe()).allSatisfy(e -> assertThat(e).doesNotContain("\n").startsWith("data: "));

        // the README shows the first events, "...", and the last ones
        List<String> shown = readme.block(CHAT, "", 0).body().lines().collect(Collectors.toList());
        int dots = shown.indexOf("...");
        assertThat(dots).as("the README's answer block: " + shown).isPositive();
        List<String> head = shown.subList(0, dots);
        List<String> tail = shown.subList(dots + 1, shown.size());
        assertThat(events.subList(0, head.size())).as(run.describe()).isEqualTo(head);
        assertThat(events.subList(events.size() - tail.size(), events.size())).as(run.describe()).isEqualTo(tail);
        assertThat(tail).containsExactly("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
                "data: [DONE]");

        StringBuilder text = new StringBuilder();
        for (String event : events.subList(0, events.size() - tail.size())) {
            assertThat(event).as(run.describe()).matches("data: \\{\"content\":\"(?:[^\"\\\\]|\\\\.)*\",\"done\":false}");
            JsonNode data = JSON.readTree(event.substring("data: ".length()));
            assertThat(fieldNames(data)).containsExactly("content", "done");
            text.append(data.get("content").asText());
        }
        assertThat(text.toString()).isEqualTo(DEMO_ANSWER);

        // the session with its stored messages
        JsonNode stored = JSON.readTree(out.substring(streamEnd + done.length(), probe));
        assertThat(fieldNames(stored)).containsExactly("id", "title", "created_at", "updated_at", "messages",
                "next_cursor");
        assertThat(stored.get("id").asText()).isEqualTo(session);
        assertThat(stored.get("title").asText()).isEqualTo("First chat");
        JsonNode messages = stored.get("messages");
        assertThat(messages).hasSize(2);
        assertThat(fieldNames(messages.get(0)))
                .containsExactly("id", "exchange_id", "role", "content", "status", "created_at");
        assertThat(messages.get(0).get("role").asText()).isEqualTo("user");
        assertThat(messages.get(0).get("content").asText()).isEqualTo("Hello!");
        assertThat(messages.get(0).get("status").asText()).isEqualTo("complete");
        assertThat(fieldNames(messages.get(1)))
                .containsExactly("id", "exchange_id", "role", "content", "status", "model", "created_at",
                        "finish_reason");
        assertThat(messages.get(1).get("finish_reason").asText()).isEqualTo("stop");
        assertThat(messages.get(1).get("exchange_id")).isEqualTo(messages.get(0).get("exchange_id"));
        assertThat(messages.get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(messages.get(1).get("content").asText()).isEqualTo(DEMO_ANSWER);
        assertThat(messages.get(1).get("status").asText()).isEqualTo("complete");
        assertThat(messages.get(1).get("model").asText()).isEqualTo("cobalt-demo");
    }

    @Test
    void operationsCurls() throws Exception {
        String line = readme.paragraph(CHAT, "Operations:");
        List<String> commands = new ArrayList<>();
        Matcher m = Pattern.compile("`(curl [^`]+)`").matcher(line);
        while (m.find()) {
            commands.add(m.group(1));
        }
        assertThat(commands).containsExactly("curl localhost:9876/observe/health",
                "curl localhost:9876/observe/metrics");

        Run health = Run.of(List.of("bash", "-c", withPorts(commands.get(0))), work, Map.of(), Duration.ofSeconds(30));
        assertThat(health.exit()).as(health.describe()).isZero();
        JsonNode status = JSON.readTree(health.stdout());
        assertThat(status.get("status").asText()).as(health.describe()).isEqualTo("UP");
        assertThat(status.get("checks").toString()).contains("{\"name\":\"database\",\"status\":\"UP\"}")
                .contains("{\"name\":\"accepting-requests\",\"status\":\"UP\"}").doesNotContain("provider:");

        Run metrics = Run.of(List.of("bash", "-c", withPorts(commands.get(1))), work, Map.of(), Duration.ofSeconds(30));
        assertThat(metrics.exit()).as(metrics.describe()).isZero();
        assertThat(metrics.stdout()).as(metrics.describe())
                .contains("\n# TYPE chat_active_streams gauge\n")
                .contains("\nllm_provider_selected{provider=\"demo\",role=\"primary\"} 1.0\n");
    }

    @Test
    void javascriptSnippet() throws Exception {
        Block snippet = readme.block(SDK, "js", 0);
        // the README says how to run it: an ES module, chat.mjs
        assertThat(snippet.lead()).contains("save it as `chat.mjs`").contains("`node chat.mjs`");
        assumeTrue(onPath("node"), "node is not on the PATH: the JavaScript snippet is not run");
        assumeTrue(onPath("npm"), "npm is not on the PATH: the JavaScript snippet is not run");
        Path packageDir = openaiNpmPackage();
        Path dir = Files.createTempDirectory(packageDir, "run-");
        try {
            Files.writeString(dir.resolve("chat.mjs"), withPorts(snippet.body()));

            Run run = runWithTheReadmeKey(dir, "node", "chat.mjs");

            assertThat(run.exit()).as(run.describe()).isZero();
            assertThat(run.stderr()).as(run.describe()).isEmpty();
            // console.log(content, usage)
            Matcher out = Pattern.compile(Pattern.quote(DEMO_ANSWER)
                    + " \\{ prompt_tokens: (\\d+), completion_tokens: (\\d+), total_tokens: (\\d+) }\n")
                    .matcher(run.stdout());
            assertThat(out.matches()).as(run.describe()).isTrue();
            int prompt = Integer.parseInt(out.group(1));
            int completion = Integer.parseInt(out.group(2));
            assertThat(prompt).isPositive();
            assertThat(completion).isPositive();
            assertThat(Integer.parseInt(out.group(3))).isEqualTo(prompt + completion);
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void javaSnippet() throws Exception {
        Block snippet = readme.block(SDK, "java", 0);
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        snippet.body().lines().forEach(l -> (l.startsWith("import ") ? imports : body).append(l).append('\n'));
        assertThat(imports).as("the snippet names its imports").isNotEmpty();
        String source = imports + "\npublic final class ReadmeSnippet {\n"
                + "    public static void main(String[] args) {\n" + withPorts(body.toString()) + "    }\n}\n";
        Path dir = Files.createDirectories(work.resolve("java-snippet"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Path file = Files.writeString(dir.resolve("ReadmeSnippet.java"), source);

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assumeTrue(javac != null, "this Java runtime has no compiler: the Java snippet is not run");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter compilerOut = new StringWriter();
        boolean compiled;
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            compiled = javac.getTask(compilerOut, files, diagnostics,
                    List.of("-proc:none", "-d", classes.toString(), "-cp", System.getProperty("java.class.path")),
                    null, files.getJavaFileObjects(file.toFile())).call();
        }
        assertThat(compiled).as("compiling\n" + source + "\n" + diagnostics.getDiagnostics() + compilerOut).isTrue();

        // start-up flags only (C1, serial GC): the JVM exists for the one short snippet
        Run run = runWithTheReadmeKey(dir, javaBinary(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                classes + File.pathSeparator + System.getProperty("java.class.path"), "ReadmeSnippet");

        assertThat(run.exit()).as(run.describe()).isZero();
        assertThat(run.stdout()).as(run.describe()).isEqualTo(DEMO_ANSWER + "\n");
    }

    @Test
    void pythonSnippet() throws Exception {
        Block snippet = readme.block(SDK, "python", 0);
        assumeTrue(onPath("python3"), "python3 is not on the PATH: the Python snippet is not run");
        Run probe = Run.of(List.of("python3", "-c", "import openai"), work, Map.of(), Duration.ofSeconds(30));
        assumeTrue(probe.exit() == 0, "the openai Python package is not installed (pip install openai needs PyPI,"
                + " which this machine cannot reach): the Python snippet is not run");
        Path dir = Files.createDirectories(work.resolve("python-snippet"));
        Files.writeString(dir.resolve("chat.py"), withPorts(snippet.body()));

        Run run = runWithTheReadmeKey(dir, "python3", "chat.py");

        assertThat(run.exit()).as(run.describe()).isZero();
        assertThat(run.stdout()).as(run.describe()).isEqualTo(DEMO_ANSWER);
    }

    // --- helpers ---

    /** The SDK section's key block, then the program, in one bash: the program sees only the key the README sets. */
    static Run runWithTheReadmeKey(Path dir, String... program) {
        String key = readme.block(SDK, "bash", 0).body();
        assertThat(key).contains("export COBALT_JWT=");
        List<String> command = new ArrayList<>(List.of("bash", "-c", key + "\nexec \"$@\"", "bash"));
        command.addAll(List.of(program));
        return Run.of(command, dir, Map.of(), Duration.ofSeconds(120));
    }

    /** The README's ports, 8080 (chat API) and 9876 (management), become this run's free ports. */
    static String withPorts(String snippet) {
        assertThat(snippet).containsAnyOf("localhost:8080", "localhost:9876");
        return snippet.replace("localhost:8080", "localhost:" + port)
                .replace("localhost:9876", "localhost:" + managementPort);
    }

    /** openai@{@value #OPENAI_NPM_VERSION} installed once under target/, or the test is skipped saying why. */
    static Path openaiNpmPackage() throws IOException {
        String version = System.getProperty("readme.openai.npm.version", OPENAI_NPM_VERSION);
        Path root = Path.of(System.getProperty("user.dir"), "target", "readme-snippets").toAbsolutePath();
        Path dir = root.resolve("openai-" + version);
        Path installed = dir.resolve("node_modules/openai/package.json");
        if (Files.exists(installed)
                && JSON.readTree(installed.toFile()).path("version").asText().equals(version)) {
            return dir;
        }
        Files.createDirectories(dir);
        Map<String, String> npmEnv = Map.of("npm_config_cache", root.resolve("npm-cache").toString());
        String unreachable = "the npm registry cannot be reached, so openai@" + version + " cannot be installed:"
                + " the JavaScript snippet is not run\n";
        Run ping;
        try {
            ping = Run.of(List.of("npm", "ping", "--fetch-retries=0", "--fetch-timeout=10000"), dir, npmEnv,
                    Duration.ofSeconds(30));
        } catch (AssertionError timedOut) {
            throw new org.opentest4j.TestAbortedException(unreachable + timedOut.getMessage());
        }
        if (ping.exit() != 0) {
            abort(unreachable + ping.describe());
        }
        // a package of its own without "type", as `npm install openai` makes in an empty directory
        Files.writeString(dir.resolve("package.json"), "{\"name\":\"readme-snippets\",\"private\":true}\n");
        Run install = Run.of(List.of("npm", "install", "--no-audit", "--no-fund", "openai@" + version), dir, npmEnv,
                Duration.ofSeconds(300));
        assertThat(install.exit()).as(install.describe()).isZero();
        assertThat(JSON.readTree(installed.toFile()).path("version").asText()).isEqualTo(version);
        return dir;
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static boolean onPath(String program) {
        return Run.of(List.of("bash", "-c", "command -v " + program), work, Map.of(), Duration.ofSeconds(10))
                .exit() == 0;
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String log() {
        try {
            return Files.readString(gatewayLog);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    static int freePort() {
        return RunningGateway.freePort(); // never one this JVM handed out already
    }

    static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            Iterator<Path> reversed = paths.sorted(java.util.Comparator.reverseOrder()).iterator();
            while (reversed.hasNext()) {
                Files.deleteIfExists(reversed.next());
            }
        }
    }

    /** A command's exit code and whole output; its environment has no COBALT_JWT and no OPENAI_* variable. */
    record Run(List<String> command, int exit, String stdout, String stderr) {

        static Run of(List<String> command, Path dir, Map<String, String> env, Duration deadline) {
            try {
                Path out = Files.createTempFile(work, "out-", ".txt");
                Path err = Files.createTempFile(work, "err-", ".txt");
                ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().keySet().removeIf(k -> k.equals("COBALT_JWT") || k.startsWith("OPENAI_"));
                pb.environment().putAll(env);
                Process p = pb.start();
                p.getOutputStream().close();
                if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(new Run(command, -1, Files.readString(out), Files.readString(err))
                            .describe() + "\ndid not end within " + deadline.toSeconds() + " s");
                }
                return new Run(command, p.exitValue(), Files.readString(out), Files.readString(err));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        String describe() {
            String shown = command.stream().map(a -> a.length() > 300 ? a.substring(0, 300) + "..." : a)
                    .collect(Collectors.joining(" "));
            return shown + " -> exit " + exit + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    /** A fenced block: the heading it sits under, its language ("" when untagged), its text, the paragraph before it. */
    record Block(String heading, String lang, int index, String body, String lead) {
        String key() {
            return heading + " / " + lang + " #" + index;
        }
    }

    /** README.md's headings, fenced blocks and paragraphs. */
    record Readme(List<Block> blocks, Map<String, List<String>> paragraphs) {

        static Readme read(Path file) throws IOException {
            List<Block> blocks = new ArrayList<>();
            Map<String, List<String>> paragraphs = new LinkedHashMap<>();
            String heading = "";
            String lead = "";
            StringBuilder paragraph = new StringBuilder();
            Iterator<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                String trimmed = line.strip();
                if (trimmed.startsWith("```")) {
                    if (paragraph.length() > 0) {
                        paragraphs.computeIfAbsent(heading, k -> new ArrayList<>()).add(paragraph.toString());
                        lead = paragraph.toString();
                        paragraph.setLength(0);
                    }
                    String lang = trimmed.substring(3).strip();
                    String indent = line.substring(0, line.indexOf('`'));
                    StringBuilder body = new StringBuilder();
                    while (lines.hasNext()) {
                        String inner = lines.next();
                        if (inner.strip().equals("```")) {
                            break;
                        }
                        body.append(inner.startsWith(indent) ? inner.substring(indent.length()) : inner).append('\n');
                    }
                    String h = heading;
                    int index = (int) blocks.stream().filter(b -> b.heading().equals(h) && b.lang().equals(lang))
                            .count();
                    blocks.add(new Block(heading, lang, index, body.toString(), lead));
                } else if (trimmed.matches("#{1,6} .*")) {
                    heading = trimmed.replaceFirst("#{1,6} ", "");
                    lead = "";
                } else if (trimmed.isEmpty()) {
                    if (paragraph.length() > 0) {
                        paragraphs.computeIfAbsent(heading, k -> new ArrayList<>()).add(paragraph.toString());
                        lead = paragraph.toString();
                        paragraph.setLength(0);
                    }
                } else {
                    paragraph.append(paragraph.length() > 0 ? " " : "").append(trimmed);
                }
            }
            return new Readme(blocks, paragraphs);
        }

        Block block(String heading, String lang, int index) {
            return blocks.stream()
                    .filter(b -> b.heading().equals(heading) && b.lang().equals(lang) && b.index() == index)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("README.md has no " + (lang.isEmpty() ? "untagged" : lang)
                            + " block #" + index + " under \"" + heading + "\""));
        }

        String paragraph(String heading, String start) {
            return paragraphs.getOrDefault(heading, List.of()).stream().filter(p -> p.startsWith(start)).findFirst()
                    .orElseThrow(() -> new AssertionError("README.md has no paragraph \"" + start + "...\" under \""
                            + heading + "\""));
        }
    }
}
