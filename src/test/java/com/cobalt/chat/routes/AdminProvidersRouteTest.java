package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.provider.ProviderFailure;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/admin-providers.camel.yaml: GET /api/v1/admin/providers, for administrators only. */
class AdminProvidersRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("admin-providers.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("admin-providers");
    }

    @Test
    void anAdministratorSeesEveryProvidersState() {
        f.breakers.of("azure").transitionToOpenState();
        f.health.noteFailure(ProviderFailure.status("sambanova", 502, null));

        Exchange e = request("admin-providers", Fixture.adminToken("root"), null, Map.of());

        JsonNode body = json(e);
        assertThat(body.get("primary").asText()).isEqualTo("sambanova");
        assertThat(body.get("fallback").asText()).isEqualTo("azure");
        assertThat(body.get("providers").findValuesAsText("name"))
                .containsExactly("sambanova", "azure", "openai-local");
        assertThat(body.at("/providers/1/breaker_state").asText()).isEqualTo("OPEN");
        assertThat(body.toString()).contains("http_502");
    }

    @Test
    void anyoneElseIs403() {
        Exchange e = request("admin-providers", Fixture.token("alice"), null, Map.of());

        assertError(e, 403, "forbidden");
    }
}
