package com.cobalt.chat.routes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.cobalt.chat.provider.ProviderSelection;
import com.cobalt.chat.store.UserMessageWrites;
import org.apache.camel.Exchange;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;

/**
 * routes/chat-http.camel.yaml reads the provider selection once, first: a runtime switch that lands between its
 * steps does not give one request the primary of one selection and the fallback of another.
 */
class ChatHttpSelectionRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-http.camel.yaml", "chat-record.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        weave("chat-http", a -> {
            a.replaceFromWith("direct:chat-http");
            // an operator switches to "sambanova alone" right after this request chose its provider
            a.weaveById("provider-for-session-model").after().process(x -> context.getRegistry()
                    .lookupByNameAndType("providerSelection", ProviderSelection.class)
                    .select("sambanova", null, "test"));
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

    @Test
    void aSwitchDuringTheRequestDoesNotChangeItsFallback() throws Exception {
        String session = f.session("alice", "t");
        MockEndpoint enrich = getMockEndpoint("mock:enrich");
        enrich.expectedMessageCount(1);
        enrich.expectedVariableReceived("provider", "sambanova");
        enrich.expectedVariableReceived("fallback", "azure");
        enrich.expectedVariableReceived("fallbackModel", "llama");

        Exchange e = request("chat-http", Fixture.token("alice"), "{\"content\":\"hi\"}", Map.of("id", session));

        assertThat(e.getException()).isNull();
        MockEndpoint.assertIsSatisfied(context);
        ProviderSelection.Choice now = context.getRegistry()
                .lookupByNameAndType("providerSelection", ProviderSelection.class).current();
        assertThat(now.fallback()).as("the switch did happen").isNull();
    }
}
