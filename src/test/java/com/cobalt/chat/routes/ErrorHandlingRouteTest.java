package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.provider.ProviderAttempts;
import com.cobalt.chat.provider.ProviderFailure;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.store.UserMessageWrites;
import org.apache.camel.Exchange;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/error-handling.camel.yaml: the routeConfigurations api-errors, openai-errors and internal, each applied to
 * a small route that fails the way the real ones do (chat-record is the real one, for the failed exchange).
 */
class ErrorHandlingRouteTest extends RouteTestSupport {

    private final AtomicReference<RuntimeException> toThrow = new AtomicReference<>();

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-record.camel.yaml");
    }

    @Override
    protected RoutesBuilder testRoutes() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:api").routeId("api-under-test").routeConfigurationId("api-errors")
                        .process(e -> {
                            throw toThrow.get();
                        });
                from("direct:openai").routeId("openai-under-test").routeConfigurationId("openai-errors")
                        .process(e -> {
                            throw toThrow.get();
                        });
                from("direct:internal").routeId("internal-under-test").routeConfigurationId("internal")
                        .process(e -> {
                            throw toThrow.get();
                        });
                from("direct:calls-provider").routeId("calls-provider").routeConfigurationId("api-errors")
                        .to(providerEndpoint("sambanova"));
                from("direct:calls-internal").routeId("calls-internal").routeConfigurationId("api-errors")
                        .to("direct:internal");
            }
        };
    }

    private Exchange fail(String uri, RuntimeException failure, java.util.function.Consumer<Exchange> setup) {
        toThrow.set(failure);
        return send(uri, e -> setup.accept(e));
    }

    private static ProviderAttempts attempts(ProviderFailure... failures) {
        ProviderAttempts a = new ProviderAttempts();
        for (ProviderFailure failure : failures) {
            a.add(failure);
        }
        return a;
    }

    @Test
    void anApiErrorKeepsItsStatusCodeAndMessage() {
        Exchange e = fail("direct:api", ApiError.notFound("session_not_found", "No such session"), x -> { });

        assertError(e, 404, "session_not_found");
        assertThat(e.getMessage().getBody(String.class))
                .isEqualTo("{\"error\":{\"code\":\"session_not_found\",\"message\":\"No such session\"}}");
        assertThat(e.getMessage().getHeader("Content-Type")).isEqualTo("application/json");
    }

    @Test
    void providersExhaustedIs503ProviderUnavailable() {
        ProviderFailure last = ProviderFailure.status("azure", 503, null);
        Exchange e = fail("direct:api", last, x -> x.setProperty(ProviderAttempts.PROPERTY,
                attempts(ProviderFailure.status("sambanova", 500, null), last)));

        assertError(e, 503, "provider_unavailable");
        assertThat(e.getMessage().getBody(String.class)).isEqualTo(
                "{\"error\":{\"code\":\"provider_unavailable\",\"message\":\"No provider could answer; retry later\"}}");
    }

    @Test
    void noEquivalentSaysWhichModelHadNone() {
        ProviderFailure last = ProviderFailure.status("azure", 502, null);
        Exchange e = fail("direct:api", last, x -> {
            x.setProperty(ProviderAttempts.PROPERTY, attempts(last));
            x.setVariable("noEquivalentFor", "gpt-4o-mini");
        });

        assertError(e, 503, "provider_unavailable");
        assertThat(e.getMessage().getBody(String.class)).isEqualTo("{\"error\":{\"code\":\"provider_unavailable\","
                + "\"message\":\"No provider serving gpt-4o-mini could answer, and no equivalent model is configured\"}}");
    }

    /**
     * Every provider rate limiting: 429 with the shortest pause any of them asked for (then the request has somewhere
     * to go), and 1 s when none gave a hint - the client's 429 always says when to come back.
     */
    @ParameterizedTest(name = "hints {0} and {1} -> Retry-After {2}")
    @CsvSource({"30, 12, 12", "-1, -1, 1"})
    void everyProviderRateLimitingIs429WithTheShortestRetryAfter(long firstHint, long lastHint, String expected) {
        ProviderFailure last = lastHint < 0 ? ProviderFailure.status("azure", 429, null)
                : ProviderFailure.coolingDown("azure", 429, lastHint);
        Exchange e = fail("direct:api", last, x -> x.setProperty(ProviderAttempts.PROPERTY,
                attempts(ProviderFailure.status("sambanova", 429, firstHint < 0 ? null : firstHint), last)));

        assertError(e, 429, "rate_limited");
        assertThat(e.getMessage().getHeader("Retry-After")).isEqualTo(expected);
    }

    @Test
    void aFailedChatExchangeIsStoredAndItsSlotReleased() {
        String session = f.session("alice", "t");
        String slot = f.limits.admit("alice").slot();
        ProviderFailure last = ProviderFailure.status("sambanova", 500, null);

        Exchange e = fail("direct:api", last, x -> {
            x.setVariable("user", "alice");
            x.setVariable("sessionId", session);
            x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000002");
            x.setVariable("userMessageId", "stored-before");
            x.setVariable("provider", "sambanova");
            x.setVariable("variant", "none");
            x.setVariable("streamSlot", slot);
            x.setProperty(ProviderAttempts.PROPERTY, attempts(last));
        });

        assertError(e, 503, "provider_unavailable");
        assertThat(e.getVariable("streamSlot")).isNull();
        assertThat(e.getVariable("answerRecorded")).isEqualTo(true);
        List<Map<String, Object>> rows = f.rows("SELECT role, status, error_code FROM chat_message"
                + " WHERE session_id = ?", session);
        assertThat(rows).containsExactly(Map.of("role", "assistant", "status", "failed",
                "error_code", "provider_unavailable"));
        // no provider answered: nothing is counted as a provider attempt here (provider-fallback counted it)
        assertThat(f.meters.find("llm_requests_total").counters()).isEmpty();
    }

    @Test
    void aProviderFailureWhileTheMessageIsStillBeingWrittenWaitsForItAndStoresTheFailedAnswerBesideIt() {
        String session = f.session("alice", "t");
        ProviderFailure last = ProviderFailure.status("sambanova", 500, null);
        CountDownLatch failed = new CountDownLatch(1);
        // the write is under way when the provider fails, and ends only after the error handler began
        UserMessageWrites.Pending pending = new UserMessageWrites.Pending(CompletableFuture.supplyAsync(() -> {
            try {
                failed.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return f.store.saveUserMessage("alice", session, "0190f000-0000-7000-8000-000000000005", "Question");
        }));

        Exchange e = fail("direct:api", last, x -> {
            x.setVariable("user", "alice");
            x.setVariable("sessionId", session);
            x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000005");
            x.setVariable("userMessage", pending);
            x.setVariable("provider", "sambanova");
            x.setVariable("variant", "none");
            x.setProperty(ProviderAttempts.PROPERTY, attempts(last));
            failed.countDown();
        });

        assertError(e, 503, "provider_unavailable");
        assertThat(e.getVariable("userMessageId")).isEqualTo(pending.id().join());
        assertThat(f.rows("SELECT role, status, COALESCE(error_code, '-') AS error_code FROM chat_message"
                + " WHERE session_id = ? ORDER BY seq", session)).containsExactly(
                        Map.of("role", "user", "status", "complete", "error_code", "-"),
                        Map.of("role", "assistant", "status", "failed", "error_code", "provider_unavailable"));
    }

    @Test
    void aMessageWhoseWriteFailedLeavesNoFailedAnswerBehind() {
        String session = f.session("alice", "t");
        ApiError gone = ApiError.notFound("session_not_found", "No such session");

        Exchange e = fail("direct:api", gone, x -> {
            x.setVariable("user", "alice");
            x.setVariable("sessionId", session);
            x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000006");
            x.setVariable("userMessage", new UserMessageWrites.Pending(CompletableFuture.failedFuture(gone)));
            x.setVariable("provider", "sambanova");
            x.setVariable("variant", "none");
        });

        assertError(e, 404, "session_not_found");
        assertThat(e.getVariable("userMessageId")).isNull();
        assertThat(f.rows("SELECT role FROM chat_message WHERE session_id = ?", session)).isEmpty();
    }

    @Test
    void aRequestThatFailedBeforeItsMessageWasStoredIsNotRecorded() {
        String session = f.session("alice", "t");

        Exchange e = fail("direct:api", ApiError.badRequest("empty_content", "\"content\" must not be empty"),
                x -> {
                    x.setVariable("user", "alice");
                    x.setVariable("sessionId", session);
                });

        assertError(e, 400, "empty_content");
        assertThat(e.getVariable("answerRecorded")).isNull();
        assertThat(f.rows("SELECT id FROM chat_message WHERE session_id = ?", session)).isEmpty();
    }

    @Test
    void aRejectedRequestIsStoredAsFailedAndCountedOnceAsRejected() {
        // what provider-call leaves behind for a 400: the rejection in cobaltUpstream, and the counter it bumped
        String session = f.session("alice", "t");
        f.meters.counter("llm_requests_total", "provider", "sambanova", "status", "rejected", "variant", "none")
                .increment();

        Exchange e = fail("direct:api",
                new ApiError(400, "provider_rejected_request", "The provider rejected the request as invalid"), x -> {
                    x.setVariable("user", "alice");
                    x.setVariable("sessionId", session);
                    x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000003");
                    x.setVariable("userMessageId", "stored-before");
                    x.setVariable("provider", "sambanova");
                    x.setVariable("variant", "none");
                    x.setProperty("cobaltUpstream", new ProviderRejection("sambanova", false));
                });

        assertError(e, 400, "provider_rejected_request");
        List<Map<String, Object>> rows = f.rows("SELECT status, error_code, provider FROM chat_message"
                + " WHERE session_id = ?", session);
        assertThat(rows).containsExactly(Map.of("status", "failed", "error_code", "provider_rejected_request",
                "provider", "sambanova"));
        // README: llm_requests_total counts provider attempts as success, error, rejected (400) or cancelled
        assertThat(f.meters.find("llm_requests_total").counters().stream()
                .mapToDouble(c -> c.count()).sum()).as("one attempt, counted once").isEqualTo(1.0);
    }

    @Test
    void aRejectionThroughTheRealProviderRouteIsCountedOnce() {
        String session = f.session("alice", "t");
        f.upstream.reject("sambanova", false);
        toThrow.set(null);

        Exchange e = send("direct:calls-provider", x -> {
            x.setVariable("user", "alice");
            x.setVariable("sessionId", session);
            x.setVariable("exchangeId", "0190f000-0000-7000-8000-000000000004");
            x.setVariable("userMessageId", "stored-before");
            x.setVariable("provider", "sambanova");
            x.setVariable("variant", "none");
        });

        assertError(e, 400, "provider_rejected_request");
        assertThat(f.meters.find("llm_requests_total").counters().stream()
                .map(c -> c.getId().getTag("status") + "=" + c.count()).toList())
                .as("one attempt, counted once").containsExactly("rejected=1.0");
    }

    @Test
    void openAiErrorsUseOpenAisErrorObject() {
        ProviderFailure last = ProviderFailure.status("sambanova", 500, null);
        Exchange e = fail("direct:openai", last, x -> x.setProperty(ProviderAttempts.PROPERTY, attempts(last)));

        assertThat(e.getException()).isNull();
        assertThat(e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE)).isEqualTo(503);
        assertThat(e.getMessage().getBody(String.class)).isEqualTo("{\"error\":{\"message\":\"No provider could answer;"
                + " retry later\",\"type\":\"service_unavailable\",\"param\":null,\"code\":\"provider_unavailable\"}}");
    }

    @Test
    void openAiFailuresAfterTheProviderWasChosenAreRecordedWithoutASession() {
        ProviderFailure last = ProviderFailure.status("sambanova", 500, null);
        Exchange e = fail("direct:openai", last, x -> {
            x.setVariable("user", "bob");
            x.setVariable("provider", "sambanova");
            x.setVariable("variant", "none");
            x.setProperty(ProviderAttempts.PROPERTY, attempts(last));
        });

        assertThat(e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE)).isEqualTo(503);
        assertThat(e.getVariable("answerRecorded")).isEqualTo(true);
        assertThat(f.rows("SELECT id FROM chat_message")).isEmpty();
    }

    @Test
    void internalRoutesHandTheFailureBackToTheirCaller() {
        ApiError failure = ApiError.badRequest("context_too_long", "too long");

        Exchange direct = fail("direct:internal", failure, x -> { });
        assertThat(direct.getException()).isSameAs(failure);

        Exchange viaCaller = fail("direct:calls-internal", failure, x -> { });
        assertError(viaCaller, 400, "context_too_long");
    }
}
