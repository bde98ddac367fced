package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/session-list.camel.yaml: GET /api/v1/chat/sessions - the caller's sessions only, newest first. */
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
    }

    @Test
    void aCallerWithoutSessionsGetsAnEmptyList() {
        f.session("bob", "bob's");

        Exchange e = request("session-list", Fixture.token("carol"), null, Map.of());

        assertThat(status(e)).isEqualTo(200);
        assertThat(e.getMessage().getBody(String.class)).isEqualTo("{\"sessions\":[]}");
    }

    @Test
    void anInvalidTokenIs401() {
        Exchange e = request("session-list", "not-a-jwt", null, Map.of());

        assertError(e, 401, "invalid_token");
    }
}
