package com.cobalt.chat;

import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.cobalt.chat.config.InvalidConfigurationException;
import org.apache.camel.main.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the gateway: Camel Main with the configuration home's application.properties and routes. The home is
 * COBALT_HOME when set, else the working directory when it holds application.properties, else the directory of the
 * gateway's jar; relative {@code file:} route locations and the default embedded H2 file are taken in the home, so
 * {@code java -jar /opt/cobalt/cobalt-chat.jar} works from any directory.
 */
public final class Application {

    /** The working directory's file: what the in-process tests (and a run from the home itself) use. */
    public static final String PROPERTIES_LOCATION = "file:application.properties";
    static final String PROPERTIES_FILE = "application.properties";
    static final String ROUTES_PATTERN = "camel.main.routes-include-pattern";
    static final String ROUTES_DIRECTORY = "chat.routes.directory";
    static final String DB_URL = "chat.db.url";
    static final String ROUTES_RELOAD = "chat.routes.reload";

    private Application() {
    }

    public static void main(String[] args) throws Exception {
        withoutH2ObjectCache(System.getProperties());
        Home home;
        try {
            home = Home.resolve(System.getenv(), Path.of("").toAbsolutePath(), codeLocation());
        } catch (InvalidConfigurationException invalid) {
            refuse(null, invalid.getMessage());
            return;
        }
        StopDeadline.install();
        Main main = new Main();
        // the home's file, not the jar's class path: operators edit it without a rebuild
        main.setPropertyPlaceholderLocations("file:" + home.dir().resolve(PROPERTIES_FILE));
        home.overrides(System.getenv()).forEach(main::addOverrideProperty);
        Logger log = LoggerFactory.getLogger(Application.class);
        log.info("Configuration home: {} ({})", home.dir(), home.why());
        try {
            int code = main.run(args);
            System.exit(code);
        } catch (Exception e) {
            InvalidConfigurationException invalid = find(e);
            if (invalid == null) {
                // a route file Camel cannot read, a missing folder, a database that fails a statement: thrown out
                // of main with the event loops already running, it left a process that neither served nor exited
                // (black-box probe, 2026-12-05) - a supervisor never saw the failure
                refuse(main, StartFailure.describe(e));
            } else {
                refuse(main, invalid.getMessage());
            }
        }
    }

    /**
     * H2 puts every value it reads or writes through a shared cache of equal values, hashing each text to find its
     * slot ({@code h2.objectCache}). The gateway's texts are messages, rarely equal twice, and H2 reads them again
     * whenever it compacts its file: that hashing was 3-4% of the gateway's CPU samples (bench/README.md, fix 30).
     * Called before any H2 class loads (H2 reads the property once); {@code -Dh2.objectCache=true} still wins.
     */
    static void withoutH2ObjectCache(Properties system) {
        system.putIfAbsent(H2_OBJECT_CACHE, "false");
    }

    static final String H2_OBJECT_CACHE = "h2.objectCache";

    /**
     * Exit code 2 with the message. Camel's hang-up hook would log "JVM shutdown hook triggered by SIGTERM" as the
     * JVM exits, which is not what happened: marking Camel's run as completed first keeps it quiet. The exit runs
     * the shutdown hooks; should one of them hang (a half-started context waiting on an unresponsive database), the
     * process is halted after {@link #EXIT_DEADLINE_SECONDS}, so a refusal always ends the process.
     */
    private static void refuse(Main main, String message) {
        System.err.println("Cobalt Chat Gateway cannot start. " + message);
        System.err.flush();
        if (main != null && main.getShutdownStrategy() != null) {
            main.getShutdownStrategy().shutdown();
        }
        Thread deadline = new Thread(() -> {
            try {
                java.util.concurrent.TimeUnit.SECONDS.sleep(EXIT_DEADLINE_SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(2);
        }, "exit-deadline");
        deadline.setDaemon(true);
        deadline.start();
        System.exit(2);
    }

    static final int EXIT_DEADLINE_SECONDS = 15;

    private static InvalidConfigurationException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InvalidConfigurationException ice) {
                return ice;
            }
        }
        return null;
    }

    /** Where the gateway's classes come from: its jar, or a classes directory when run from a build. */
    private static Path codeLocation() {
        try {
            CodeSource source = Application.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** The configuration home and why it was chosen. */
    record Home(Path dir, String why) {

        static Home resolve(Map<String, String> env, Path workingDir, Path code) {
            String explicit = env.get("COBALT_HOME");
            Home home;
            if (explicit != null && !explicit.isBlank()) {
                home = new Home(workingDir.resolve(explicit.trim()).normalize(), "COBALT_HOME");
            } else if (Files.isRegularFile(workingDir.resolve(PROPERTIES_FILE))) {
                home = new Home(workingDir, "the working directory");
            } else if (code != null && Files.isRegularFile(code) && code.getParent() != null) {
                home = new Home(code.getParent().toAbsolutePath().normalize(), "the directory of " + code.getFileName());
            } else {
                home = new Home(workingDir, "the working directory");
            }
            if (!Files.isRegularFile(home.dir().resolve(PROPERTIES_FILE))) {
                throw new InvalidConfigurationException(List.of("no " + PROPERTIES_FILE + " in " + home.dir()
                        + " (chosen as " + home.why() + "); set COBALT_HOME to the directory that holds "
                        + PROPERTIES_FILE + " and routes/"));
            }
            return home;
        }

        /**
         * Relative locations of the home's file, made absolute in the home: {@code file:} route patterns and an
         * embedded H2 file. A value the environment sets (CAMEL_MAIN_ROUTES_INCLUDE_PATTERN, CHAT_DB_URL) is left
         * as given.
         */
        Map<String, String> overrides(Map<String, String> env) {
            Properties file = new Properties();
            try (Reader r = Files.newBufferedReader(dir.resolve(PROPERTIES_FILE), StandardCharsets.UTF_8)) {
                file.load(r);
            } catch (IOException e) {
                throw new InvalidConfigurationException(List.of("cannot read " + dir.resolve(PROPERTIES_FILE)
                        + " (" + e.getClass().getSimpleName() + ")"));
            }
            Map<String, String> overrides = new java.util.LinkedHashMap<>();
            // the route files, the provider Kamelet and the reload watch all follow chat.routes.directory
            String routes = env.getOrDefault("CHAT_ROUTES_DIRECTORY", file.getProperty(ROUTES_DIRECTORY));
            if (routes != null && !routes.isBlank() && !Path.of(routes.trim()).isAbsolute()) {
                overrides.put(ROUTES_DIRECTORY, dir.resolve(routes.trim()).normalize().toString());
            }
            String pattern = file.getProperty(ROUTES_PATTERN);
            if (pattern != null && !pattern.contains("{{") && !env.containsKey("CAMEL_MAIN_ROUTES_INCLUDE_PATTERN")) {
                overrides.put(ROUTES_PATTERN, routesIn(pattern));
            }
            // Camel binds camel.main.routes-reload-enabled = {{chat.routes.reload}} before the gateway's check runs,
            // and would refuse a value that is not a boolean alone, with its own exception: reload stays off then,
            // and the check names CHAT_ROUTES_RELOAD in the one refusal
            String reload = env.getOrDefault("CHAT_ROUTES_RELOAD", file.getProperty(ROUTES_RELOAD));
            if (reload != null && !reload.trim().equalsIgnoreCase("true") && !reload.trim().equalsIgnoreCase("false")) {
                overrides.put("camel.main.routes-reload-enabled", "false");
            }
            String db = file.getProperty(DB_URL);
            if (db != null && !env.containsKey("CHAT_DB_URL")) {
                String inHome = h2FileIn(db.trim());
                if (!inHome.equals(db.trim())) {
                    overrides.put(DB_URL, inHome);
                }
            }
            return overrides;
        }

        String routesIn(String pattern) {
            List<String> out = new ArrayList<>();
            for (String p : pattern.split(",")) {
                String t = p.trim();
                if (t.startsWith("file:") && !Path.of(t.substring(5)).isAbsolute()) {
                    t = "file:" + dir.resolve(t.substring(5)).normalize();
                }
                out.add(t);
            }
            return String.join(",", out);
        }

        String h2FileIn(String url) {
            String prefix = url.startsWith("jdbc:h2:file:") ? "jdbc:h2:file:"
                    : url.startsWith("jdbc:h2:./") || url.startsWith("jdbc:h2:../") ? "jdbc:h2:" : null;
            if (prefix == null) {
                return url;
            }
            String rest = url.substring(prefix.length());
            int settings = rest.indexOf(';');
            String path = settings < 0 ? rest : rest.substring(0, settings);
            if (path.startsWith("~") || Path.of(path).isAbsolute()) {
                return url;
            }
            return "jdbc:h2:file:" + dir.resolve(path).normalize() + (settings < 0 ? "" : rest.substring(settings));
        }
    }
}
