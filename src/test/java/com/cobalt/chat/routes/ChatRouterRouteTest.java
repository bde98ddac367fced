package com.cobalt.chat.routes;

import java.util.List;

import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderFailure;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/chat-router.camel.yaml: the variable provider picks the route provider-&lt;id&gt; made from the Kamelet -
 * for the built-in ids and a declared one alike - and, with the real provider-fallback, a failed provider's request
 * comes back through the router to its fallback.
 */
class ChatRouterRouteTest extends RouteTestSupport {

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-router.camel.yaml", "provider-fallback.camel.yaml", "fallback-switch.camel.yaml");
    }

    @Override
    protected List<String> providerRoutes() {
        // openai-local is left out: the router's toD makes its route on first use
        return List.of("sambanova", "azure");
    }

    private Exchange route(String provider, String model, String upstreamModel, String fallback,
                           String fallbackModel) {
        return send("direct:chat-router", e -> {
            e.setVariable("provider", provider);
            e.setVariable("model", model);
            e.setVariable("upstreamModel", upstreamModel);
            e.setVariable("fallback", fallback);
            e.setVariable("fallbackModel", fallbackModel);
            e.setVariable("variant", "none");
        });
    }

    @Test
    void sambanovaGoesToProviderSambanova() {

        Exchange e = route("sambanova", "llama", "Meta-Llama-3.3-70B-Instruct", "azure", "llama");

        assertThat(e.getException()).isNull();
        assertThat(f.upstream.routes).containsExactly("provider-sambanova");
        assertThat(f.breakers.of("sambanova").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        assertThat(f.upstream.calls).containsExactly(
                new StubUpstream.Call("sambanova", "Meta-Llama-3.3-70B-Instruct", null));
        assertThat(e.getProperty("cobaltUpstream"))
                .isEqualTo(new StubUpstream.Marker("sambanova", "Meta-Llama-3.3-70B-Instruct"));
    }

    @Test
    void azureGoesToProviderAzure() {

        Exchange e = route("azure", "gpt-4o", "gpt-4o-prod", "sambanova", "llama");

        assertThat(f.upstream.routes).containsExactly("provider-azure");
        assertThat(f.upstream.providersCalled()).containsExactly("azure");
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo(new StubUpstream.Marker("azure", "gpt-4o-prod"));
        assertThat(f.breakers.of("azure").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        assertThat(f.breakers.of("sambanova").getMetrics().getNumberOfBufferedCalls()).isZero();
    }

    @Test
    void aDeclaredProviderGetsItsOwnRoute() {
        assertThat(context.getRoute("provider-openai-local")).isNull();

        Exchange e = route("openai-local", "local-model", "qwen2.5-7b", "", "");

        assertThat(e.getException()).isNull();
        assertThat(context.getRoute("provider-openai-local")).isNotNull();
        assertThat(f.upstream.routes).containsExactly("provider-openai-local");
        assertThat(f.upstream.providersCalled()).containsExactly("openai-local");
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo(new StubUpstream.Marker("openai-local", "qwen2.5-7b"));
        assertThat(f.breakers.of("openai-local").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
    }

    @Test
    void aFailedProviderIsRoutedToItsFallbackOnce() {
        ProviderFailure failure = ProviderFailure.status("sambanova", 503, null);
        f.upstream.fail("sambanova", failure);

        Exchange e = route("sambanova", "llama", "Meta-Llama-3.3-70B-Instruct", "azure", "llama");

        assertThat(e.getException()).isNull();
        assertThat(f.upstream.routes).containsExactly("provider-sambanova", "provider-azure");
        assertThat(f.breakers.of("sambanova").getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        assertThat(f.breakers.of("azure").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        assertThat(f.upstream.calls).containsExactly(
                new StubUpstream.Call("sambanova", "Meta-Llama-3.3-70B-Instruct", null),
                new StubUpstream.Call("azure", "llama-deployment", null));
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo(new StubUpstream.Marker("azure", "llama-deployment"));
        assertThat(e.getVariable("provider")).isEqualTo("azure");
        assertThat(e.getVariable("fallbackFrom")).isEqualTo("sambanova");
        assertThat(e.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class).failures())
                .containsExactly(failure);
    }

    @Test
    void whenTheFallbackFailsTooTheLastFailureEndsTheRequest() {
        ProviderFailure first = ProviderFailure.status("sambanova", 500, null);
        ProviderFailure second = ProviderFailure.timeout("azure", "no first token");
        f.upstream.fail("sambanova", first);
        f.upstream.fail("azure", second);

        Exchange e = route("sambanova", "llama", "Meta-Llama-3.3-70B-Instruct", "azure", "llama");

        assertThat(e.getException()).isSameAs(second);
        assertThat(f.upstream.providersCalled()).containsExactly("sambanova", "azure");
        assertThat(e.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class).failures())
                .containsExactly(first, second);
        assertThat(counter("llm_requests_total", "provider", "sambanova", "status", "error", "variant", "none"))
                .isEqualTo(1.0);
        assertThat(counter("llm_requests_total", "provider", "azure", "status", "error", "variant", "none"))
                .isEqualTo(1.0);
    }
}
