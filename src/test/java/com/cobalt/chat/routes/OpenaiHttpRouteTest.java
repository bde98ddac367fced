package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;

import com.cobalt.chat.openai.OpenAiChunks;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.StreamOutcome;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/openai-http.camel.yaml: POST /v1/chat/completions up to the router; router, relay, record and the final
 * answer are mocks. Errors come in OpenAI's error object (openai-errors).
 */
class OpenaiHttpRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("openai-http.camel.yaml", "chat-record.camel.yaml", "fallback-switch.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        weave("openai-http", a -> {
            a.replaceFromWith("direct:openai-http");
            a.weaveById("openai-route-to-provider").replace().to("mock:router");
            a.weaveById("openai-stream-answer").replace().to("mock:stream");
            a.weaveById("openai-record-answer").replace().to("mock:record");
            a.weaveById("openai-respond").replace().to("mock:respond");
            a.weaveById("openai-route-to-fallback").replace().to("mock:fallback-router");
            a.weaveById("openai-collect-fallback-answer").replace().to("mock:fallback-stream");
            a.weaveById("openai-record-broken-attempt").replace().to("mock:broken-record");
        });
    }

    private Exchange complete(String model, String content) throws Exception {
        return complete(model, content, true);
    }

    private Exchange complete(String model, String content, boolean stream) throws Exception {
        String m = model == null ? "" : "\"model\":\"" + model + "\",";
        return request("openai-http", Fixture.token("alice"), "{" + m + "\"stream\":" + stream + ",\"messages\":[{"
                + "\"role\":\"user\",\"content\":" + new ObjectMapper().writeValueAsString(content) + "}]}", Map.of());
    }

    /** The relay step (a mock) ends the answer as {@code outcome}, as chat-stream-sse leaves it. */
    private void relayEndsWith(StreamOutcome outcome) {
        getMockEndpoint("mock:stream").whenAnyExchangeReceived(x -> x.setProperty(StreamOutcome.PROPERTY, outcome));
    }

    static final StreamOutcome BROKEN = new StreamOutcome(StreamOutcome.INTERRUPTED, "Hel", null, null, null, 40L,
            "stream_interrupted");

    @Test
    void aNamedModelGoesToItsProviderWithTheFallbackForIt() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:router");
        router.expectedMessageCount(1);
        router.expectedVariableReceived("user", "alice");
        router.expectedVariableReceived("model", "gpt-4o");
        router.expectedVariableReceived("provider", "azure");
        router.expectedVariableReceived("upstreamModel", "gpt-4o-prod");
        router.expectedVariableReceived("fallback", "sambanova");
        router.expectedVariableReceived("fallbackModel", "llama");
        router.expectedVariableReceived("variant", "none");
        for (String step : List.of("mock:stream", "mock:record", "mock:respond")) {
            getMockEndpoint(step).expectedMessageCount(1);
        }

        Exchange e = complete("gpt-4o", "Hi");

        assertThat(e.getException()).isNull();
        MockEndpoint.assertIsSatisfied(context);
        assertThat(e.getVariable("streamSlot")).isNull();
    }

    /**
     * The request's headers (the caller's key among them) end once read: the provider route sees none, on the message
     * or as {@code header:*} variables (what {@code variableReceive} makes of a message's headers).
     */
    @Test
    void theRequestsHeadersGoNoFurtherThanTheStepsThatReadThem() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:router");
        router.expectedMessageCount(1);

        Exchange e = complete("gpt-4o", "Hi");

        assertThat(e.getException()).isNull();
        router.assertIsSatisfied();
        assertThat(router.getReceivedExchanges().get(0).getMessage().getHeaders()).isEmpty();
        assertThat(router.getReceivedExchanges().get(0).getVariables().keySet())
                .noneMatch(name -> name.startsWith("header:"));
        assertThat(router.getReceivedExchanges().get(0).getVariable("user", String.class)).isEqualTo("alice");
    }

    @Test
    void noModelMeansTheDefaultModel() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:router");
        router.expectedVariableReceived("model", "llama");
        router.expectedVariableReceived("provider", "sambanova");
        router.expectedVariableReceived("upstreamModel", "Meta-Llama-3.3-70B-Instruct");

        complete(null, "Hi");

        router.assertIsSatisfied();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Hello\"", "null", "  spaced  ", "${body}", "{{chat.max-tokens}}"})
    void theCallersMessagesReachTheProviderExactly(String text) throws Exception {
        MockEndpoint router = getMockEndpoint("mock:router");
        router.expectedMessageCount(1);

        complete("llama", text);

        router.assertIsSatisfied();
        assertThat(router.getReceivedExchanges().get(0).getVariable("upstreamMessages", List.class))
                .containsExactly(new ContextMessage("user", text));
    }

    @Test
    void aWholeAnswerItsProviderBrokeOffGoesToTheFallbackOnceAsTheSameCompletion() throws Exception {
        relayEndsWith(BROKEN);
        MockEndpoint fallback = getMockEndpoint("mock:fallback-router");
        fallback.expectedMessageCount(1);
        fallback.expectedVariableReceived("provider", "sambanova");
        fallback.expectedVariableReceived("fallbackFrom", "azure");
        fallback.expectedVariableReceived("model", "llama");
        fallback.expectedVariableReceived("upstreamModel", "Meta-Llama-3.3-70B-Instruct");
        getMockEndpoint("mock:fallback-stream").expectedMessageCount(1);
        MockEndpoint broken = getMockEndpoint("mock:broken-record");
        broken.expectedMessageCount(1);
        MockEndpoint record = getMockEndpoint("mock:record");
        record.expectedMessageCount(1);
        getMockEndpoint("mock:respond").expectedMessageCount(1);

        Exchange e = complete("gpt-4o", "Hi", false);

        assertThat(e.getException()).isNull();
        MockEndpoint.assertIsSatisfied(context);
        OpenAiChunks first = getMockEndpoint("mock:router").getReceivedExchanges().get(0)
                .getVariable(ClientFormat.VARIABLE, OpenAiChunks.class);
        OpenAiChunks again = fallback.getReceivedExchanges().get(0).getVariable(ClientFormat.VARIABLE, OpenAiChunks.class);
        assertThat(again).isNotSameAs(first);
        assertThat(List.of(again.id(), again.created(), again.model(), again.stream()))
                .isEqualTo(List.of(first.id(), first.created(), "gpt-4o", false));
        assertThat(counter("llm_fallback_triggered_total", "from", "azure", "to", "sambanova")).isEqualTo(1.0);
        // the broken attempt is recorded before the fallback is asked; then the fallback's answer, once
        assertThat(broken.getReceivedExchanges().get(0).getProperty(StreamOutcome.PROPERTY)).isSameAs(BROKEN);
        assertThat(record.getReceivedExchanges().get(0).getProperty(StreamOutcome.PROPERTY)).isNull();
    }

    /**
     * The fallback's attempt starts from nothing the broken one left (its outcome, its recorded flag): had they stayed,
     * a failure before the fallback's first token was not recorded (the error handler saw the answer recorded).
     */
    @Test
    void theFallbacksAttemptStartsWithoutTheBrokenAttemptsRecord() throws Exception {
        relayEndsWith(BROKEN);
        getMockEndpoint("mock:broken-record").whenAnyExchangeReceived(x -> x.setVariable("answerRecorded", true));
        MockEndpoint fallback = getMockEndpoint("mock:fallback-router");
        fallback.expectedMessageCount(1);

        complete("gpt-4o", "Hi", false);

        fallback.assertIsSatisfied();
        Exchange retried = fallback.getReceivedExchanges().get(0);
        assertThat(retried.getProperty(StreamOutcome.PROPERTY)).isNull();
        assertThat(retried.getVariable("answerRecorded")).isNull();
    }

    @Test
    void aStreamedAnswerItsProviderBrokeOffIsNotAskedAgain() throws Exception {
        relayEndsWith(BROKEN);
        getMockEndpoint("mock:fallback-router").expectedMessageCount(0);
        getMockEndpoint("mock:respond").expectedMessageCount(1);

        complete("gpt-4o", "Hi", true);

        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void aWholeAnswerTheFallbackItselfBrokeOffIsNotAskedAThirdTime() throws Exception {
        getMockEndpoint("mock:stream").whenAnyExchangeReceived(x -> {
            x.setProperty(StreamOutcome.PROPERTY, BROKEN);
            x.setVariable("fallbackFrom", "sambanova");
        });
        getMockEndpoint("mock:fallback-router").expectedMessageCount(0);
        getMockEndpoint("mock:respond").expectedMessageCount(1);

        complete("gpt-4o", "Hi", false);

        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void aWholeAnswerTheCallerLeftIsNotAskedAgain() throws Exception {
        relayEndsWith(new StreamOutcome(StreamOutcome.CANCELLED, "Hel", null, null, null, 40L, "client_closed"));
        getMockEndpoint("mock:fallback-router").expectedMessageCount(0);

        complete("gpt-4o", "Hi", false);

        MockEndpoint.assertIsSatisfied(context);
    }

    @Test
    void anUnknownModelIs404InOpenAisShape() throws Exception {
        getMockEndpoint("mock:router").expectedMessageCount(0);

        Exchange e = complete("claude-3", "Hi");

        assertThat(status(e)).isEqualTo(404);
        assertThat(json(e).at("/error/code").asText()).isEqualTo("model_not_found");
        assertThat(json(e).at("/error/type").asText()).isEqualTo("invalid_request_error");
        MockEndpoint.assertIsSatisfied(context);
    }
}
