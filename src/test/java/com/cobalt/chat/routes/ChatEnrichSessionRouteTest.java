package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.store.SessionContext;
import com.cobalt.chat.store.UserMessageWrites;
import org.apache.camel.Exchange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/chat-enrich-session.camel.yaml: the user's message is stored, and the provider's context built. */
class ChatEnrichSessionRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-enrich-session.camel.yaml");
    }

    private Exchange enrich(String session, SessionContext context, String content, String model) {
        return send("direct:chat-enrich-session", e -> {
            e.setVariable("user", "alice");
            e.setVariable("sessionId", session);
            e.setVariable("exchangeId", "0190f000-0000-7000-8000-00000000000c");
            e.setVariable("content", content);
            e.setVariable("model", model);
            e.setVariable("sessionContext", context);
        });
    }

    /** The route started the write and went on; the id of the stored message once the write is done. */
    private static String stored(Exchange e) {
        UserMessageWrites.Pending pending = e.getVariable("userMessage", UserMessageWrites.Pending.class);
        assertThat(pending).isNotNull();
        return pending.id().orTimeout(10, TimeUnit.SECONDS).join();
    }

    @Test
    void storesTheMessageAndBuildsTheContextAfterSystemPromptAndHistory() {
        String session = f.session("alice", "t");
        SessionContext context = new SessionContext("Be brief.", List.of(new ContextMessage("user", "Earlier"),
                new ContextMessage("assistant", "Answer")));

        Exchange e = enrich(session, context, "Now", "llama");

        assertThat(e.getException()).isNull();
        String id = stored(e);
        assertThat(f.rows("SELECT role, content, user_id, exchange_id FROM chat_message WHERE id = ?", id))
                .containsExactly(Map.of("role", "user", "content", "Now", "user_id", "alice",
                        "exchange_id", "0190f000-0000-7000-8000-00000000000c"));
        assertThat(e.getVariable("upstreamMessages", List.class)).containsExactly(
                new ContextMessage("system", "Be brief."), new ContextMessage("user", "Earlier"),
                new ContextMessage("assistant", "Answer"), new ContextMessage("user", "Now"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Hello\"", "null", "  spaced  ", "${body}", "{{chat.max-tokens}}"})
    void theTextIsStoredAndSentExactly(String text) {
        String session = f.session("alice", "t");

        Exchange e = enrich(session, new SessionContext(null, List.of()), text, "llama");

        assertThat(f.rows("SELECT content FROM chat_message WHERE id = ?", stored(e)))
                .containsExactly(Map.of("content", text));
        assertThat(e.getVariable("upstreamMessages", List.class)).containsExactly(new ContextMessage("user", text));
    }

    @Test
    void historyBeyondTheModelsWindowIsDropped() {
        // gpt-4o: a window of 128000 less 2048 for the answer; a very long old exchange does not fit
        String session = f.session("alice", "t");
        String longText = "word ".repeat(130_000);
        SessionContext context = new SessionContext(null, List.of(new ContextMessage("user", longText),
                new ContextMessage("assistant", "ok")));

        Exchange e = enrich(session, context, "Now", "gpt-4o");

        assertThat(e.getVariable("upstreamMessages", List.class)).containsExactly(new ContextMessage("user", "Now"));
    }
}
