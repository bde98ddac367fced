package com.cobalt.chat.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.cobalt.chat.config.GatewaySettings;
import com.cobalt.chat.config.SettingsLoader;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests under {@code deploy/kubernetes} against the gateway itself, so they cannot drift from the
 * code: every file parses and is listed by its kustomization; the ConfigMaps carry every file of {@code routes/} and
 * the repository's application.properties and are mounted where the gateway's configuration home reads them; the
 * ports, the shutdown grace and the env names are what {@link SettingsLoader} makes of the Deployment's environment
 * and application.properties (not copies of the defaults); the probe and scrape paths answer on a running gateway's
 * management port.
 *
 * <p>Read with Jackson's YAML module (already on the test class path, the same Jackson as the code) rather than the
 * fabric8 Kubernetes model: the checks are by field, the model would add tens of generated jars, and it keeps
 * unknown fields without complaint too.
 */
class DeployManifestsTest {

    static final Path REPO = Path.of(System.getProperty("user.dir"));
    static final Path BASE = REPO.resolve("deploy/kubernetes/base");
    static final Path OVERLAY = REPO.resolve("deploy/kubernetes/overlays/example");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Variables the gateway reads that are not the environment name of a property in application.properties. */
    static final Set<String> OTHER_VARIABLES = Set.of("COBALT_HOME");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    // ------------------------------------------------------------------------------------------ the files

    @Test
    void everyManifestParsesAndTheKustomizationsListExactlyTheFilesThere() throws Exception {
        JsonNode base = read(BASE.resolve("kustomization.yaml"));
        assertThat(texts(base.get("resources"))).as("base resources")
                .containsExactlyInAnyOrderElementsOf(yamlFilesIn(BASE));
        for (String resource : texts(base.get("resources"))) {
            JsonNode doc = read(BASE.resolve(resource));
            assertThat(doc.path("apiVersion").asText()).as(resource).isNotEmpty();
            assertThat(doc.path("kind").asText()).as(resource).isNotEmpty();
            assertThat(doc.at("/metadata/name").asText()).as(resource).isEqualTo("cobalt-chat");
        }

        Map<String, List<String>> generated = configMapFiles(base);
        assertThat(generated.keySet()).containsExactly("cobalt-chat-config", "cobalt-chat-routes");
        assertThat(generated.get("cobalt-chat-config")).containsExactly("../../../application.properties");
        List<String> routeFiles;
        try (Stream<Path> files = Files.list(REPO.resolve("routes"))) {
            routeFiles = files.map(p -> "../../../routes/" + p.getFileName()).sorted().toList();
        }
        assertThat(generated.get("cobalt-chat-routes")).as("the route ConfigMap holds every file of routes/")
                .containsExactlyElementsOf(routeFiles);
        generated.values().stream().flatMap(List::stream)
                .forEach(f -> assertThat(BASE.resolve(f).normalize()).as(f).isRegularFile());

        JsonNode overlay = read(OVERLAY.resolve("kustomization.yaml"));
        assertThat(texts(overlay.get("resources"))).containsExactly("../../base");
        for (JsonNode patch : overlay.get("patches")) {
            JsonNode doc = read(OVERLAY.resolve(patch.get("path").asText()));
            assertThat(read(BASE.resolve(doc.get("kind").asText().toLowerCase() + ".yaml")).at("/metadata/name"))
                    .as("the patch's target exists in the base").isEqualTo(doc.at("/metadata/name"));
        }
        assertThat(texts(overlay.get("images").findValues("name"))).as("the overlay's image is the base's")
                .containsExactly(image(deployment()).split(":")[0]);
    }

    // ------------------------------------------------------------------------------------------ the Deployment

    @Test
    void portsProbesShutdownTimingAndScrapeAnnotationsFollowTheGatewaysSettings() throws Exception {
        JsonNode deployment = deployment();
        JsonNode pod = deployment.at("/spec/template");
        JsonNode container = gateway(deployment);
        GatewaySettings settings = settingsOf(deployment);
        Map<String, Integer> ports = new LinkedHashMap<>();
        container.get("ports").forEach(p -> ports.put(p.get("name").asText(), p.get("containerPort").asInt()));
        assertThat(ports).isEqualTo(Map.of("http", settings.runtime().httpPort(),
                "management", settings.runtime().managementPort()));

        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/observe/health/ready");
        assertThat(container.at("/readinessProbe/httpGet/port").asText()).isEqualTo("management");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/observe/health/live");
        assertThat(container.at("/livenessProbe/httpGet/port").asText()).isEqualTo("management");
        assertThat(container.at("/startupProbe/httpGet/port").asText()).isEqualTo("management");

        JsonNode annotations = pod.at("/metadata/annotations");
        assertThat(annotations.get("prometheus.io/scrape").asText()).isEqualTo("true");
        assertThat(annotations.get("prometheus.io/port").asText())
                .isEqualTo(String.valueOf(settings.runtime().managementPort()));
        assertThat(annotations.get("prometheus.io/path").asText()).isEqualTo("/observe/metrics");

        // SIGTERM comes after the preStop pause; then the streams get the grace; the kill only after both
        assertThat(pod.at("/spec/terminationGracePeriodSeconds").asInt())
                .as("terminationGracePeriodSeconds > preStop " + preStopSeconds(container)
                        + " s + CHAT_SHUTDOWN_GRACE_SECONDS " + settings.runtime().shutdownGraceSeconds() + " s")
                .isGreaterThan(preStopSeconds(container) + settings.runtime().shutdownGraceSeconds());

        assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(pod.at("/spec/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean(true)).isFalse();
    }

    @Test
    void everyVariableIsASettingOfTheGatewayAndSecretsComeFromTheSecret() throws Exception {
        Set<String> known = new TreeSet<>(OTHER_VARIABLES);
        repositoryProperties().stringPropertyNames().forEach(p -> known.add(SettingsLoader.envName(p)));
        Map<String, JsonNode> env = environment(deployment());
        assertThat(env.keySet()).as("variables the gateway does not read").isSubsetOf(known);
        Set<String> fromSecret = env.entrySet().stream().filter(e -> e.getValue().has("valueFrom"))
                .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
        assertThat(fromSecret).containsExactlyInAnyOrder("CHAT_DB_PASSWORD", "CHAT_JWT_SECRET", "SAMBANOVA_API_KEY",
                "AZURE_AI_API_KEY");
        for (String name : fromSecret) {
            JsonNode ref = env.get(name).at("/valueFrom/secretKeyRef");
            assertThat(ref.get("name").asText()).isEqualTo("cobalt-chat-secrets");
            assertThat(ref.get("key").asText()).isEqualTo(name);
        }
        assertThat(env.get("CHAT_DB_PASSWORD").at("/valueFrom/secretKeyRef/optional").asBoolean(false))
                .as("the database password is required").isFalse();
        env.forEach((name, v) -> {
            if (name.endsWith("_KEY") || name.endsWith("_SECRET") || name.endsWith("_PASSWORD")) {
                assertThat(v.has("value")).as(name + " is written in the manifest").isFalse();
            }
        });
    }

    @Test
    void theConfigMapsAreMountedWhereTheGatewaysConfigurationHomeReadsThem() throws Exception {
        JsonNode deployment = deployment();
        JsonNode container = gateway(deployment);
        Map<String, JsonNode> env = environment(deployment);
        Path home = Path.of(env.get("COBALT_HOME").get("value").asText());
        assertThat(env).doesNotContainKey("CHAT_ROUTES_DIRECTORY");
        Path routes = home.resolve(repositoryProperties().getProperty("chat.routes.directory").trim());

        Map<String, String> configMapOfVolume = new LinkedHashMap<>();
        deployment.at("/spec/template/spec/volumes").forEach(v -> {
            if (v.has("configMap")) {
                configMapOfVolume.put(v.get("name").asText(), v.at("/configMap/name").asText());
            }
        });
        Map<String, JsonNode> mounts = new LinkedHashMap<>();
        container.get("volumeMounts").forEach(m -> mounts.put(m.get("mountPath").asText(), m));

        JsonNode properties = mounts.get(home.resolve("application.properties").toString());
        assertThat(properties).as("a mount at " + home.resolve("application.properties")).isNotNull();
        assertThat(properties.get("subPath").asText()).isEqualTo("application.properties");
        assertThat(configMapOfVolume.get(properties.get("name").asText())).isEqualTo("cobalt-chat-config");

        JsonNode routeMount = mounts.get(routes.toString());
        assertThat(routeMount).as("a mount at " + routes).isNotNull();
        assertThat(routeMount.has("subPath")).isFalse();
        assertThat(configMapOfVolume.get(routeMount.get("name").asText())).isEqualTo("cobalt-chat-routes");
        assertThat(mounts.values()).allSatisfy(m -> assertThat(m.get("mountPath").asText())
                .as("a writable path with a read-only root file system").satisfiesAnyOf(
                        p -> assertThat(m.path("readOnly").asBoolean()).isTrue(),
                        p -> assertThat(p).isEqualTo("/tmp")));
    }

    // ------------------------------------------------------------------------------------------ the others

    @Test
    void theServicePublishesTheChatPortAloneAndTheNetworkPolicyKeepsManagementInsideTheCluster() throws Exception {
        JsonNode service = read(BASE.resolve("service.yaml"));
        JsonNode podLabels = deployment().at("/spec/template/metadata/labels");
        assertThat(service.at("/spec/selector")).isEqualTo(podLabels);
        assertThat(service.at("/spec/ports").size()).isEqualTo(1);
        assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("http");

        JsonNode policy = read(BASE.resolve("networkpolicy.yaml"));
        assertThat(policy.at("/spec/podSelector/matchLabels")).isEqualTo(podLabels);
        assertThat(texts(policy.at("/spec/policyTypes"))).contains("Ingress");
        Map<String, JsonNode> ruleByPort = new LinkedHashMap<>();
        for (JsonNode rule : policy.at("/spec/ingress")) {
            for (JsonNode port : rule.get("ports")) {
                ruleByPort.put(port.get("port").asText(), rule);
            }
        }
        assertThat(ruleByPort.keySet()).containsExactlyInAnyOrder("http", "management");
        JsonNode management = ruleByPort.get("management");
        assertThat(management.path("from").size()).as("the management port has sources").isPositive();
        for (JsonNode from : management.get("from")) {
            assertThat(from.has("ipBlock")).as("an address block may lie outside the cluster: " + from).isFalse();
            assertThat(from.has("namespaceSelector") || from.has("podSelector")).as(from.toString()).isTrue();
        }
    }

    @Test
    void theAutoscalerAndTheDisruptionBudgetKeepTheDeploymentServing() throws Exception {
        JsonNode deployment = deployment();
        JsonNode hpa = read(BASE.resolve("hpa.yaml"));
        assertThat(hpa.at("/spec/scaleTargetRef/kind").asText()).isEqualTo("Deployment");
        assertThat(hpa.at("/spec/scaleTargetRef/name")).isEqualTo(deployment.at("/metadata/name"));
        assertThat(hpa.at("/spec/minReplicas").asInt()).isEqualTo(deployment.at("/spec/replicas").asInt());
        assertThat(hpa.at("/spec/maxReplicas").asInt()).isGreaterThan(hpa.at("/spec/minReplicas").asInt());
        assertThat(gateway(deployment).at("/resources/requests/cpu").asText())
                .as("a CPU utilisation target needs a CPU request").isNotEmpty();

        assertThat(deployment.at("/spec/selector/matchLabels")).isEqualTo(deployment.at("/spec/template/metadata/labels"));
        JsonNode pdb = read(BASE.resolve("pdb.yaml"));
        assertThat(pdb.at("/spec/selector/matchLabels")).isEqualTo(deployment.at("/spec/template/metadata/labels"));
        assertThat(pdb.at("/spec/minAvailable").asInt()).isBetween(1, deployment.at("/spec/replicas").asInt() - 1);
        assertThat(deployment.at("/spec/strategy/rollingUpdate/maxUnavailable").asInt()).isZero();
    }

    @Test
    void theProbeAndScrapePathsAnswerOnARunningGatewaysManagementPort() throws Exception {
        JsonNode deployment = deployment();
        JsonNode container = gateway(deployment);
        int grace = settingsOf(deployment).runtime().shutdownGraceSeconds();
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo",
                "chat.shutdown-grace-seconds", String.valueOf(grace)))) {
            // the gateway bounds its whole shutdown (the streams' grace, then the rest): Kubernetes must not kill
            // it before, counting from the start of the preStop pause
            long shutdownBound = g.camel().getShutdownStrategy().getTimeUnit()
                    .toSeconds(g.camel().getShutdownStrategy().getTimeout());
            assertThat(shutdownBound).isGreaterThanOrEqualTo(grace);
            assertThat(deployment.at("/spec/template/spec/terminationGracePeriodSeconds").asLong())
                    .as("terminationGracePeriodSeconds > preStop + the gateway's shutdown bound " + shutdownBound + " s")
                    .isGreaterThan(preStopSeconds(container) + shutdownBound);
            for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                String path = container.at("/" + probe + "/httpGet/path").asText();
                HttpResponse<String> r = get(g.managementUrl() + path);
                assertThat(r.statusCode()).as(probe + " " + path).isEqualTo(200);
            }
            String metrics = deployment.at("/spec/template/metadata/annotations").get("prometheus.io/path").asText();
            HttpResponse<String> scraped = get(g.managementUrl() + metrics);
            assertThat(scraped.statusCode()).isEqualTo(200);
            assertThat(scraped.body()).contains("# TYPE llm_provider_up gauge");
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** The pause of the preStop hook: {@code sleep <seconds>}. */
    static int preStopSeconds(JsonNode container) {
        List<String> preStop = texts(container.at("/lifecycle/preStop/exec/command"));
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        int pause = Integer.parseInt(preStop.get(1));
        assertThat(pause).isPositive();
        return pause;
    }

    static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file.toString(), e);
        }
    }

    static List<String> yamlFilesIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).sorted().toList();
        }
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<String> texts(List<JsonNode> nodes) {
        return nodes.stream().map(JsonNode::asText).toList();
    }

    static Map<String, List<String>> configMapFiles(JsonNode kustomization) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        kustomization.get("configMapGenerator").forEach(g -> out.put(g.get("name").asText(), texts(g.get("files"))));
        return out;
    }

    /** The Deployment as the example overlay makes it: the base with the patch's variables merged by name. */
    static JsonNode deployment() {
        ObjectNode deployment = (ObjectNode) read(BASE.resolve("deployment.yaml"));
        JsonNode patch = read(OVERLAY.resolve("deployment-patch.yaml"));
        ArrayNode env = (ArrayNode) gateway(deployment).get("env");
        for (JsonNode patched : patch.at("/spec/template/spec/containers/0/env")) {
            boolean replaced = false;
            for (int i = 0; i < env.size(); i++) {
                if (env.get(i).get("name").equals(patched.get("name"))) {
                    env.set(i, patched);
                    replaced = true;
                }
            }
            if (!replaced) {
                env.add(patched);
            }
        }
        assertThat(patch.at("/spec/template/spec/containers/0/name")).isEqualTo(gateway(deployment).get("name"));
        return deployment;
    }

    static JsonNode gateway(JsonNode deployment) {
        JsonNode containers = deployment.at("/spec/template/spec/containers");
        assertThat(containers.size()).isEqualTo(1);
        return containers.get(0);
    }

    static String image(JsonNode deployment) {
        return gateway(deployment).get("image").asText();
    }

    static Map<String, JsonNode> environment(JsonNode deployment) {
        Map<String, JsonNode> env = new LinkedHashMap<>();
        gateway(deployment).get("env").forEach(e -> env.put(e.get("name").asText(), e));
        return env;
    }

    static Properties repositoryProperties() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(REPO.resolve("application.properties"), StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return p;
    }

    /**
     * What the gateway makes of this Deployment: its variables (a secret as a stand-in value of the right size) over
     * the application.properties the ConfigMap carries, through the gateway's own loader and validation.
     */
    static GatewaySettings settingsOf(JsonNode deployment) throws IOException {
        Properties file = repositoryProperties();
        Map<String, String> variables = new LinkedHashMap<>();
        environment(deployment).forEach((name, e) -> variables.put(name,
                e.has("value") ? e.get("value").asText() : "from-the-secret-" + "x".repeat(40)));
        return SettingsLoader.load(property -> {
            String v = variables.get(SettingsLoader.envName(property));
            if (v != null) {
                return v;
            }
            String p = file.getProperty(property);
            return p == null || p.isBlank() ? null : p.trim();
        });
    }

    static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
