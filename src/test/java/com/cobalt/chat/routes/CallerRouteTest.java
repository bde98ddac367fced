package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/caller.camel.yaml: GET /api/v1/me, who is calling - asked by the web page before anything else. */
class CallerRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("caller.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("caller");
    }

    @Test
    void noTokenIsNotSignedInAndNotARefusal() {
        Exchange e = request("caller", null, null, Map.of());

        assertThat(status(e)).isEqualTo(200);
        assertThat(json(e).toString()).isEqualTo("{\"signed_in\":false,\"auth_required\":true,\"operator\":false}");
    }

    @Test
    void aUserSeesTheirIdAndNoOperatorRole() {
        Exchange e = request("caller", Fixture.token("alice"), null, Map.of());

        assertThat(status(e)).isEqualTo(200);
        assertThat(json(e).toString())
                .isEqualTo("{\"signed_in\":true,\"auth_required\":true,\"user\":\"alice\",\"operator\":false}");
    }

    @Test
    void anAdministratorIsAnOperator() {
        Exchange e = request("caller", Fixture.adminToken("root"), null, Map.of());

        JsonNode body = json(e);
        assertThat(body.get("user").asText()).isEqualTo("root");
        assertThat(body.get("operator").asBoolean()).isTrue();
    }

    @Test
    void aTokenThatIsSentIsCheckedAsEverywhere() {
        Exchange e = request("caller", "not.a.token", null, Map.of());

        assertError(e, 401, "invalid_token");
    }
}
