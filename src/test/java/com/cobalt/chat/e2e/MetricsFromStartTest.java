package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * Before the first request, every documented meter exists for each configured provider (and each A/B arm),
 * zero-valued, with exactly the documented labels; the start-up log lists every API endpoint with its method and
 * warns of nothing.
 */
class MetricsFromStartTest {

    /** The demo provider with two models, and a second demo provider, spare, as the fallback. */
    static Map<String, String> demoAndSpare() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "demo");
        p.put("llm.fallback-provider", "spare");
        p.put("llm.provider.spare.kind", "demo");
        p.put("llm.provider.spare.model", "spare-model");
        p.put("llm.models.demo", "cobalt-demo, other-demo");
        return p;
    }

    @Test
    void everyDocumentedMeterExistsZeroValuedWithExactlyTheDocumentedLabelsBeforeTheFirstRequest() {
        Map<String, String> p = demoAndSpare();
        p.put("llm.split", "cobalt-demo:1, other-demo:1");
        p.put("llm.model-equivalents", "cobalt-demo=spare-model, other-demo=spare-model");
        try (LogCapture log = LogCapture.start(); RunningGateway g = RunningGateway.start(p)) {
            PrometheusText m = PrometheusText.scrape(g);

            Map<String, Set<String>> labels = new LinkedHashMap<>();
            for (PrometheusText.Sample s : m.samples()) {
                if (s.name().startsWith("llm_") || s.name().startsWith("chat_")) {
                    labels.computeIfAbsent(s.name(), k -> new TreeSet<>()).add(String.join(",",
                            new TreeSet<>(s.labels().keySet())));
                }
            }
            assertThat(labels).containsEntry("llm_requests_total", Set.of("provider,status,variant"))
                    .containsEntry("llm_tokens_used_total", Set.of("provider,type,variant"))
                    .containsEntry("llm_tokens_estimated_total", Set.of("provider,type,variant"))
                    .containsEntry("llm_cost_usd_total", Set.of("provider,variant"))
                    .containsEntry("llm_cost_unknown_total", Set.of("provider,variant"))
                    .containsEntry("llm_request_duration_seconds_count", Set.of("provider,variant"))
                    .containsEntry("llm_time_to_first_token_seconds_count", Set.of("provider,variant"))
                    .containsEntry("llm_fallback_triggered_total", Set.of("from,to"))
                    .containsEntry("llm_circuit_breaker_state", Set.of("provider"))
                    .containsEntry("llm_provider_selected", Set.of("provider,role"))
                    .containsEntry("chat_active_streams", Set.of(""))
                    .containsEntry("chat_history_reads_total", Set.of("source"))
                    .containsEntry("chat_usage_rows_waiting", Set.of(""))
                    .containsEntry("chat_usage_rows_dropped_total", Set.of(""))
                    .containsEntry("chat_errors_total", Set.of("code,status"));
            for (Map.Entry<String, Integer> e : com.cobalt.chat.record.LlmMetrics.ERRORS_AT_START.entrySet()) {
                assertThat(m.value("chat_errors_total", Map.of("code", e.getKey(), "status",
                        String.valueOf(e.getValue())))).as(e.getKey()).isEqualTo(0.0);
            }
            for (String provider : List.of("demo", "spare")) {
                for (String variant : List.of("none", "cobalt-demo", "other-demo")) {
                    for (String status : List.of("success", "error", "rejected", "cancelled")) {
                        assertThat(m.value("llm_requests_total",
                                Map.of("provider", provider, "status", status, "variant", variant)))
                                .as(provider + " " + status + " " + variant).isEqualTo(0.0);
                    }
                    assertThat(m.value("llm_tokens_used_total",
                            Map.of("provider", provider, "variant", variant, "type", "completion"))).isEqualTo(0.0);
                    assertThat(m.value("llm_request_duration_seconds_count",
                            Map.of("provider", provider, "variant", variant))).isEqualTo(0.0);
                }
            }
            assertThat(m.value("llm_fallback_triggered_total", Map.of("from", "demo", "to", "spare"))).isEqualTo(0.0);
            assertThat(m.value("chat_history_reads_total", Map.of("source", "copy"))).isEqualTo(0.0);
            assertThat(m.value("chat_history_reads_total", Map.of("source", "database"))).isEqualTo(0.0);
            assertThat(m.value("chat_usage_rows_waiting", Map.of())).isEqualTo(0.0);
            assertThat(m.value("chat_usage_rows_dropped_total", Map.of())).isEqualTo(0.0);
            assertThat(m.value("llm_fallback_triggered_total", Map.of("from", "spare", "to", "demo"))).isEqualTo(0.0);

            // the process and the database pool beside the chats (operators' audit, 2026-12-04: none of these)
            for (String processMeter : List.of("jvm_memory_used_bytes", "jvm_gc_live_data_size_bytes",
                    "jvm_threads_live_threads", "process_cpu_usage", "process_files_open_files", "process_uptime_seconds",
                    "hikaricp_connections_active", "hikaricp_connections_pending", "hikaricp_connections_timeout_total")) {
                assertThat(m.samples()).as(processMeter).anyMatch(s -> s.name().equals(processMeter));
            }

            // one log line per endpoint: a line break inside a message is written as the two characters \n
            List<String> endpoints = log.lines().stream().map(LogCapture.Line::message)
                    .filter(l -> l.startsWith("Chat API endpoint: ")).toList();
            assertThat(endpoints).contains("Chat API endpoint: GET    /api/v1/chat/sessions  (route session-list)",
                    "Chat API endpoint: POST   /api/v1/chat/sessions  (route session-create)",
                    "Chat API endpoint: GET    /api/v1/chat/sessions/{id}  (route session-get)",
                    "Chat API endpoint: DELETE /api/v1/chat/sessions/{id}  (route session-delete)",
                    "Chat API endpoint: POST   /api/v1/chat/sessions/{id}/messages  (route chat-http)",
                    "Chat API endpoint: GET    /api/v1/models  (route models-list)",
                    "Chat API endpoint: GET    /api/v1/usage  (route usage-report)",
                    "Chat API endpoint: GET    /api/v1/admin/providers  (route admin-providers)",
                    "Chat API endpoint: PUT    /api/v1/admin/providers/selection  (route admin-provider-selection)",
                    "Chat API endpoint: POST   /v1/chat/completions  (route openai-http)",
                    "Chat API endpoint: GET    /v1/models  (route openai-models)",
                    "Chat API endpoint: GET    /v1/models/{model}  (route openai-model)");
            assertThat(endpoints).noneMatch(l -> l.contains("\n"));
            // a clean start warns of nothing: Micrometer warned when the label filter came after Camel's meters
            assertThat(log.lines().stream().filter(l -> l.level().equals("WARN") || l.level().equals("ERROR"))
                    .map(LogCapture.Line::all)).isEmpty();

            // the errors answered are counted by status and code, the router's own as the routes' (ops audit,
            // 2026-12-04: 429 rates could not be seen)
            com.cobalt.chat.testing.GatewayClient client = new com.cobalt.chat.testing.GatewayClient(g);
            assertThat(client.get("/api/v1/chat/sessions", "not-a-jwt").statusCode()).isEqualTo(401);
            assertThat(client.get("/api/v1/chat/sessions", "not-a-jwt").statusCode()).isEqualTo(401);
            assertThat(client.get("/api/v1/nothing-here", "not-a-jwt").statusCode()).isEqualTo(404);
            PrometheusText after = PrometheusText.scrape(g);
            assertThat(after.value("chat_errors_total", Map.of("code", "invalid_token", "status", "401")))
                    .isEqualTo(2.0);
            assertThat(after.value("chat_errors_total", Map.of("code", "not_found", "status", "404"))).isEqualTo(1.0);
            assertThat(after.value("chat_errors_total", Map.of("code", "rate_limit_exceeded", "status", "429")))
                    .isEqualTo(0.0);
        }
    }

    @Test
    void aFallbackProviderServingNoneOfThePrimarysModelsIsWarnedAboutByName() {
        Map<String, String> p = demoAndSpare();
        p.put("llm.model-equivalents", "other-demo=spare-model");
        try (LogCapture log = LogCapture.start(); RunningGateway g = RunningGateway.start(p)) {
            assertThat(log.lines().stream().filter(l -> l.level().equals("WARN")).map(LogCapture.Line::message))
                    .containsExactly("No fallback for 1 of demo's models: the fallback provider spare serves"
                            + " neither them nor an equivalent (cobalt-demo). Name equivalents in"
                            + " LLM_MODEL_EQUIVALENTS (model=equivalent, ...); with an LLM_MODELS_<ID> list the"
                            + " providers' default models no longer stand in for each other");
        }
    }
}
