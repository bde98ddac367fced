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
        assertThat(body.get("next_cursor").isNull()).isTrue();
    }

    @Test
    void messagesLimitAndMessagesCursorPageTheMessagesBackwards() {
        String id = f.session("alice", "mine");
        for (int i = 1; i <= 5; i++) {
            f.store.saveUserMessage("alice", id, "0190f000-0000-7000-8000-00000000000" + i, "m" + i);
        }

        Exchange newest = request("session-get", Fixture.token("alice"), null,
                Map.of("id", id, "messages_limit", "2"));
        assertThat(status(newest)).isEqualTo(200);
        assertThat(json(newest).get("messages").findValuesAsText("content")).containsExactly("m4", "m5");
        String cursor = json(newest).get("next_cursor").asText();

        Exchange older = request("session-get", Fixture.token("alice"), null,
                Map.of("id", id, "messages_limit", "2", "messages_cursor", cursor));
        assertThat(json(older).get("messages").findValuesAsText("content")).containsExactly("m2", "m3");
        Exchange oldest = request("session-get", Fixture.token("alice"), null,
                Map.of("id", id, "messages_limit", "2", "messages_cursor", json(older).get("next_cursor").asText()));
        assertThat(json(oldest).get("messages").findValuesAsText("content")).containsExactly("m1");
        assertThat(json(oldest).get("next_cursor").isNull()).isTrue();
        assertThat(json(oldest).get("title").asText()).isEqualTo("mine");
    }

    @Test
    void aBadMessagesLimitOrCursorIs400() {
        String id = f.session("alice", "mine");

        Exchange limit = request("session-get", Fixture.token("alice"), null,
                Map.of("id", id, "messages_limit", "201"));
        assertError(limit, 400, "invalid_parameter");
        assertThat(json(limit).at("/error/message").asText())
                .isEqualTo("messages_limit must be a whole number from 1 to 200");
        Exchange cursor = request("session-get", Fixture.token("alice"), null,
                Map.of("id", id, "messages_cursor", "${body}"));
        assertError(cursor, 400, "invalid_cursor");
        assertThat(json(cursor).at("/error/message").asText())
                .isEqualTo("messages_cursor is not a cursor this list gave out; start again without it");
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
