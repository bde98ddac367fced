package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/openai-models.camel.yaml: GET /v1/models in OpenAI's list shape, the default model first. */
class OpenaiModelsRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("openai-models.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("openai-models");
    }

    @Test
    void listsEveryCatalogIdOnceDefaultFirst() {
        Exchange e = request("openai-models", Fixture.token("alice"), null, Map.of());

        assertThat(e.getMessage().getHeader("Content-Type")).isEqualTo("application/json");
        JsonNode body = json(e);
        assertThat(body.get("object").asText()).isEqualTo("list");
        assertThat(body.get("data").findValuesAsText("id"))
                .containsExactly("llama", "gpt-4o", "gpt-4o-mini", "local-model");
        assertThat(body.at("/data/0/object").asText()).isEqualTo("model");
    }

    @Test
    void withoutATokenItIs401InOpenAisShape() {
        Exchange e = request("openai-models", null, null, Map.of());

        assertThat(status(e)).isEqualTo(401);
        assertThat(json(e).at("/error/type").asText()).isEqualTo("authentication_error");
        assertThat(json(e).at("/error/code").asText()).isEqualTo("missing_token");
    }
}
