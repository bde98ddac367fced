package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.record.ChatRecorder;
import com.cobalt.chat.store.AnswerRecord;
import com.cobalt.chat.stream.StreamOutcome;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/chat-record.camel.yaml: the answer is stored however it ended, off the caller's thread, and counted in
 * llm_requests_total{provider,status,variant} when a provider answered.
 */
class ChatRecordRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-record.camel.yaml");
    }

    private Exchange record(String session, Object upstream, StreamOutcome outcome, String variant) {
        return send("direct:chat-record", e -> {
            e.setVariable("user", "alice");
            e.setVariable("sessionId", session);
            e.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000001");
            e.setVariable("provider", "sambanova");
            e.setVariable("model", "llama");
            e.setVariable("variant", variant);
            if (upstream != null) {
                e.setProperty("cobaltUpstream", upstream);
            }
            e.setProperty(StreamOutcome.PROPERTY, outcome);
        });
    }

    private static final String SSE = "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n"
            + "data: {\"choices\":[{\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: [DONE]\n\n";

    @Test
    void storesTheAnswerWithItsUsageAndCountsItWithProviderStatusAndVariant() {
        String session = f.session("alice", "t");
        StreamOutcome complete = new StreamOutcome(StreamOutcome.COMPLETE, "Hello there", "stop", 1_000_000, 100_000,
                42L, null);

        Exchange e = send("direct:chat-record", x -> {
            x.setVariable("user", "alice");
            x.setVariable("sessionId", session);
            x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000001");
            x.setVariable("provider", "azure");
            x.setVariable("model", "gpt-4o");
            x.setVariable("variant", "gpt-4o");
            x.setProperty("cobaltUpstream", Relays.replayed("azure", "gpt-4o-prod", SSE));
            x.setProperty(StreamOutcome.PROPERTY, complete);
        });

        assertThat(e.getException()).isNull();
        assertThat(e.getVariable("answerRecorded")).isEqualTo(true);
        assertThat(e.getVariable("metricStatus")).isEqualTo("success");
        AnswerRecord stored = e.getProperty(ChatRecorder.PROPERTY, AnswerRecord.class);
        assertThat(stored.content()).isEqualTo("Hello there");
        List<Map<String, Object>> rows = f.rows("SELECT role, content, status, provider, model, variant,"
                + " prompt_tokens, completion_tokens, time_to_first_token_ms FROM chat_message WHERE session_id = ?",
                session);
        assertThat(rows).containsExactly(Map.of("role", "assistant", "content", "Hello there", "status", "complete",
                "provider", "azure", "model", "gpt-4o", "variant", "gpt-4o", "prompt_tokens", 1_000_000,
                "completion_tokens", 100_000, "time_to_first_token_ms", 42L));
        // 1M prompt tokens at 2.50 and 100k completion tokens at 10.00 per million
        List<Map<String, Object>> usage = f.rows("SELECT provider, model, cost_usd FROM llm_usage WHERE user_id = ?",
                "alice");
        assertThat(usage).hasSize(1);
        assertThat(usage.get(0).get("provider")).isEqualTo("azure");
        assertThat(((java.math.BigDecimal) usage.get(0).get("cost_usd")).compareTo(new java.math.BigDecimal("3.5")))
                .isZero();
        assertThat(counter("llm_requests_total", "provider", "azure", "status", "success", "variant", "gpt-4o"))
                .isEqualTo(1.0);
        assertThat(f.meters.find("llm_requests_total").counters()).hasSize(1);
    }

    @Test
    void aRejectedRequestIsStoredButNotCountedAgain() {
        // provider-call counted the 400 as status=rejected already; the rejection is not a streamed answer
        String session = f.session("alice", "t");
        StreamOutcome filtered = new StreamOutcome(StreamOutcome.CONTENT_FILTERED, "", "content_filter", null, null,
                null, "content_filtered");

        Exchange e = record(session, new ProviderRejection("sambanova", true), filtered, "none");

        assertThat(e.getException()).isNull();
        List<Map<String, Object>> rows = f.rows("SELECT status, provider, error_code FROM chat_message"
                + " WHERE session_id = ?", session);
        assertThat(rows).containsExactly(Map.of("status", "content_filtered", "provider", "sambanova",
                "error_code", "content_filtered"));
        assertThat(f.meters.find("llm_requests_total").counters()).isEmpty();
    }

    @Test
    void anInterruptedAnswerKeepsItsPartialTextAndCountsAsError() {
        String session = f.session("alice", "t");
        StreamOutcome cut = new StreamOutcome(StreamOutcome.INTERRUPTED, "  partial \"answer\" ${body} ", null, 7, 3,
                12L, "upstream_interrupted");

        record(session, Relays.replayed("sambanova", "Meta-Llama-3.3-70B-Instruct", SSE), cut, "none");

        List<Map<String, Object>> rows = f.rows("SELECT content, status, variant FROM chat_message"
                + " WHERE session_id = ?", session);
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("content")).isEqualTo("  partial \"answer\" ${body} ");
        assertThat(rows.get(0).get("status")).isEqualTo("interrupted");
        // "none" is stored as no variant, and labels the metric as none
        assertThat(rows.get(0).get("variant")).isNull();
        assertThat(counter("llm_requests_total", "provider", "sambanova", "status", "error", "variant", "none"))
                .isEqualTo(1.0);
    }

    @Test
    void aFailureBeforeAnyProviderAnsweredIsStoredButNotCounted() {
        String session = f.session("alice", "t");

        Exchange e = record(session, null, StreamOutcome.failed("provider_unavailable"), "none");

        assertThat(e.getException()).isNull();
        List<Map<String, Object>> rows = f.rows("SELECT status, error_code, provider FROM chat_message"
                + " WHERE session_id = ?", session);
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("status")).isEqualTo("failed");
        assertThat(rows.get(0).get("error_code")).isEqualTo("provider_unavailable");
        assertThat(rows.get(0).get("provider")).isNull();
        assertThat(f.meters.find("llm_requests_total").counters()).isEmpty();
    }
}
