package com.cobalt.chat.routes;

import java.util.List;

import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderFailure;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import org.apache.camel.Exchange;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/provider-fallback.camel.yaml: what onFallback runs. The re-route to chat-router is woven to a mock, so
 * this shows which provider and model the second attempt is sent to, and when there is none.
 */
class ProviderFallbackRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("provider-fallback.camel.yaml", "fallback-switch.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        weave("provider-fallback", a -> a.weaveById("route-to-fallback").replace().to("mock:chat-router"));
    }

    private Exchange failed(Throwable caught, String provider, String model, String fallback, String fallbackModel,
                            String fallbackFrom) {
        return send("direct:provider-fallback", e -> {
            if (caught != null) {
                e.setProperty(Exchange.EXCEPTION_CAUGHT, caught);
            }
            e.setVariable("provider", provider);
            e.setVariable("model", model);
            e.setVariable("fallback", fallback);
            e.setVariable("fallbackModel", fallbackModel);
            e.setVariable("variant", "none");
            if (fallbackFrom != null) {
                e.setVariable("fallbackFrom", fallbackFrom);
            }
        });
    }

    @Test
    void aFirstFailureGoesOnceToTheFallbackProviderForTheSameModel() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(1);
        router.expectedVariableReceived("provider", "azure");
        router.expectedVariableReceived("fallbackFrom", "sambanova");
        router.expectedVariableReceived("model", "llama");
        router.expectedVariableReceived("upstreamModel", "llama-deployment");
        ProviderFailure failure = ProviderFailure.status("sambanova", 502, null);

        Exchange e = failed(failure, "sambanova", "llama", "azure", "llama", null);

        router.assertIsSatisfied();
        assertThat(e.getException()).isNull();
        ProviderAttempts attempts = e.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class);
        assertThat(attempts.failures()).containsExactly(failure);
        assertThat(counter("llm_requests_total", "provider", "sambanova", "status", "error", "variant", "none"))
                .isEqualTo(1.0);
        assertThat(counter("llm_fallback_triggered_total", "from", "sambanova", "to", "azure")).isEqualTo(1.0);
    }

    @Test
    void aModelWithoutAnotherProviderFallsBackToItsEquivalent() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(1);
        router.expectedVariableReceived("provider", "sambanova");
        router.expectedVariableReceived("model", "llama");
        router.expectedVariableReceived("upstreamModel", "Meta-Llama-3.3-70B-Instruct");

        failed(ProviderFailure.timeout("azure", "no first token"), "azure", "gpt-4o", "sambanova", "llama", null);

        router.assertIsSatisfied();
        assertThat(counter("llm_fallback_triggered_total", "from", "azure", "to", "sambanova")).isEqualTo(1.0);
    }

    @Test
    void aFailureOfTheFallbackEndsTheRequestWithItsFailure() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(0);
        ProviderFailure first = ProviderFailure.status("sambanova", 500, null);
        ProviderFailure second = ProviderFailure.connect("azure", new java.net.ConnectException());
        ProviderAttempts earlier = new ProviderAttempts();
        earlier.add(first);

        Exchange e = send("direct:provider-fallback", x -> {
            x.setProperty(Exchange.EXCEPTION_CAUGHT, second);
            x.setProperty(ProviderAttempts.PROPERTY, earlier);
            x.setVariable("provider", "azure");
            x.setVariable("model", "llama");
            x.setVariable("fallback", "azure");
            x.setVariable("fallbackModel", "llama");
            x.setVariable("fallbackFrom", "sambanova");
            x.setVariable("variant", "B");
        });

        router.assertIsSatisfied();
        assertThat(e.getException()).isSameAs(second);
        assertThat(e.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class).failures())
                .containsExactly(first, second);
        assertThat(e.getVariable("noEquivalentFor")).isNull();
        assertThat(counter("llm_requests_total", "provider", "azure", "status", "error", "variant", "B"))
                .isEqualTo(1.0);
    }

    @Test
    void aRequestThatFellBackOnceIsNotRoutedAgainWhateverItsFallbackSays() throws Exception {
        // the fallback (azure) failed; its own variables would point back to sambanova - once is the limit
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(0);
        ProviderFailure failure = ProviderFailure.status("azure", 500, null);

        Exchange e = failed(failure, "azure", "llama", "sambanova", "llama", "sambanova");

        router.assertIsSatisfied();
        assertThat(e.getException()).isSameAs(failure);
        assertThat(counter("llm_fallback_triggered_total", "from", "azure", "to", "sambanova")).isZero();
    }

    @Test
    void noProviderForTheModelOrAnEquivalentEndsTheRequestNamingTheModel() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(0);
        ProviderFailure failure = ProviderFailure.status("azure", 503, null);

        // gpt-4o-mini: only azure serves it and it has no equivalent, so chat-http found no fallback ("")
        Exchange e = failed(failure, "azure", "gpt-4o-mini", "", "", null);

        router.assertIsSatisfied();
        assertThat(e.getException()).isSameAs(failure);
        assertThat(e.getVariable("noEquivalentFor")).isEqualTo("gpt-4o-mini");
    }

    @Test
    void withoutAFallbackProviderTheErrorDoesNotBlameTheModel() throws Exception {
        f.selection.select("sambanova", null, "test");
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(0);
        ProviderFailure failure = ProviderFailure.status("sambanova", 500, null);

        Exchange e = failed(failure, "sambanova", "llama", "", "", null);

        router.assertIsSatisfied();
        assertThat(e.getException()).isSameAs(failure);
        assertThat(e.getVariable("noEquivalentFor")).isNull();
    }

    @Test
    void aFallbackEqualToTheFailedProviderIsNotTried() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(0);
        ProviderFailure failure = ProviderFailure.status("azure", 500, null);

        Exchange e = failed(failure, "azure", "llama", "azure", "llama", null);

        router.assertIsSatisfied();
        assertThat(e.getException()).isSameAs(failure);
    }

    @Test
    void anOpenBreakerIsNotedAsSuch() throws Exception {
        MockEndpoint router = getMockEndpoint("mock:chat-router");
        router.expectedMessageCount(1);

        Exchange e = failed(CallNotPermittedException.createCallNotPermittedException(f.breakers.of("sambanova")),
                "sambanova", "llama", "azure", "llama", null);

        router.assertIsSatisfied();
        List<ProviderFailure> noted = e.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class).failures();
        assertThat(noted).hasSize(1);
        assertThat(noted.get(0).kind()).isEqualTo(ProviderFailure.Kind.BREAKER_OPEN);
        assertThat(noted.get(0).provider()).isEqualTo("sambanova");
    }
}
