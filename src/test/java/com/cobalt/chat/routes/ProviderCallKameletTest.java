package com.cobalt.chat.routes;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderFailure;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.camel.Exchange;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/provider-call.kamelet.yaml, as the routes provider-sambanova and provider-openai-local made from it. The
 * fallback route is a stand-in here that records what the breaker's onFallback handed it (ProviderFallbackRouteTest
 * covers the real one).
 */
class ProviderCallKameletTest extends RouteTestSupport {

    /** The exception each onFallback call saw (Exchange.EXCEPTION_CAUGHT), in order; null entries are kept. */
    private final List<Object> fallbackSaw = new CopyOnWriteArrayList<>();

    @Override
    protected List<String> routeFiles() {
        return List.of();
    }

    @Override
    protected List<String> providerRoutes() {
        return List.of("sambanova", "openai-local");
    }

    @Override
    protected RoutesBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:provider-fallback").routeId("fallback-stand-in")
                        .process(e -> {
                            Object caught = e.getProperty(Exchange.EXCEPTION_CAUGHT);
                            fallbackSaw.add(caught == null ? "none" : caught);
                        })
                        .setProperty("cobaltUpstream", constant("answered by the fallback"))
                        .to("mock:fallback");
            }
        };
    }

    private Exchange call(String provider) {
        return send(providerEndpoint(provider), e -> {
            e.setVariable("provider", provider);
            e.setVariable("upstreamModel", "upstream-" + provider);
            e.setVariable("variant", "none");
        });
    }

    private CircuitBreaker breaker(String provider) {
        return f.breakers.of(provider);
    }

    @Test
    void oneRoutePerProviderWithItsOwnBreakerStep() {
        assertThat(context.getRoute("provider-sambanova")).isNotNull();
        assertThat(context.getRoute("provider-openai-local")).isNotNull();
        // camel-kamelet prefixes the template's step ids (e.g. "1provider-sambanova-open-stream")
        assertThat(context.getRoute("provider-sambanova").filter(".*provider-sambanova-open-stream")).hasSize(1);
        assertThat(context.getRoute("provider-sambanova").filter(".*provider-sambanova-rejected")).hasSize(1);
        assertThat(context.getRoute("provider-openai-local").filter(".*provider-openai-local-open-stream")).hasSize(1);
    }

    @Test
    void answerIsKeptAndNoFallback() throws Exception {
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(0);

        Exchange e = call("sambanova");

        assertThat(e.getException()).isNull();
        assertThat(e.getProperty("cobaltUpstream"))
                .isEqualTo(new StubUpstream.Marker("sambanova", "upstream-sambanova"));
        assertThat(f.upstream.providersCalled()).containsExactly("sambanova");
        assertThat(breaker("sambanova").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        fallback.assertIsSatisfied();
    }

    @Test
    void theCallHoldsNoThreadUntilTheProviderAnswers() throws Exception {
        CompletableFuture<Object> later = new CompletableFuture<>();
        f.upstream.answerLater("sambanova", later);

        CompletableFuture<Exchange> sent = template.asyncSend(providerEndpoint("sambanova"), e -> {
            e.setVariable("provider", "sambanova");
            e.setVariable("upstreamModel", "upstream-sambanova");
            e.setVariable("variant", "none");
        });
        // the route is parked on the stage, not on a thread: the call was made and nothing is recorded yet
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (f.upstream.calls.isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(f.upstream.calls).hasSize(1);
        assertThat(sent).isNotDone();
        assertThat(breaker("sambanova").getMetrics().getNumberOfBufferedCalls()).isZero();

        later.complete(new StubUpstream.Marker("sambanova", "late"));

        Exchange e = sent.get(10, TimeUnit.SECONDS);
        assertThat(e.getException()).isNull();
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo(new StubUpstream.Marker("sambanova", "late"));
        assertThat(breaker("sambanova").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
    }

    @Test
    void aLateFailureGoesToTheFallbackAndIsCounted() throws Exception {
        CompletableFuture<Object> later = new CompletableFuture<>();
        f.upstream.answerLater("sambanova", later);
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(1);

        CompletableFuture<Exchange> sent = template.asyncSend(providerEndpoint("sambanova"), e -> {
            e.setVariable("provider", "sambanova");
            e.setVariable("upstreamModel", "upstream-sambanova");
            e.setVariable("variant", "none");
        });
        ProviderFailure failure = ProviderFailure.timeout("sambanova", "no first token within 20000 ms");
        later.completeExceptionally(failure);

        Exchange e = sent.get(10, TimeUnit.SECONDS);
        fallback.assertIsSatisfied();
        assertThat(fallbackSaw).containsExactly(failure);
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo("answered by the fallback");
        assertThat(breaker("sambanova").getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        assertThat(breaker("sambanova").getMetrics().getNumberOfSuccessfulCalls()).isZero();
    }

    @Test
    void aDeclaredProviderUsesItsOwnBreaker() {
        Exchange e = call("openai-local");

        assertThat(e.getProperty("cobaltUpstream"))
                .isEqualTo(new StubUpstream.Marker("openai-local", "upstream-openai-local"));
        assertThat(breaker("openai-local").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        assertThat(breaker("sambanova").getMetrics().getNumberOfBufferedCalls()).isZero();
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("connect", ProviderFailure.connect("sambanova", new java.net.ConnectException())),
                Arguments.of("timeout", ProviderFailure.timeout("sambanova", "no first token in 20000 ms")),
                Arguments.of("http 502", ProviderFailure.status("sambanova", 502, null)),
                Arguments.of("http 503", ProviderFailure.status("sambanova", 503, null)),
                Arguments.of("bad stream", ProviderFailure.badStream("sambanova", "server_error")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void eachFailureGoesToTheFallbackAndIsCounted(String name, ProviderFailure failure) throws Exception {
        f.upstream.fail("sambanova", failure);
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(1);

        Exchange e = call("sambanova");

        fallback.assertIsSatisfied();
        assertThat(fallbackSaw).containsExactly(failure);
        assertThat(e.getException()).isNull();
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo("answered by the fallback");
        assertThat(breaker("sambanova").getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
    }

    @Test
    void coolingDownIsSkippedWithoutACallAndNotCountedByTheBreaker() throws Exception {
        f.health.noteFailure(ProviderFailure.status("sambanova", 429, 30L));
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(1);

        Exchange e = call("sambanova");

        fallback.assertIsSatisfied();
        assertThat(f.upstream.calls).isEmpty();
        assertThat(fallbackSaw).hasSize(1);
        ProviderFailure skipped = (ProviderFailure) fallbackSaw.get(0);
        assertThat(skipped.kind()).isEqualTo(ProviderFailure.Kind.COOLDOWN);
        assertThat(skipped.status()).isEqualTo(429);
        assertThat(skipped.retryAfterSeconds()).isEqualTo(30L);
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo("answered by the fallback");
        assertThat(breaker("sambanova").getMetrics().getNumberOfBufferedCalls()).isZero();
        assertThat(breaker("sambanova").getMetrics().getNumberOfFailedCalls()).isZero();

        // the same route counts a 5xx once the cooldown is over
        f.clock.advance(java.time.Duration.ofSeconds(31));
        f.upstream.fail("sambanova", ProviderFailure.status("sambanova", 500, null));
        call("sambanova");
        assertThat(breaker("sambanova").getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        assertThat(fallbackSaw).hasSize(2);
    }

    @Test
    void anOpenBreakerGoesToTheFallbackWithoutACall() throws Exception {
        breaker("sambanova").transitionToOpenState();
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(1);

        Exchange e = call("sambanova");

        fallback.assertIsSatisfied();
        assertThat(f.upstream.calls).isEmpty();
        assertThat(fallbackSaw).hasSize(1);
        // the permit step fails with the provider's breaker-open failure, which the fallback notes as such
        assertThat(fallbackSaw.get(0)).isInstanceOfSatisfying(ProviderFailure.class, failure -> {
            assertThat(failure.kind()).isEqualTo(ProviderFailure.Kind.BREAKER_OPEN);
            assertThat(failure.provider()).isEqualTo("sambanova");
        });
        assertThat(e.getProperty("cobaltUpstream")).isEqualTo("answered by the fallback");
        assertThat(breaker("sambanova").getMetrics().getNumberOfNotPermittedCalls()).isEqualTo(1);
    }

    @Test
    void aRejectionIs400WithoutFallback() throws Exception {
        f.upstream.reject("sambanova", false);
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(0);

        Exchange e = call("sambanova");

        assertThat(e.getException()).isInstanceOf(ApiError.class);
        ApiError error = (ApiError) e.getException();
        assertThat(error.status()).isEqualTo(400);
        assertThat(error.code()).isEqualTo("provider_rejected_request");
        fallback.assertIsSatisfied();
        assertThat(counter("llm_requests_total", "provider", "sambanova", "status", "rejected", "variant", "none"))
                .isEqualTo(1.0);
        assertThat(breaker("sambanova").getMetrics().getNumberOfFailedCalls()).isZero();
    }

    @Test
    void aContentFilterRejectionIsContentFiltered() throws Exception {
        f.upstream.reject("sambanova", true);
        MockEndpoint fallback = getMockEndpoint("mock:fallback");
        fallback.expectedMessageCount(0);

        Exchange e = call("sambanova");

        assertThat(e.getException()).isInstanceOf(ApiError.class);
        assertThat(((ApiError) e.getException()).code()).isEqualTo("content_filtered");
        assertThat(((ApiError) e.getException()).status()).isEqualTo(400);
        fallback.assertIsSatisfied();
    }
}
