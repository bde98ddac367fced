package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/session-create.camel.yaml: POST /api/v1/chat/sessions. */
class SessionCreateRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("session-create.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("session-create");
    }

    @Test
    void createsASessionOfTheCaller() {
        Exchange e = request("session-create", Fixture.token("alice"), "{\"title\":\"First chat\",\"model\":\"gpt-4o\"}",
                Map.of());

        assertThat(status(e)).isEqualTo(201);
        assertThat(e.getMessage().getHeader("Content-Type")).isEqualTo("application/json");
        JsonNode body = json(e);
        assertThat(body.get("title").asText()).isEqualTo("First chat");
        assertThat(body.get("model").asText()).isEqualTo("gpt-4o");
        String id = body.get("id").asText();
        assertThat(f.rows("SELECT user_id, title, model FROM chat_session WHERE id = ?", id))
                .containsExactly(Map.of("user_id", "alice", "title", "First chat", "model", "gpt-4o"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Hello\"", "null", "  spaced  ", "${body}", "{{chat.max-tokens}}", "${header.id}"})
    void titleAndSystemPromptAreStoredExactly(String text) throws Exception {
        String quoted = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(text);

        Exchange e = request("session-create", Fixture.token("alice"),
                "{\"title\":" + quoted + ",\"system_prompt\":" + quoted + "}", Map.of());

        assertThat(status(e)).isEqualTo(201);
        assertThat(json(e).get("title").asText()).isEqualTo(text);
        String id = json(e).get("id").asText();
        assertThat(f.rows("SELECT title, system_prompt FROM chat_session WHERE id = ?", id))
                .containsExactly(Map.of("title", text, "system_prompt", text));
    }

    @Test
    void anUnknownModelIs400ListingTheValidOnes() {
        Exchange e = request("session-create", Fixture.token("alice"), "{\"model\":\"claude-3\"}", Map.of());

        assertError(e, 400, "unknown_model");
        assertThat(json(e).at("/error/message").asText()).isEqualTo(
                "Unknown model 'claude-3'; valid models: llama, gpt-4o, gpt-4o-mini, local-model");
        assertThat(f.rows("SELECT id FROM chat_session")).isEmpty();
    }

    @Test
    void withoutATokenNothingIsCreated() {
        Exchange e = request("session-create", null, "{\"title\":\"x\"}", Map.of());

        assertError(e, 401, "missing_token");
        assertThat(e.getMessage().getHeader("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(f.rows("SELECT id FROM chat_session")).isEmpty();
    }
}
