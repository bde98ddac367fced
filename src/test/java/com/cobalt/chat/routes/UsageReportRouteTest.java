package com.cobalt.chat.routes;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.store.AnswerRecord;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/usage-report.camel.yaml: GET /api/v1/usage - the caller's own usage; other users' for admins only. */
class UsageReportRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("usage-report.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("usage-report");
    }

    private void answered(String user, String provider, int prompt, int completion) {
        f.store.saveAnswer(new AnswerRecord(null, "0190f000-0000-7000-8000-0000000000" + prompt, user, "a",
                "complete", provider, "llama", "stop", null, prompt, completion, false, new BigDecimal("0.01"),
                5L, 10L, null));
        // the report's window ends now, exclusive: let the test clock pass the answer
        f.clock.advance(java.time.Duration.ofSeconds(1));
    }

    @Test
    void theCallersUsageByProvider() {
        answered("alice", "sambanova", 10, 20);
        answered("alice", "azure", 11, 5);
        answered("bob", "sambanova", 12, 100);

        Exchange e = request("usage-report", Fixture.token("alice"), null, Map.of("group_by", "provider"));

        JsonNode body = json(e);
        assertThat(body.get("group_by").asText()).isEqualTo("provider");
        assertThat(body.at("/total/answers").asInt()).isEqualTo(2);
        assertThat(body.at("/total/prompt_tokens").asInt()).isEqualTo(21);
        assertThat(body.at("/total/completion_tokens").asInt()).isEqualTo(25);
        assertThat(body.get("groups").findValuesAsText("key")).containsExactly("azure", "sambanova");
        assertThat(body.get("next_cursor").isNull()).isTrue();
    }

    @Test
    void limitAndCursorPageTheGroupsAndTheTotalIsTheWholeWindow() {
        answered("alice", "sambanova", 10, 20);
        answered("alice", "azure", 11, 5);
        answered("alice", "demo", 12, 1);

        Exchange page1 = request("usage-report", Fixture.token("alice"), null, Map.of("limit", "2"));
        JsonNode first = json(page1);
        assertThat(first.get("groups").findValuesAsText("key")).containsExactly("azure", "demo");
        assertThat(first.at("/total/answers").asInt()).isEqualTo(3);
        // the clock moves on between pages: the cursor keeps the first page's window
        f.clock.advance(java.time.Duration.ofHours(1));
        Exchange page2 = request("usage-report", Fixture.token("alice"), null,
                Map.of("limit", "2", "cursor", first.get("next_cursor").asText()));
        JsonNode second = json(page2);
        assertThat(second.get("groups").findValuesAsText("key")).containsExactly("sambanova");
        assertThat(second.at("/total/answers").asInt()).isEqualTo(3);
        assertThat(second.get("to").asText()).isEqualTo(first.get("to").asText());
        assertThat(second.get("next_cursor").isNull()).isTrue();
    }

    @Test
    void aBadLimitOrCursorIs400() {
        Exchange limit = request("usage-report", Fixture.token("alice"), null, Map.of("limit", "-1"));
        assertError(limit, 400, "invalid_parameter");
        assertThat(json(limit).at("/error/message").asText()).isEqualTo("limit must be a whole number from 1 to 200");

        Exchange cursor = request("usage-report", Fixture.token("alice"), null, Map.of("cursor", "bm90IGEgY3Vyc29y"));
        assertError(cursor, 400, "invalid_cursor");
    }

    @Test
    void anotherUsersUsageIsForAdministratorsOnly() {
        answered("bob", "sambanova", 12, 100);

        Exchange refused = request("usage-report", Fixture.token("alice"), null, Map.of("user", "bob"));
        assertError(refused, 403, "forbidden");

        Exchange admin = request("usage-report", Fixture.adminToken("root"), null, Map.of("user", "bob"));
        assertThat(json(admin).at("/total/completion_tokens").asInt()).isEqualTo(100);
    }

    @Test
    void anUnknownGroupingIs400() {
        Exchange e = request("usage-report", Fixture.token("alice"), null, Map.of("group_by", "${body}"));

        assertError(e, 400, "invalid_group_by");
    }
}
