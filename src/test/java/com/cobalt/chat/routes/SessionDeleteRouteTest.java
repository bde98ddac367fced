package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/session-delete.camel.yaml: DELETE /api/v1/chat/sessions/{id} - only the caller's own session. */
class SessionDeleteRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("session-delete.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        fromDirect("session-delete");
    }

    @Test
    void deletesTheCallersSessionAndItsMessages() {
        String id = f.session("alice", "mine");
        f.store.saveUserMessage("alice", id, "0190f000-0000-7000-8000-00000000000b", "hi");

        Exchange e = request("session-delete", Fixture.token("alice"), null, Map.of("id", id));

        assertThat(e.getException()).isNull();
        assertThat(status(e)).isEqualTo(204);
        assertThat(e.getMessage().getBody(String.class)).isEmpty();
        assertThat(f.rows("SELECT id FROM chat_session WHERE id = ?", id)).isEmpty();
        assertThat(f.rows("SELECT id FROM chat_message WHERE session_id = ?", id)).isEmpty();
    }

    @Test
    void anotherUsersSessionIs404AndStays() {
        String bobs = f.session("bob", "bob's");

        Exchange e = request("session-delete", Fixture.token("alice"), null, Map.of("id", bobs));

        assertError(e, 404, "session_not_found");
        assertThat(f.rows("SELECT user_id FROM chat_session WHERE id = ?", bobs))
                .containsExactly(Map.of("user_id", "bob"));
    }
}
