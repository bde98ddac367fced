package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard (ops/grafana) and the Prometheus alerting rules (ops/prometheus) query only what the
 * gateway exports: every metric name and label in their expressions is checked against a real scrape of
 * {@code /observe/metrics} after scripted traffic (answers with and without usage, a primary 500 answered by the
 * fallback, a 400 rejection). A renamed metric or label fails here, not in a dark panel or a silent alert.
 */
class OpsArtifactsTest {

    static final Path DASHBOARD = Path.of("ops/grafana/cobalt-chat-dashboard.json");
    static final Path ALERTS = Path.of("ops/prometheus/alerts.yml");
    static final String DS = "${DS_PROMETHEUS}";

    /** A metric name as the artifacts use them; label values (quoted strings) are removed before matching. */
    static final Pattern METRIC = Pattern.compile("(?<![A-Za-z0-9_:])((?:llm|chat|camel)_[a-z0-9_]+)");
    static final Pattern QUOTED = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    static final Pattern SELECTOR = Pattern.compile("(?<![A-Za-z0-9_:])((?:llm|chat|camel)_[a-z0-9_]+)\\s*\\{([^}]*)}");
    static final Pattern MATCHER_LABEL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*(?:=~|!~|!=|=)");
    static final Pattern GROUPING = Pattern.compile(
            "\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([A-Za-z_:][A-Za-z0-9_:]*)\\s*,\\s*(\\w+)\\s*\\)");
    static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");

    static final Set<String> REQUIRED_FAMILIES = Set.of("llm_requests_total", "llm_fallback_triggered_total",
            "llm_circuit_breaker_state", "llm_time_to_first_token_seconds", "llm_request_duration_seconds",
            "llm_tokens_used_total", "llm_tokens_estimated_total", "llm_cost_usd_total", "llm_cost_unknown_total",
            "chat_active_streams", "llm_provider_selected");

    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;
    static PrometheusText metrics;
    static JsonNode dashboard;
    static JsonNode alerts;

    @BeforeAll
    static void driveTrafficAndScrape() throws IOException {
        dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        alerts = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(ALERTS));

        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(primary, Map.of(
                "llm.fallback-provider", "azure",
                "azure.ai.endpoint", fallback.baseUrl(),
                "azure.ai.api-key", "az-test-key-0002",
                "azure.ai.deployment", "gpt-4o"));
        GatewayClient client = new GatewayClient(gateway);
        String token = Jwt.token("ops-user-1");
        String session = client.createSession(token);

        // an answer with a trailing usage chunk (sambanova: unpriced)
        primary.enqueue(Script.sse(Chunks.delta("One."), Chunks.finish("stop"), Chunks.usage(5, 1), Chunks.done()));
        assertThat(client.chat(session, token, "first").text()).isEqualTo("One.");
        // an answer without usage: the gateway counts the tokens itself
        primary.enqueue(Script.sse(Chunks.delta("Two."), Chunks.finish("stop"), Chunks.done()));
        assertThat(client.chat(session, token, "second").text()).isEqualTo("Two.");
        // the primary fails, the fallback (azure gpt-4o: priced) answers
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Three."), Chunks.finish("stop"),
                Chunks.usage(9, 1), Chunks.done()));
        GatewayClient.Answer fellBack = client.chat(session, token, "third");
        assertThat(fellBack.status()).isEqualTo(200);
        assertThat(fellBack.text()).isEqualTo("Three.");
        // the primary rejects the request
        primary.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
        GatewayClient.Answer rejected = client.chat(session, token, "fourth");
        assertThat(rejected.status()).isEqualTo(400);
        assertThat(GatewayClient.json(rejected.body()).at("/error/code").asText()).isEqualTo("provider_rejected_request");

        metrics = PrometheusText.await(gateway, m -> has(m, "llm_request_duration_seconds_count", "sambanova", 2)
                && has(m, "llm_request_duration_seconds_count", "azure", 1)
                && !m.find("llm_requests_total", Map.of("provider", "sambanova", "status", "rejected")).isEmpty());
    }

    static boolean has(PrometheusText m, String name, String provider, double atLeast) {
        Double v = m.value(name, Map.of("provider", provider));
        return v != null && v >= atLeast;
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (primary != null) {
            primary.close();
        }
        if (fallback != null) {
            fallback.close();
        }
    }

    // ------------------------------------------------------------------------------- the artifacts' shape

    @Test
    void theDashboardIsAnImportableGrafanaDashboardOnThePrometheusInput() {
        assertThat(dashboard.get("schemaVersion").asInt()).isEqualTo(39);
        assertThat(dashboard.get("uid").asText()).isEqualTo("cobalt-chat-gateway");
        assertThat(dashboard.get("title").asText()).isEqualTo("Cobalt Chat Gateway");
        JsonNode inputs = dashboard.get("__inputs");
        assertThat(inputs).hasSize(1);
        assertThat(inputs.get(0).get("name").asText()).isEqualTo("DS_PROMETHEUS");
        assertThat(inputs.get(0).get("type").asText()).isEqualTo("datasource");
        assertThat(inputs.get(0).get("pluginId").asText()).isEqualTo("prometheus");

        Set<Integer> ids = new TreeSet<>();
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : panels()) {
            String title = panel.get("title").asText();
            assertThat(ids.add(panel.get("id").asInt())).as("panel id of %s is unique", title).isTrue();
            JsonNode grid = panel.get("gridPos");
            assertThat(grid.get("x").asInt() + grid.get("w").asInt()).as("%s fits the 24 columns", title)
                    .isBetween(1, 24);
            if (panel.get("type").asText().equals("row")) {
                continue;
            }
            titles.add(title);
            assertThat(panel.at("/datasource/type").asText()).as(title).isEqualTo("prometheus");
            assertThat(panel.at("/datasource/uid").asText()).as(title).isEqualTo(DS);
            assertThat(panel.get("targets")).as("%s has queries", title).isNotEmpty();
            Set<String> refIds = new TreeSet<>();
            for (JsonNode target : panel.get("targets")) {
                assertThat(target.get("expr").asText()).as(title).isNotBlank();
                assertThat(target.at("/datasource/uid").asText()).as(title).isEqualTo(DS);
                assertThat(refIds.add(target.get("refId").asText())).as("refIds of %s are unique", title).isTrue();
            }
        }
        assertThat(titles).containsExactly(
                "Requests per provider and status", "Error rate per provider", "Fallback rate",
                "Circuit breaker state per provider", "Time to first token p50 / p95", "Request duration p95",
                "Tokens per provider and type", "Estimated share of tokens", "Cost per hour (USD)",
                "Unpriced answers per hour", "Cost, last 24 h (USD)", "Active streams", "Current primary / fallback",
                "Route failures (Camel)", "Time to first token p95 per variant", "Error rate per variant",
                "Cost per hour per variant (USD)");
        assertThat(expr("Cost per hour (USD)")).containsExactly(
                "sum by (provider) (increase(llm_cost_usd_total{provider=~\"$provider\"}[1h]))");
        assertThat(expr("Time to first token p50 / p95")).containsExactly(
                "histogram_quantile(0.50, sum by (le, provider) (rate(llm_time_to_first_token_seconds_bucket"
                        + "{provider=~\"$provider\"}[$__rate_interval])))",
                "histogram_quantile(0.95, sum by (le, provider) (rate(llm_time_to_first_token_seconds_bucket"
                        + "{provider=~\"$provider\"}[$__rate_interval])))");
        assertThat(expr("Circuit breaker state per provider")).containsExactly(
                "max by (provider) (llm_circuit_breaker_state{provider=~\"$provider\"})");
        assertThat(expr("Current primary / fallback")).containsExactly(
                "max by (provider, role) (llm_provider_selected) == 1");
    }

    @Test
    void everyAlertRuleHasAnExpressionADurationASeverityAndASummaryAndDescription() {
        Map<String, JsonNode> rules = new LinkedHashMap<>();
        for (JsonNode group : alerts.get("groups")) {
            assertThat(group.get("name").asText()).startsWith("cobalt-chat-");
            for (JsonNode rule : group.get("rules")) {
                String name = rule.get("alert").asText();
                assertThat(rules.put(name, rule)).as("alert %s is unique", name).isNull();
                assertThat(rule.get("expr").asText()).as(name).isNotBlank();
                assertThat(rule.get("for").asText()).as(name).matches("[0-9]+[smh]");
                assertThat(rule.at("/labels/severity").asText()).as(name).isIn("warning", "critical");
                assertThat(rule.at("/annotations/summary").asText()).as(name).isNotBlank();
                assertThat(rule.at("/annotations/description").asText()).as(name).isNotBlank();
            }
        }
        assertThat(rules).containsOnlyKeys("CobaltChatProviderErrorRateHigh", "CobaltChatFallbackRateHigh",
                "CobaltChatCircuitBreakerOpen", "CobaltChatTimeToFirstTokenSlow", "CobaltChatCostPerHourHigh");

        JsonNode breaker = rules.get("CobaltChatCircuitBreakerOpen");
        assertThat(breaker.get("expr").asText()).isEqualTo("llm_circuit_breaker_state == 1");
        assertThat(breaker.get("for").asText()).isEqualTo("1m");
        assertThat(breaker.at("/labels/severity").asText()).isEqualTo("critical");
        assertThat(rules.get("CobaltChatTimeToFirstTokenSlow").get("expr").asText().strip()).isEqualTo(
                "histogram_quantile(0.95, sum by (le, provider) (rate(llm_time_to_first_token_seconds_bucket[10m])))"
                        + " > 5");
        assertThat(rules.get("CobaltChatCostPerHourHigh").get("expr").asText())
                .isEqualTo("sum(increase(llm_cost_usd_total[1h])) > 10");
        assertThat(rules.get("CobaltChatProviderErrorRateHigh").get("expr").asText())
                .contains("llm_requests_total{status=\"error\"}").contains("> 0.10");
        assertThat(rules.get("CobaltChatFallbackRateHigh").get("expr").asText())
                .contains("llm_fallback_triggered_total").contains("> 0.20");
    }

    // ------------------------------------------------------------------------------- against the gateway

    @Test
    void everyMetricTheDashboardAndTheRulesQueryIsExportedByTheGateway() {
        Map<String, Set<String>> queried = queriedMetrics();
        assertThat(queried).as("metric names found in the artifacts").isNotEmpty();

        Map<String, Set<String>> missing = new TreeMap<>();
        unexported(queried.keySet(), metrics).forEach(name -> missing.put(name, queried.get(name)));
        assertThat(missing).as("queried by the dashboard or the rules but not exported by the gateway, which "
                + "exports %s", metrics.sampleNames()).isEmpty();

        Map<String, String> families = new TreeMap<>();
        queried.keySet().forEach(name -> families.put(name, family(name, metrics)));
        assertThat(new TreeSet<>(families.values())).containsAll(REQUIRED_FAMILIES);
        assertThat(families.values()).anyMatch(f -> f.startsWith("camel_"));
    }

    @Test
    void everyLabelTheDashboardAndTheRulesFilterOrGroupOnIsOnTheMetricsTheyQuery() {
        Map<String, List<String>> problems = new TreeMap<>();
        for (Map.Entry<String, String> e : expressions().entrySet()) {
            String where = e.getKey();
            String expr = e.getValue();
            Set<String> names = metricNames(expr);
            Set<String> available = new TreeSet<>();
            names.forEach(n -> available.addAll(metrics.labelNames(n)));

            Matcher sel = SELECTOR.matcher(expr);
            while (sel.find()) {
                Set<String> onMetric = metrics.labelNames(sel.group(1));
                Matcher label = MATCHER_LABEL.matcher(QUOTED.matcher(sel.group(2)).replaceAll("\"\""));
                while (label.find()) {
                    if (!onMetric.contains(label.group(1))) {
                        problems.computeIfAbsent(where, k -> new ArrayList<>())
                                .add(sel.group(1) + " has no label " + label.group(1));
                    }
                }
            }
            Matcher grouping = GROUPING.matcher(QUOTED.matcher(expr).replaceAll("\"\""));
            while (grouping.find()) {
                for (String label : grouping.group(1).split(",")) {
                    String l = label.strip();
                    if (!l.isEmpty() && !available.contains(l)) {
                        problems.computeIfAbsent(where, k -> new ArrayList<>())
                                .add("grouping label " + l + " is on none of " + names);
                    }
                }
            }
        }
        // legends name labels the query keeps
        for (JsonNode panel : panels()) {
            for (JsonNode target : panel.path("targets")) {
                Set<String> available = new TreeSet<>();
                metricNames(target.get("expr").asText()).forEach(n -> available.addAll(metrics.labelNames(n)));
                Matcher legend = LEGEND_LABEL.matcher(target.path("legendFormat").asText());
                while (legend.find()) {
                    if (!available.contains(legend.group(1))) {
                        problems.computeIfAbsent("panel " + panel.get("title").asText(), k -> new ArrayList<>())
                                .add("legend label " + legend.group(1));
                    }
                }
            }
        }
        // the variable's label_values(metric, label)
        for (JsonNode variable : dashboard.at("/templating/list")) {
            Matcher lv = LABEL_VALUES.matcher(variable.at("/query/query").asText(variable.path("query").asText()));
            assertThat(lv.find()).as("variable %s is a label_values query", variable.get("name").asText()).isTrue();
            assertThat(metrics.labelNames(lv.group(1))).as(lv.group()).contains(lv.group(2));
        }
        assertThat(problems).as("labels the gateway does not export").isEmpty();
    }

    @Test
    void theCheckNoticesANameTheGatewayDoesNotExport() {
        assertThat(unexported(Set.of("llm_requests_total", "llm_request_total", "llm_tokens_used_total",
                "llm_time_to_first_token_seconds_bucket", "llm_time_to_first_token_bucket", "chat_active_stream"),
                metrics)).containsExactly("chat_active_stream", "llm_request_total", "llm_time_to_first_token_bucket");
        assertThat(metricNames("sum(rate(llm_requests_total{status=\"chat_error\"}[5m])) / "
                + "sum(rate(camel_exchanges_total[5m])) + histogram_quantile(0.5, llm_x_bucket)"))
                .containsExactly("llm_requests_total", "camel_exchanges_total", "llm_x_bucket");
    }

    // ------------------------------------------------------------------------------- helpers

    /** Every panel, rows' nested panels included. */
    static List<JsonNode> panels() {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode p : dashboard.get("panels")) {
            all.add(p);
            p.path("panels").forEach(all::add);
        }
        return all;
    }

    static List<String> expr(String title) {
        List<String> exprs = new ArrayList<>();
        for (JsonNode p : panels()) {
            if (p.get("title").asText().equals(title)) {
                p.get("targets").forEach(t -> exprs.add(t.get("expr").asText()));
            }
        }
        return exprs;
    }

    /** Every PromQL expression of both artifacts, keyed by where it is. */
    static Map<String, String> expressions() {
        Map<String, String> exprs = new LinkedHashMap<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                exprs.put("panel " + p.get("title").asText() + " " + t.get("refId").asText(), t.get("expr").asText());
            }
        }
        for (JsonNode v : dashboard.at("/templating/list")) {
            exprs.put("variable " + v.get("name").asText(), v.at("/query/query").asText(v.path("query").asText()));
        }
        for (JsonNode g : alerts.get("groups")) {
            for (JsonNode r : g.get("rules")) {
                exprs.put("alert " + r.get("alert").asText(), r.get("expr").asText());
            }
        }
        return exprs;
    }

    /** metric name -> where it is queried. */
    static Map<String, Set<String>> queriedMetrics() {
        Map<String, Set<String>> queried = new TreeMap<>();
        expressions().forEach((where, expr) -> metricNames(expr)
                .forEach(n -> queried.computeIfAbsent(n, k -> new LinkedHashSet<>()).add(where)));
        return queried;
    }

    static Set<String> metricNames(String expr) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = METRIC.matcher(QUOTED.matcher(expr).replaceAll("\"\""));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The family of a queried series: x_bucket, x_count and x_sum of a histogram or summary x are x. */
    static String family(String name, PrometheusText m) {
        if (m.types().containsKey(name)) {
            return name;
        }
        for (String suffix : new String[] {"_bucket", "_count", "_sum"}) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                String type = m.types().get(base);
                if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
                    return base;
                }
            }
        }
        return name;
    }

    /** The queried names with no sample of that exact name or no family of that name in the scrape. */
    static List<String> unexported(Set<String> queried, PrometheusText m) {
        Set<String> samples = m.sampleNames();
        List<String> missing = new ArrayList<>();
        for (String name : new TreeSet<>(queried)) {
            if (!samples.contains(name) || !m.types().containsKey(family(name, m))) {
                missing.add(name);
            }
        }
        return missing;
    }
}
