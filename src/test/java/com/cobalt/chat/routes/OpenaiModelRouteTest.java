package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/openai-model.camel.yaml: GET /v1/models/{model}. */
class OpenaiModelRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("openai-model.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("openai-model");
    }

    @Test
    void aCatalogModel() {
        Exchange e = request("openai-model", Fixture.token("alice"), null, Map.of("model", "gpt-4o-mini"));

        assertThat(json(e).get("id").asText()).isEqualTo("gpt-4o-mini");
        assertThat(json(e).get("object").asText()).isEqualTo("model");
        assertThat(e.getMessage().getHeader("Content-Type")).isEqualTo("application/json");
    }

    @Test
    void anUnknownModelIs404ModelNotFound() {
        Exchange e = request("openai-model", Fixture.token("alice"), null, Map.of("model", "${body}"));

        assertThat(status(e)).isEqualTo(404);
        assertThat(json(e).at("/error/code").asText()).isEqualTo("model_not_found");
    }
}
