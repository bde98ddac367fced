package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/session-list.camel.yaml: GET /api/v1/chat/sessions - the caller's sessions only, newest first, a page at a
 * time ({@code limit}, {@code cursor}, {@code next_cursor}).
 */
class SessionListRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("session-list.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("session-list");
    }

    @Test
    void listsOnlyTheCallersSessionsNewestFirst() {
        String older = f.session("alice", "older");
        f.clock.advance(java.time.Duration.ofSeconds(5));
        String newer = f.session("alice", "newer");
        f.session("bob", "bob's");

        Exchange e = request("session-list", Fixture.token("alice"), null, Map.of());

        assertThat(status(e)).isEqualTo(200);
        JsonNode sessions = json(e).get("sessions");
        assertThat(sessions).hasSize(2);
        assertThat(sessions.get(0).get("id").asText()).isEqualTo(newer);
        assertThat(sessions.get(0).get("title").asText()).isEqualTo("newer");
        assertThat(sessions.get(1).get("id").asText()).isEqualTo(older);
        assertThat(json(e).get("next_cursor").isNull()).isTrue();
    }

    @Test
    void limitAndCursorWalkThePagesFromTheQueryString() {
        String first = f.session("alice", "first");
        f.clock.advance(java.time.Duration.ofSeconds(1));
        String second = f.session("alice", "second");
        f.clock.advance(java.time.Duration.ofSeconds(1));
        String third = f.session("alice", "third");

        Exchange page1 = request("session-list", Fixture.token("alice"), null, Map.of("limit", "2"));
        assertThat(status(page1)).isEqualTo(200);
        assertThat(json(page1).get("sessions").findValuesAsText("id")).containsExactly(third, second);
        String cursor = json(page1).get("next_cursor").asText();
        assertThat(cursor).matches("[A-Za-z0-9_-]+");

        Exchange page2 = request("session-list", Fixture.token("alice"), null, Map.of("limit", "2", "cursor", cursor));
        assertThat(status(page2)).isEqualTo(200);
        assertThat(json(page2).get("sessions").findValuesAsText("id")).containsExactly(first);
        assertThat(json(page2).get("next_cursor").isNull()).isTrue();
    }

    @Test
    void aBadLimitIs400NamingItAndAForgedCursorIs400() {
        f.session("alice", "mine");

        for (String bad : List.of("0", "201", "ten", "${body}")) {
            Exchange e = request("session-list", Fixture.token("alice"), null, Map.of("limit", bad));
            assertError(e, 400, "invalid_parameter");
            assertThat(json(e).at("/error/message").asText()).isEqualTo("limit must be a whole number from 1 to 200");
        }
        Exchange forged = request("session-list", Fixture.token("alice"), null,
                Map.of("cursor", "WyJzZXNzaW9ucyIsIid7Ym9keX0iLCIxIl0"));
        assertError(forged, 400, "invalid_cursor");
        assertThat(json(forged).at("/error/message").asText())
                .isEqualTo("cursor is not a cursor this list gave out; start again without it");
    }

    @Test
    void aCallerWithoutSessionsGetsAnEmptyList() {
        f.session("bob", "bob's");

        Exchange e = request("session-list", Fixture.token("carol"), null, Map.of());

        assertThat(status(e)).isEqualTo(200);
        assertThat(e.getMessage().getBody(String.class)).isEqualTo("{\"sessions\":[],\"next_cursor\":null}");
    }

    @Test
    void anInvalidTokenIs401() {
        Exchange e = request("session-list", "not-a-jwt", null, Map.of());

        assertError(e, 401, "invalid_token");
    }
}
