package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.provider.ProviderFailure;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/models-list.camel.yaml: GET /api/v1/models with capabilities and availability. */
class ModelsListRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("models-list.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("models-list");
    }

    private JsonNode model(JsonNode body, String id) {
        for (JsonNode m : body.get("models")) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no model " + id + " in " + body);
    }

    @Test
    void listsTheCatalogWithTheDefaultAndCapabilities() {
        Exchange e = request("models-list", Fixture.token("alice"), null, Map.of());

        JsonNode body = json(e);
        assertThat(body.get("default_model").asText()).isEqualTo("llama");
        assertThat(body.get("models").findValuesAsText("id"))
                .containsExactly("llama", "gpt-4o", "gpt-4o-mini", "local-model");
        assertThat(model(body, "gpt-4o").get("context_window").asInt()).isEqualTo(128000);
        assertThat(model(body, "gpt-4o").get("max_output_tokens").asInt()).isEqualTo(16384);
        assertThat(model(body, "llama").get("default").asBoolean()).isTrue();
        assertThat(model(body, "gpt-4o").get("available").asBoolean()).isTrue();
    }

    @Test
    void aModelWhoseOnlyProviderCannotAnswerIsUnavailable() {
        f.breakers.of("openai-local").transitionToOpenState();
        f.health.noteFailure(ProviderFailure.status("azure", 429, 60L));

        JsonNode body = json(request("models-list", Fixture.token("alice"), null, Map.of()));

        assertThat(model(body, "local-model").get("available").asBoolean()).isFalse();
        assertThat(model(body, "gpt-4o-mini").get("available").asBoolean()).isFalse();
        // llama is also served by sambanova
        assertThat(model(body, "llama").get("available").asBoolean()).isTrue();
    }
}
