package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The YAML routes are what Camel's own tooling accepts: each validates against the camel-yaml-dsl JSON schema of the
 * Camel version on the class path, holds exactly the route named after its file, and names every step that calls
 * out, so that metrics, traces and the health of each step can be told apart.
 */
class RouteYamlSchemaTest {

    static final Path ROUTES = Path.of(System.getProperty("user.dir"), "routes");
    static final String SUFFIX = ".camel.yaml";
    static final String ERROR_HANDLING = "error-handling";
    static final String KAMELET = "provider-call";
    static final String KAMELET_SUFFIX = ".kamelet.yaml";
    /** Steps that call a bean, an endpoint or a processor. */
    static final Set<String> CALLING_STEPS =
            Set.of("to", "toD", "bean", "process", "circuitBreaker", "enrich", "pollEnrich", "wireTap");
    /** Steps that compute a value; they call out when the value comes from a bean method. */
    static final Set<String> SETTING_STEPS = Set.of("setVariable", "setBody", "setHeader", "setProperty");

    static final YAMLMapper YAML = new YAMLMapper();
    static JsonSchema schema;

    @BeforeAll
    static void loadSchema() throws IOException {
        try (InputStream in = RouteYamlSchemaTest.class.getClassLoader().getResourceAsStream("schema/camelYamlDsl.json")) {
            assertThat(in).as("schema/camelYamlDsl.json from camel-yaml-dsl on the class path").isNotNull();
            JsonNode schemaNode = new ObjectMapper().readTree(in);
            // the schema declares its own draft ($schema); validate by that draft, V7 if it ever stops declaring one
            SpecVersion.VersionFlag version = SpecVersionDetector.detectOptionalVersion(schemaNode, false)
                    .orElse(SpecVersion.VersionFlag.V7);
            schema = JsonSchemaFactory.getInstance(version).getSchema(schemaNode);
        }
    }

    static List<Path> routeFiles() {
        try (Stream<Path> files = Files.list(ROUTES)) {
            return files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String nameOf(Path file) {
        String n = file.getFileName().toString();
        return n.substring(0, n.length() - SUFFIX.length());
    }

    static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theRoutesDirectoryHoldsTheFlow() {
        List<String> names = routeFiles().stream().map(RouteYamlSchemaTest::nameOf).collect(Collectors.toList());

        assertThat(names).contains(ERROR_HANDLING, "chat-http", "chat-enrich-session", "chat-router",
                "provider-fallback", "fallback-switch", "chat-stream-sse", "chat-record", "session-create", "session-list", "session-get",
                "session-delete", "openai-http", "openai-models");
        assertThat(names).as("no route file per provider: each provider's route comes from the provider-call Kamelet")
                .filteredOn(n -> n.startsWith("provider-")).containsExactly("provider-fallback");
        assertThat(ROUTES.resolve(KAMELET + KAMELET_SUFFIX)).isRegularFile();
    }

    /**
     * The provider template is a Kamelet: its envelope is what the Kamelet CRD asks for (apiVersion, kind, a name that
     * is its file name, the action type, a titled definition of every parameter the template uses), and its template
     * is a route that validates against the same camel-yaml-dsl schema as the route files, with every calling step
     * named. (The Kamelet CRD's own JSON schema is not shipped in any jar on Maven Central, so the envelope's fields
     * are checked here one by one.)
     */
    @Test
    void theProviderKameletIsAValidKameletWhoseTemplateValidatesAsARoute() {
        JsonNode kamelet = read(ROUTES.resolve(KAMELET + KAMELET_SUFFIX));

        assertThat(kamelet.path("apiVersion").asText()).isEqualTo("camel.apache.org/v1");
        assertThat(kamelet.path("kind").asText()).isEqualTo("Kamelet");
        assertThat(kamelet.path("metadata").path("name").asText()).isEqualTo(KAMELET);
        assertThat(kamelet.path("metadata").path("labels").path("camel.apache.org/kamelet.type").asText())
                .isEqualTo("action");
        JsonNode definition = kamelet.path("spec").path("definition");
        assertThat(definition.path("title").asText()).isNotBlank();
        assertThat(definition.path("description").asText()).isNotBlank();
        JsonNode properties = definition.path("properties");
        assertThat(fieldNames(properties)).containsExactly("provider");
        properties.fields().forEachRemaining(p -> {
            assertThat(p.getValue().path("title").asText()).as(p.getKey() + " title").isNotBlank();
            assertThat(p.getValue().path("type").asText()).as(p.getKey() + " type").isEqualTo("string");
        });
        assertThat(definition.path("required").toString()).isEqualTo("[\"provider\"]");

        JsonNode template = kamelet.path("spec").path("template");
        assertThat(template.path("from").path("uri").asText()).isEqualTo("kamelet:source");
        JsonNode asRoute = YAML.createArrayNode().add(YAML.createObjectNode().set("route",
                YAML.createObjectNode().put("id", KAMELET).set("from", template.path("from"))));
        assertThat(schema.validate(asRoute)).as("the template as a route").isEmpty();
        List<String> unnamed = new ArrayList<>();
        collectUnnamedCalls(template, KAMELET, unnamed);
        assertThat(unnamed).as("steps that call out without an id").isEmpty();
        java.util.regex.Matcher placeholders = java.util.regex.Pattern.compile("\\{\\{([^}:]+)}}")
                .matcher(template.toString());
        Set<String> used = new TreeSet<>();
        while (placeholders.find()) {
            used.add(placeholders.group(1));
        }
        assertThat(used).as("every {{parameter}} of the template is declared").containsExactly("provider");
    }

    @Test
    void everyRouteFileValidatesAgainstTheCamelYamlDslSchema() {
        Map<String, List<String>> invalid = new java.util.TreeMap<>();
        for (Path file : routeFiles()) {
            Set<ValidationMessage> errors = schema.validate(read(file));
            if (!errors.isEmpty()) {
                invalid.put(file.getFileName().toString(),
                        errors.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.toList()));
            }
        }

        assertThat(invalid).as("schema violations per file").isEmpty();
    }

    @Test
    void theSchemaCheckRejectsWhatCamelWouldNotLoad() throws IOException {
        JsonNode misspelledStep = YAML.readTree("""
                - route:
                    id: broken
                    from:
                      uri: direct:broken
                      steps:
                        - tu:
                            uri: direct:elsewhere
                """);
        JsonNode unknownOption = YAML.readTree("""
                - route:
                    id: broken
                    from:
                      uri: direct:broken
                      steps:
                        - to:
                            id: x
                            url: direct:elsewhere
                """);

        assertThat(schema.validate(misspelledStep)).isNotEmpty();
        assertThat(schema.validate(unknownOption).stream().map(ValidationMessage::getMessage))
                .anyMatch(m -> m.contains("url"));
    }

    @Test
    void eachRouteFileHoldsExactlyTheRouteNamedAfterIt() {
        for (Path file : routeFiles()) {
            String name = nameOf(file);
            if (name.equals(ERROR_HANDLING)) {
                continue;
            }
            JsonNode doc = read(file);

            assertThat(doc.isArray()).as(name).isTrue();
            assertThat(doc).as(name).hasSize(1);
            assertThat(fieldNames(doc.get(0))).as(name).containsExactly("route");
            assertThat(doc.get(0).get("route").path("id").asText()).as(name).isEqualTo(name);
        }
    }

    @Test
    void errorHandlingHoldsOnlyTheRouteConfigurationsTheRoutesUse() {
        JsonNode doc = read(ROUTES.resolve(ERROR_HANDLING + SUFFIX));
        Set<String> configurations = new TreeSet<>();
        for (JsonNode item : doc) {
            assertThat(fieldNames(item)).containsExactly("routeConfiguration");
            configurations.add(item.get("routeConfiguration").path("id").asText());
        }
        Set<String> used = new TreeSet<>();
        for (Path file : routeFiles()) {
            for (JsonNode item : read(file)) {
                JsonNode route = item.get("route");
                if (route != null) {
                    String configuration = route.path("routeConfigurationId").asText(null);
                    assertThat(configuration).as(nameOf(file) + " routeConfigurationId").isNotNull();
                    used.add(configuration);
                }
            }
        }

        assertThat(configurations).containsExactly("api-errors", "internal", "openai-errors");
        assertThat(used).isEqualTo(configurations);
    }

    @Test
    void everyStepThatCallsOutHasAnExplicitId() {
        List<String> unnamed = new ArrayList<>();
        for (Path file : routeFiles()) {
            collectUnnamedCalls(read(file), file.getFileName().toString(), unnamed);
        }

        assertThat(unnamed).as("steps that call out without an id").isEmpty();
    }

    @Test
    void theIdCheckFindsUnnamedCalls() throws IOException {
        JsonNode doc = YAML.readTree("""
                - route:
                    id: r
                    from:
                      uri: direct:r
                      steps:
                        - to: direct:shorthand
                        - bean:
                            ref: b
                        - setVariable:
                            name: v
                            method:
                              ref: b
                        - setVariable:
                            name: w
                            simple: "${body}"
                        - filter:
                            id: f
                            simple: "${body} != null"
                            steps:
                              - process:
                                  ref: p
                """);
        List<String> unnamed = new ArrayList<>();

        collectUnnamedCalls(doc, "r", unnamed);

        assertThat(unnamed).containsExactly("r: [0].route.from.steps[0].to", "r: [0].route.from.steps[1].bean",
                "r: [0].route.from.steps[2].setVariable", "r: [0].route.from.steps[4].filter.steps[0].process");
    }

    /**
     * A bean called through Camel's method language ({@code setVariable} / {@code setProperty} / a {@code filter}
     * with {@code method:}) runs on a copy of the whole exchange - its properties, its variables, its message - made
     * for every call; a {@code to: bean:...} step with {@code variableReceive} runs on the route's own exchange. On a
     * chat's path only the steps that read the request before its headers are dropped keep the method language (a
     * {@code to} step would keep the caller's token as a {@code header:*} variable), and two steps of failure paths.
     * Before, every chat also made one such copy to free its stream slot, and every {@code /v1} chat one more to ask
     * whether its whole answer broke unseen.
     */
    @Test
    void aChatsPathCallsNoBeanThroughACopyOfTheExchangeOnceTheRequestIsRead() {
        List<String> copying = new ArrayList<>();
        for (String route : List.of("chat-http", "chat-enrich-session", "chat-router", "provider-fallback",
                "fallback-switch", "chat-stream-sse", "chat-record", "openai-http")) {
            collectMethodCalls(read(ROUTES.resolve(route + SUFFIX)), copying);
        }
        collectMethodCalls(read(ROUTES.resolve(KAMELET + KAMELET_SUFFIX)), copying);

        assertThat(copying).containsExactlyInAnyOrder(
                "authenticate", "parse-message", "openai-authenticate", "parse-chat-completion",
                // failure paths: a provider that failed, a whole answer broken unseen going to the fallback
                "note-provider-failure", "openai-client-format-again");
    }

    /** The ids of the steps under {@code node} that call a bean through the method language. */
    static void collectMethodCalls(JsonNode node, List<String> ids) {
        if (node.isArray()) {
            node.forEach(n -> collectMethodCalls(n, ids));
            return;
        }
        if (!node.isObject()) {
            return;
        }
        node.fields().forEachRemaining(field -> {
            JsonNode value = field.getValue();
            if (value.isObject() && value.path("method").isObject() && value.path("method").has("ref")) {
                ids.add(value.path("id").asText());
            }
            collectMethodCalls(value, ids);
        });
    }

    /** Walks the whole YAML tree; a calling step is a key in {@link #CALLING_STEPS}, or a setter with a method. */
    static void collectUnnamedCalls(JsonNode node, String path, List<String> unnamed) {
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collectUnnamedCalls(node.get(i), path + (path.contains(":") ? "" : ": ") + "[" + i + "]", unnamed);
            }
            return;
        }
        if (!node.isObject()) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            JsonNode value = field.getValue();
            String here = path + "." + key;
            if (key.equals("resilience4jConfiguration")) {
                continue; // its circuitBreaker is a reference to a breaker bean, not a step
            }
            boolean calls = CALLING_STEPS.contains(key)
                    || SETTING_STEPS.contains(key) && value.isObject() && value.has("method");
            if (calls && !(value.isObject() && value.hasNonNull("id") && !value.get("id").asText().isBlank())) {
                unnamed.add(here);
            }
            collectUnnamedCalls(value, here, unnamed);
        }
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
