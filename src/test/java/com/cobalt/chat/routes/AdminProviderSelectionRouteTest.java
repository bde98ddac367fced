package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/admin-provider-selection.camel.yaml: PUT /api/v1/admin/providers/selection. */
class AdminProviderSelectionRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("admin-provider-selection.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("admin-provider-selection");
    }

    @Test
    void anAdministratorSwitchesPrimaryAndFallback() {
        Exchange e = request("admin-provider-selection", Fixture.adminToken("root"),
                "{\"primary\":\"openai-local\",\"fallback\":\"sambanova\"}", Map.of());

        assertThat(e.getException()).isNull();
        assertThat(json(e).get("primary").asText()).isEqualTo("openai-local");
        assertThat(json(e).get("fallback").asText()).isEqualTo("sambanova");
        assertThat(f.selection.getPrimary()).isEqualTo("openai-local");
        assertThat(f.selection.getFallback()).isEqualTo("sambanova");
    }

    @Test
    void anUnknownProviderIs400AndChangesNothing() {
        Exchange e = request("admin-provider-selection", Fixture.adminToken("root"),
                "{\"primary\":\"${body}\"}", Map.of());

        assertError(e, 400, "invalid_selection");
        assertThat(json(e).at("/error/message").asText())
                .isEqualTo("The primary must be one of the configured providers: azure, openai-local, sambanova");
        assertThat(f.selection.getPrimary()).isEqualTo("sambanova");
    }

    @Test
    void aNonAdministratorIs403AndChangesNothing() {
        Exchange e = request("admin-provider-selection", Fixture.token("alice"),
                "{\"primary\":\"azure\",\"fallback\":null}", Map.of());

        assertError(e, 403, "forbidden");
        assertThat(f.selection.getPrimary()).isEqualTo("sambanova");
        assertThat(f.selection.getFallback()).isEqualTo("azure");
    }
}
