package com.cobalt.chat.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import javax.xml.parsers.DocumentBuilderFactory;

import com.cobalt.chat.Application;
import com.cobalt.chat.config.GatewaySettings;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The container image's configuration (the Jib profile {@code image} in pom.xml) against the Kubernetes Deployment
 * and the gateway's settings: what can be checked without a registry. The image exposes the ports the Deployment
 * names, runs as the user the pod's security context requires, sets the configuration home the Deployment mounts
 * its ConfigMaps into, carries routes/ and application.properties there, starts the gateway's main class with the
 * JVM as PID 1, and sizes the heap from the container's memory.
 */
class DeployImageTest {

    static Element jib;

    @BeforeAll
    static void readPom() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(DeployManifestsTest.REPO.resolve("pom.xml").toFile());
        NodeList profiles = pom.getElementsByTagName("profile");
        for (int i = 0; i < profiles.getLength(); i++) {
            Element profile = (Element) profiles.item(i);
            if ("image".equals(text(profile, "id"))) {
                NodeList plugins = profile.getElementsByTagName("plugin");
                for (int j = 0; j < plugins.getLength(); j++) {
                    Element plugin = (Element) plugins.item(j);
                    if ("jib-maven-plugin".equals(text(plugin, "artifactId"))) {
                        assertThat(text(plugin, "groupId")).isEqualTo("com.google.cloud.tools");
                        assertThat(text(plugin, "version")).as("a pinned plugin version").isEqualTo("3.5.2");
                        jib = child(plugin, "configuration");
                    }
                }
            }
        }
        assertThat(jib).as("the jib-maven-plugin in the profile 'image' of pom.xml").isNotNull();
    }

    @Test
    void theImageExposesThePortsTheDeploymentNamesAndRunsAsItsNonRootUser() throws Exception {
        JsonNode deployment = DeployManifestsTest.deployment();
        JsonNode container = DeployManifestsTest.gateway(deployment);
        GatewaySettings settings = DeployManifestsTest.settingsOf(deployment);
        Element c = child(jib, "container");

        List<String> ports = texts(child(c, "ports"), "port");
        List<String> containerPorts = new ArrayList<>();
        container.get("ports").forEach(p -> containerPorts.add(p.get("containerPort").asText()));
        assertThat(ports).containsExactlyElementsOf(containerPorts)
                .containsExactly(String.valueOf(settings.runtime().httpPort()),
                        String.valueOf(settings.runtime().managementPort()));

        String[] user = text(c, "user").split(":");
        assertThat(Integer.parseInt(user[0])).as("uid").isPositive()
                .isEqualTo(deployment.at("/spec/template/spec/securityContext/runAsUser").asInt());
        assertThat(Integer.parseInt(user[1])).as("gid")
                .isEqualTo(deployment.at("/spec/template/spec/securityContext/runAsGroup").asInt());
    }

    @Test
    void theImageCarriesTheConfigurationWhereTheDeploymentMountsIt() throws Exception {
        JsonNode deployment = DeployManifestsTest.deployment();
        Map<String, JsonNode> env = DeployManifestsTest.environment(deployment);
        Element c = child(jib, "container");
        String home = text(child(c, "environment"), "COBALT_HOME");
        assertThat(home).isEqualTo(env.get("COBALT_HOME").get("value").asText());
        assertThat(text(c, "workingDirectory")).isEqualTo(home);

        Properties properties = DeployManifestsTest.repositoryProperties();
        Path routes = Path.of(home).resolve(properties.getProperty("chat.routes.directory").trim());
        Map<String, Element> into = new LinkedHashMap<>();
        NodeList paths = child(jib, "extraDirectories").getElementsByTagName("path");
        for (int i = 0; i < paths.getLength(); i++) {
            Element p = (Element) paths.item(i);
            into.put(text(p, "into"), p);
        }
        assertThat(into.keySet()).containsExactlyInAnyOrder(routes.toString(), home);
        assertThat(text(into.get(routes.toString()), "from")).isEqualTo("${project.basedir}/routes");
        assertThat(text(into.get(home), "from")).isEqualTo("${project.basedir}");
        assertThat(text(into.get(home), "includes")).isEqualTo("application.properties");
    }

    @Test
    void theJvmIsTheEntrypointStartingTheGatewayWithContainerAwareMemory() {
        Element c = child(jib, "container");
        assertThat(text(c, "mainClass")).isEqualTo(Application.class.getName());
        // no entrypoint of our own (a shell would be PID 1 and keep SIGTERM from the JVM): Jib's is java itself
        assertThat(child(c, "entrypoint")).isNull();
        List<String> flags = texts(child(c, "jvmFlags"), "jvmFlag");
        assertThat(flags).contains("-XX:+ExitOnOutOfMemoryError").anyMatch(f -> f.startsWith("-XX:MaxRAMPercentage="))
                .noneMatch(f -> f.startsWith("-Xmx"));
        assertThat(text(child(jib, "from"), "image")).startsWith("eclipse-temurin:17-jre");
    }

    // ------------------------------------------------------------------------------------------ XML

    static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }

    static List<String> texts(Element parent, String name) {
        List<String> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e.getTextContent().trim());
            }
        }
        return out;
    }
}
