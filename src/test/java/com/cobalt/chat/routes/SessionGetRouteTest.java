package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/session-get.camel.yaml: GET /api/v1/chat/sessions/{id} - the caller's own session, else 404. */
class SessionGetRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("session-get.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("session-get");
    }

    @Test
    void theCallersSessionWithItsMessages() {
        String id = f.session("alice", "mine");
        f.store.saveUserMessage("alice", id, "0190f000-0000-7000-8000-00000000000a", "\"Hello\" ${body}");

        Exchange e = request("session-get", Fixture.token("alice"), null, Map.of("id", id));

        assertThat(status(e)).isEqualTo(200);
        JsonNode body = json(e);
        assertThat(body.get("id").asText()).isEqualTo(id);
        assertThat(body.get("title").asText()).isEqualTo("mine");
        assertThat(body.get("messages")).hasSize(1);
        assertThat(body.at("/messages/0/role").asText()).isEqualTo("user");
        assertThat(body.at("/messages/0/content").asText()).isEqualTo("\"Hello\" ${body}");
    }

    @Test
    void anotherUsersSessionIs404() {
        String bobs = f.session("bob", "bob's");

        Exchange e = request("session-get", Fixture.token("alice"), null, Map.of("id", bobs));

        assertError(e, 404, "session_not_found");
        assertThat(e.getMessage().getBody(String.class)).doesNotContain("bob's");
    }

    @Test
    void aMalformedIdIs404() {
        Exchange e = request("session-get", Fixture.token("alice"), null, Map.of("id", "${body}"));

        assertError(e, 404, "session_not_found");
    }
}
