package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderFailure;
import com.cobalt.chat.store.UserMessageWrites;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/chat-http.camel.yaml: POST /api/v1/chat/sessions/{id}/messages up to the point it hands the request on.
 * The four internal routes and the end of the stream are mocks: this shows what chat-http decided (user, session,
 * the exact message, model, provider, upstream name, fallback) and how it answers when something fails.
 */
class ChatHttpRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-http.camel.yaml", "chat-record.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        weave("chat-http", a -> {
            a.replaceFromWith("direct:chat-http");
            // the real step leaves the user's message being written; this one a write done (without an id), unless
            // the mock says otherwise
            a.weaveById("enrich-session").replace().setVariable("userMessage")
                    .constant(new UserMessageWrites.Pending(CompletableFuture.completedFuture(null))).to("mock:enrich");
            a.weaveById("route-to-provider").replace().to("mock:router");
            a.weaveById("stream-answer").replace().to("mock:stream");
            a.weaveById("record-answer").replace().to("mock:record");
            a.weaveById("end-stream").replace().to("mock:end");
        });
    }

    private Exchange message(String user, String session, String content) throws Exception {
        return request("chat-http", Fixture.token(user),
                "{\"content\":" + new ObjectMapper().writeValueAsString(content) + "}", Map.of("id", session));
    }

    @Test
    void aMessageGoesThroughEveryStepWithTheSessionsModelAndItsProviders() throws Exception {
        String session = f.session("alice", "t");
        MockEndpoint enrich = getMockEndpoint("mock:enrich");
        enrich.expectedMessageCount(1);
        enrich.expectedVariableReceived("user", "alice");
        enrich.expectedVariableReceived("sessionId", session);
        enrich.expectedVariableReceived("content", "Hi there");
        enrich.expectedVariableReceived("model", "llama");
        enrich.expectedVariableReceived("variant", "none");
        enrich.expectedVariableReceived("provider", "sambanova");
        enrich.expectedVariableReceived("upstreamModel", "Meta-Llama-3.3-70B-Instruct");
        enrich.expectedVariableReceived("fallback", "azure");
        enrich.expectedVariableReceived("fallbackModel", "llama");
        for (String step : List.of("mock:router", "mock:stream", "mock:record", "mock:end")) {
            getMockEndpoint(step).expectedMessageCount(1);
        }

        Exchange e = message("alice", session, "Hi there");

        assertThat(e.getException()).isNull();
        MockEndpoint.assertIsSatisfied(context);
        assertThat(e.getVariable("exchangeId", String.class)).hasSize(36);
        // the stream slot was released before the end of the stream
        assertThat(e.getVariable("streamSlot")).isNull();
    }

    /**
     * The request's headers end once read: the provider route and everything after it see none (not the caller's
     * token either), so no step copies them along. Nor do they live on in variables: a step that keeps a bean's answer
     * with {@code variableReceive} also stores the message's headers as {@code header:<variable>.*} variables, so such
     * steps come after the headers are dropped.
     */
    @Test
    void theRequestsHeadersGoNoFurtherThanTheStepsThatReadThem() throws Exception {
        String session = f.session("alice", "t");
        MockEndpoint router = getMockEndpoint("mock:router");
        router.expectedMessageCount(1);

        Exchange e = message("alice", session, "Hi there");

        assertThat(e.getException()).isNull();
        MockEndpoint.assertIsSatisfied(context);
        Exchange routed = router.getReceivedExchanges().get(0);
        assertThat(routed.getMessage().getHeaders()).isEmpty();
        assertThat(routed.getVariables().keySet()).noneMatch(name -> name.startsWith("header:"));
        assertThat(routed.getVariable("sessionId", String.class)).isEqualTo(session);
    }

    @Test
    void aSessionOnAModelWithoutEquivalentHasNoFallback() throws Exception {
        String session = f.store.createSession("alice",
                new com.cobalt.chat.store.NewSession("t", null, "gpt-4o-mini", null)).id();
        MockEndpoint enrich = getMockEndpoint("mock:enrich");
        enrich.expectedVariableReceived("provider", "azure");
        enrich.expectedVariableReceived("upstreamModel", "gpt-4o-mini-prod");
        enrich.expectedVariableReceived("fallback", "");
        enrich.expectedVariableReceived("fallbackModel", "");

        message("alice", session, "Hi");

        enrich.assertIsSatisfied();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Hello\"", "null", "  spaced  ", "${body}", "{{chat.max-tokens}}", "${header.id}"})
    void theMessageReachesTheNextRouteExactlyAsSent(String text) throws Exception {
        String session = f.session("alice", "t");
        MockEndpoint enrich = getMockEndpoint("mock:enrich");
        enrich.expectedMessageCount(1);
        enrich.expectedVariableReceived("content", text);

        message("alice", session, text);

        enrich.assertIsSatisfied();
    }

    @Test
    void anotherUsersSessionIs404AndGoesNowhere() throws Exception {
        String bobs = f.session("bob", "t");
        getMockEndpoint("mock:enrich").expectedMessageCount(0);
        getMockEndpoint("mock:router").expectedMessageCount(0);

        Exchange e = message("alice", bobs, "Hi");

        assertError(e, 404, "session_not_found");
        MockEndpoint.assertIsSatisfied(context);
        assertThat(f.rows("SELECT id FROM chat_message")).isEmpty();
    }

    @Test
    void anEmptyMessageIs400() throws Exception {
        String session = f.session("alice", "t");
        getMockEndpoint("mock:enrich").expectedMessageCount(0);

        Exchange e = message("alice", session, "   ");

        assertError(e, 400, "empty_content");
        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void aMessageThatCouldNotBeStoredFailsTheRequestOnceTheProvidersAnswerBegan() throws Exception {
        String session = f.session("alice", "t");
        ApiError gone = ApiError.notFound("session_not_found", "No such session");
        getMockEndpoint("mock:enrich").whenAnyExchangeReceived(x -> x.setVariable("userMessage",
                new UserMessageWrites.Pending(CompletableFuture.failedFuture(gone))));
        getMockEndpoint("mock:router").expectedMessageCount(1);
        getMockEndpoint("mock:stream").expectedMessageCount(0);
        getMockEndpoint("mock:record").expectedMessageCount(0);

        Exchange e = message("alice", session, "Hi");

        assertError(e, 404, "session_not_found");
        MockEndpoint.assertIsSatisfied(context);
        assertThat(e.getVariable("userMessageId")).isNull();
        assertThat(e.getVariable("streamSlot")).isNull();
    }

    @Test
    void providersExhaustedIs503AndTheFailedAnswerIsStored() throws Exception {
        String session = f.session("alice", "t");
        ProviderFailure failure = ProviderFailure.status("sambanova", 502, null);
        getMockEndpoint("mock:enrich").whenAnyExchangeReceived(x -> x.setVariable("userMessageId", "stored"));
        getMockEndpoint("mock:router").whenAnyExchangeReceived(x -> {
            ProviderAttempts attempts = new ProviderAttempts();
            attempts.add(failure);
            x.setProperty(ProviderAttempts.PROPERTY, attempts);
            throw failure;
        });
        getMockEndpoint("mock:stream").expectedMessageCount(0);

        Exchange e = message("alice", session, "Hi");

        assertError(e, 503, "provider_unavailable");
        getMockEndpoint("mock:stream").assertIsSatisfied();
        assertThat(f.rows("SELECT role, status, error_code FROM chat_message WHERE session_id = ?", session))
                .containsExactly(Map.of("role", "assistant", "status", "failed", "error_code", "provider_unavailable"));
        assertThat(e.getVariable("streamSlot")).isNull();
    }
}
