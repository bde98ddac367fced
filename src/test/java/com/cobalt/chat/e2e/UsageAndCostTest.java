package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Usage and cost of every answer, end to end: the provider's token counts in each shape they arrive in, the
 * gateway's own count (JTokkit, marked estimated) where there are none, the price table, the usage API over the
 * stored answers (grouping, time window, access between users), the metrics and provider MBeans after scripted
 * traffic, and a log that never carries a message, a key or a token.
 *
 * <p>The main gateway: sambanova (unpriced) at the fake upstream {@link #primary}, azure deployment gpt-4o (priced
 * 2.50 / 10.00 USD per million tokens in application.properties) as fallback at {@link #fallback}; its clock is a
 * {@link TestClock} so that answers land on known days. A second gateway talks to azure with api-version
 * 2024-06-01, which has no stream_options, so azure sends no usage at all.
 */
class UsageAndCostTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final String GPT4O = "gpt-4o";
    static final String BROKE_OFF = "The provider's stream broke off; the partial answer was kept";
    static final ObjectMapper DECIMALS = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    static final EncodingRegistry ENCODINGS = Encodings.newDefaultEncodingRegistry();
    static final Encoding CL100K = ENCODINGS.getEncoding(EncodingType.CL100K_BASE);
    static final Encoding O200K = ENCODINGS.getEncoding(EncodingType.O200K_BASE);
    static final BigDecimal GPT4O_IN = new BigDecimal("2.50");
    static final BigDecimal GPT4O_OUT = new BigDecimal("10.00");
    static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    static final TestClock CLOCK = new TestClock(Instant.parse("2026-03-01T09:00:00Z"));
    static FakeUpstream primary;
    static FakeUpstream fallback;
    static RunningGateway gateway;
    static GatewayClient client;

    static FakeUpstream oldAzure;
    static RunningGateway oldAzureGateway;
    static GatewayClient oldAzureClient;

    @BeforeAll
    static void start() {
        primary = FakeUpstream.start();
        fallback = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(primary, azureFallbackAt(fallback, "az-test-key-0002"),
                Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);

        oldAzure = FakeUpstream.start();
        oldAzureGateway = RunningGateway.start(Map.of(
                "llm.provider", "azure",
                "azure.ai.endpoint", oldAzure.baseUrl(),
                "azure.ai.api-key", "az-test-key-0003",
                "azure.ai.deployment", GPT4O,
                "azure.ai.api-version", "2024-06-01"));
        oldAzureClient = new GatewayClient(oldAzureGateway);
    }

    static Map<String, String> azureFallbackAt(FakeUpstream upstream, String key) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.fallback-provider", "azure");
        p.put("azure.ai.endpoint", upstream.baseUrl());
        p.put("azure.ai.api-key", key);
        p.put("azure.ai.deployment", GPT4O);
        // these tests price only azure: an empty price unsets SambaNova's published one from application.properties
        p.put("llm.price.sambanova." + LLAMA, "");
        return p;
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {gateway, oldAzureGateway, primary, fallback, oldAzure}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Every test on its own day, so that a report over a day holds only that test's answers. */
    @BeforeEach
    void nextDay() {
        CLOCK.advance(Duration.ofDays(1));
        primary.reset();
        fallback.reset();
        oldAzure.reset();
    }

    // ------------------------------------------------------------------------------- where the counts come from

    @Test
    void aTrailingUsageChunkIsStoredExactlyAsReported() {
        String token = Jwt.token("usage-trailing-1a");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Reported "), Chunks.delta("usage."), Chunks.finish("stop"),
                Chunks.usage(17, 4), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Count me");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("Reported usage.");
        RecordedRequest sent = primary.takeRequest(Duration.ofSeconds(2));
        assertThat(json(sent.body()).get("stream_options").toString()).isEqualTo("{\"include_usage\":true}");
        JsonNode report = awaitUsage(token, "", 1);
        assertThat(groupKeys(report)).containsExactly("sambanova");
        assertThat(totals(report.get("groups").get(0))).isEqualTo(new Totals(1, 17, 4, 0, 0, 0, null, 1));
        assertThat(totals(report.get("total"))).isEqualTo(new Totals(1, 17, 4, 0, 0, 0, null, 1));
    }

    @Test
    void usageOnTheFinishChunkIsStoredExactlyAsReported() {
        String token = Jwt.token("usage-finish-2b");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Usage on "), Chunks.delta("the finish."),
                Chunks.finishWithUsage("stop", 23, 6), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Count me too");

        assertThat(answer.text()).isEqualTo("Usage on the finish.");
        JsonNode report = awaitUsage(token, "", 1);
        assertThat(totals(report.get("total"))).isEqualTo(new Totals(1, 23, 6, 0, 0, 0, null, 1));
    }

    @Test
    void withoutUsageTheGatewayCountsAGpt4oAnswerWithO200kAndPricesTheCount() {
        String token = Jwt.token("usage-o200k-3c");
        String session = oldAzureClient.createSession(token);
        String question = "Wie heißt der höchste Turm in Tokio? 東京で一番高い塔は？";
        String reply = "Der Tokyo Skytree (東京スカイツリー) ist mit 634 Metern der höchste Turm Japans. Ça va?";
        oldAzure.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta(reply.substring(0, 31)),
                Chunks.delta(reply.substring(31)), Chunks.finish("stop"), Chunks.done()));

        GatewayClient.Answer answer = oldAzureClient.chat(session, token, question);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo(reply);
        RecordedRequest sent = oldAzure.takeRequest(Duration.ofSeconds(2));
        assertThat(sent.path()).isEqualTo("/openai/deployments/gpt-4o/chat/completions");
        assertThat(sent.query()).isEqualTo("api-version=2024-06-01");
        assertThat(json(sent.body()).has("stream_options")).as(sent.body()).isFalse();
        assertThat(messages(sent)).containsExactly(List.of("user", question));

        int prompt = 3 + (3 + O200K.countTokensOrdinary("user") + O200K.countTokensOrdinary(question));
        int completion = O200K.countTokensOrdinary(reply);
        assertThat(completion).as("the texts tell o200k_base from cl100k_base")
                .isNotEqualTo(CL100K.countTokensOrdinary(reply));
        assertThat(prompt).isEqualTo(promptTokens(sent, O200K));
        BigDecimal cost = cost(prompt, completion);

        JsonNode report = awaitUsage(oldAzureGateway, token, "", 1);
        assertThat(groupKeys(report)).containsExactly("azure");
        assertThat(totals(report.get("total")))
                .isEqualTo(new Totals(1, prompt, completion, 1, prompt, completion, cost, 0));
    }

    @Test
    void withoutUsageTheGatewayCountsALlamaAnswerAndItsWholeContextWithCl100k() {
        String token = Jwt.token("usage-cl100k-4d");
        String session = client.createSession(token,
                "{\"title\":\"Tokens\",\"system_prompt\":\"You are terse. Antworte kurz.\"}");
        primary.enqueue(Script.sse(Chunks.delta("Paris."), Chunks.finish("stop"), Chunks.usage(31, 2),
                Chunks.done()));
        assertThat(client.chat(session, token, "Capital of France?").text()).isEqualTo("Paris.");
        String reply = "Berlin, seit 1990 wieder die Hauptstadt — Grüße!";
        primary.enqueue(Script.sse(Chunks.delta(reply.substring(0, 20)), Chunks.delta(reply.substring(20)),
                Chunks.finish("stop"), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "And of Germany?");

        assertThat(answer.text()).isEqualTo(reply);
        primary.takeRequest(Duration.ofSeconds(2));
        RecordedRequest second = primary.takeRequest(Duration.ofSeconds(2));
        assertThat(messages(second)).containsExactly(List.of("system", "You are terse. Antworte kurz."),
                List.of("user", "Capital of France?"), List.of("assistant", "Paris."),
                List.of("user", "And of Germany?"));
        int prompt = 3 + (3 + CL100K.countTokensOrdinary("system")
                + CL100K.countTokensOrdinary("You are terse. Antworte kurz."))
                + (3 + CL100K.countTokensOrdinary("user") + CL100K.countTokensOrdinary("Capital of France?"))
                + (3 + CL100K.countTokensOrdinary("assistant") + CL100K.countTokensOrdinary("Paris."))
                + (3 + CL100K.countTokensOrdinary("user") + CL100K.countTokensOrdinary("And of Germany?"));
        int completion = CL100K.countTokensOrdinary(reply);
        assertThat(completion).as("the text tells cl100k_base from o200k_base")
                .isNotEqualTo(O200K.countTokensOrdinary(reply));

        JsonNode report = awaitUsage(token, "", 2);
        assertThat(totals(report.get("total")))
                .isEqualTo(new Totals(2, 31 + prompt, 2 + completion, 1, prompt, completion, null, 2));
    }

    @Test
    void anInterruptedStreamGetsEstimatedCountsOfItsPartialText() {
        String token = Jwt.token("usage-interrupted-5e");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Partial "), Chunks.delta("answer, über")).cut());

        GatewayClient.Answer answer = client.chat(session, token, "Tell me everything");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("data: {\"content\":\"Partial \",\"done\":false}\n\n"
                + "data: {\"content\":\"answer, über\",\"done\":false}\n\n"
                + "event: error\n"
                + "data: {\"error\":{\"code\":\"stream_interrupted\",\"message\":\"" + BROKE_OFF + "\"}}\n\n");
        RecordedRequest sent = primary.takeRequest(Duration.ofSeconds(2));
        int prompt = 3 + (3 + CL100K.countTokensOrdinary("user") + CL100K.countTokensOrdinary("Tell me everything"));
        assertThat(promptTokens(sent, CL100K)).isEqualTo(prompt);
        int completion = CL100K.countTokensOrdinary("Partial answer, über");

        JsonNode report = awaitUsage(token, "", 1);
        assertThat(totals(report.get("total")))
                .isEqualTo(new Totals(1, prompt, completion, 1, prompt, completion, null, 1));
        JsonNode stored = client.session(session, token).get("messages");
        assertThat(stored.get(1).get("content").asText()).isEqualTo("Partial answer, über");
        assertThat(stored.get(1).get("status").asText()).isEqualTo("interrupted");
    }

    // ------------------------------------------------------------------------------- cost

    @Test
    void aGpt4oAnswerCostsItsPriceTimesItsReportedTokens() {
        String token = Jwt.token("usage-cost-6f");
        String session = client.createSession(token);
        double metricBefore = orZero(PrometheusText.scrape(gateway).value("llm_cost_usd_total",
                Map.of("provider", "azure")));
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Priced."), Chunks.finish("stop"),
                Chunks.usage(1200, 345), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "What does this cost?");

        assertThat(answer.text()).isEqualTo("Priced.");
        RecordedRequest sent = fallback.takeRequest(Duration.ofSeconds(2));
        assertThat(sent.query()).isEqualTo("api-version=2024-10-21");
        assertThat(json(sent.body()).get("stream_options").toString()).isEqualTo("{\"include_usage\":true}");
        HttpResponse<String> r = awaitUsageResponse(gateway, token, "", 1);
        assertThat(r.body()).contains("\"cost_usd\":0.00645,");
        JsonNode report = json(r.body());
        assertThat(groupKeys(report)).containsExactly("azure");
        assertThat(totals(report.get("total"))).isEqualTo(new Totals(1, 1200, 345, 0, 0, 0,
                new BigDecimal("0.00645"), 0));
        assertThat(new BigDecimal("0.00645")).isEqualByComparingTo(cost(1200, 345));

        PrometheusText m = PrometheusText.await(gateway, x -> orZero(x.value("llm_cost_usd_total",
                Map.of("provider", "azure"))) > metricBefore);
        assertThat(m.value("llm_cost_usd_total", Map.of("provider", "azure")) - metricBefore)
                .isCloseTo(0.00645, within(1e-12));
    }

    @Test
    void anUnpricedModelHasAnUnknownCostNeverZero() {
        String token = Jwt.token("usage-unpriced-7a");
        String session = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Free?"), Chunks.finish("stop"), Chunks.usage(100, 50),
                Chunks.done()));

        assertThat(client.chat(session, token, "Is this free?").text()).isEqualTo("Free?");

        HttpResponse<String> r = awaitUsageResponse(gateway, token, "", 1);
        assertThat(r.body()).contains("\"cost_usd\":null,\"unpriced_answers\":1,");
        JsonNode report = json(r.body());
        assertThat(totals(report.get("groups").get(0))).isEqualTo(new Totals(1, 100, 50, 0, 0, 0, null, 1));
        assertThat(totals(report.get("total"))).isEqualTo(new Totals(1, 100, 50, 0, 0, 0, null, 1));
    }

    /**
     * application.properties: "Every property below can be overridden by an environment variable" (and, as for
     * every Camel property, by a JVM system property). A price is a property like any other: an operator who
     * overrides {@code llm.price.azure.gpt-4o} must be billed at the new price. An environment variable cannot be
     * set inside this JVM, so the test uses the system property, which Camel resolves the same way.
     */
    @Test
    void aPriceOverriddenOutsideApplicationPropertiesIsThePriceCharged() {
        String key = "llm.price.azure.gpt-4o";
        String before = System.getProperty(key);
        System.setProperty(key, "3.00,12.00");
        try (FakeUpstream p = FakeUpstream.start(); FakeUpstream f = FakeUpstream.start();
             RunningGateway g = RunningGateway.sambanovaAt(p, azureFallbackAt(f, "az-test-key-0005"))) {
            assertThat(g.camel().resolvePropertyPlaceholders("{{" + key + "}}")).isEqualTo("3.00,12.00");
            GatewayClient c = new GatewayClient(g);
            String token = Jwt.token("usage-price-override-13a");
            String session = c.createSession(token);
            p.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
            f.enqueue(Script.sse(Chunks.delta("Repriced."), Chunks.finish("stop"), Chunks.usage(1200, 345),
                    Chunks.done()));

            assertThat(c.chat(session, token, "What does this cost now?").text()).isEqualTo("Repriced.");

            // 1200 * 3.00 / 1e6 + 345 * 12.00 / 1e6
            JsonNode report = awaitUsage(g, token, "", 1);
            assertThat(totals(report.get("total"))).isEqualTo(new Totals(1, 1200, 345, 0, 0, 0,
                    new BigDecimal("0.00774"), 0));
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    // ------------------------------------------------------------------------------- the usage API

    @Test
    void theUsageReportSumsTheStoredAnswersByProviderModelAndDay() {
        String token = Jwt.token("usage-report-8b");
        String day1 = today();
        String s1 = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("A."), Chunks.finish("stop"), Chunks.usage(10, 5), Chunks.done()));
        assertThat(client.chat(s1, token, "one").text()).isEqualTo("A.");
        String s2 = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("Counted by the gateway."), Chunks.finish("stop"), Chunks.done()));
        assertThat(client.chat(s2, token, "two").text()).isEqualTo("Counted by the gateway.");
        String s3 = client.createSession(token);
        primary.enqueue(Script.json(503, "{\"error\":{\"message\":\"busy\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.delta("C."), Chunks.finish("stop"), Chunks.usage(1200, 345),
                Chunks.done()));
        assertThat(client.chat(s3, token, "three").text()).isEqualTo("C.");
        primary.takeRequest(Duration.ofSeconds(2));
        RecordedRequest estimatedRequest = primary.takeRequest(Duration.ofSeconds(2));
        int ep = promptTokens(estimatedRequest, CL100K);
        int ec = CL100K.countTokensOrdinary("Counted by the gateway.");
        assertThat(ep).isEqualTo(3 + 3 + CL100K.countTokensOrdinary("user") + CL100K.countTokensOrdinary("two"));

        CLOCK.advance(Duration.ofDays(1));
        String day2 = today();
        String s4 = client.createSession(token);
        primary.enqueue(Script.sse(Chunks.delta("D."), Chunks.finish("stop"), Chunks.usage(20, 6), Chunks.done()));
        assertThat(client.chat(s4, token, "four").text()).isEqualTo("D.");
        awaitUsage(token, "", 4);

        BigDecimal priced = new BigDecimal("0.00645");
        Totals sambanova = new Totals(3, 30 + ep, 11 + ec, 1, ep, ec, null, 3);
        Totals azure = new Totals(1, 1200, 345, 0, 0, 0, priced, 0);
        Totals all = new Totals(4, 1230 + ep, 356 + ec, 1, ep, ec, priced, 3);
        String window = "from=" + day1 + "&to=" + day2;

        JsonNode byProvider = usageOk(token, window + "&group_by=provider");
        assertThat(byProvider.get("from").asText()).isEqualTo(day1 + "T00:00:00Z");
        assertThat(byProvider.get("to").asText()).isEqualTo(LocalDate.parse(day2).plusDays(1) + "T00:00:00Z");
        assertThat(byProvider.get("group_by").asText()).isEqualTo("provider");
        assertThat(byProvider.get("user").asText()).isEqualTo("usage-report-8b");
        assertThat(groupKeys(byProvider)).containsExactly("azure", "sambanova");
        assertThat(totals(byProvider.get("groups").get(0))).isEqualTo(azure);
        assertThat(totals(byProvider.get("groups").get(1))).isEqualTo(sambanova);
        assertThat(totals(byProvider.get("total"))).isEqualTo(all);
        assertThat(byProvider.get("total").get("key").isNull()).isTrue();

        JsonNode byModel = usageOk(token, window + "&group_by=model");
        assertThat(groupKeys(byModel)).containsExactly(LLAMA, GPT4O);
        assertThat(totals(byModel.get("groups").get(0))).isEqualTo(sambanova);
        assertThat(totals(byModel.get("groups").get(1))).isEqualTo(azure);
        assertThat(totals(byModel.get("total"))).isEqualTo(all);

        JsonNode byDay = usageOk(token, window + "&group_by=day");
        assertThat(groupKeys(byDay)).containsExactly(day1, day2);
        assertThat(totals(byDay.get("groups").get(0)))
                .isEqualTo(new Totals(3, 1210 + ep, 350 + ec, 1, ep, ec, priced, 2));
        assertThat(totals(byDay.get("groups").get(1))).isEqualTo(new Totals(1, 20, 6, 0, 0, 0, null, 1));
        assertThat(totals(byDay.get("total"))).isEqualTo(all);

        // the default grouping is by provider, the default window the last 30 days up to now
        JsonNode defaults = usageOk(token, "");
        assertThat(defaults.get("group_by").asText()).isEqualTo("provider");
        assertThat(totals(defaults.get("total"))).isEqualTo(all);

        // a window that ends before the answers, one that starts after the first day, one of ISO instants
        JsonNode before = usageOk(token, "from=2026-01-01&to=" + LocalDate.parse(day1).minusDays(1));
        assertThat(before.get("groups")).isEmpty();
        assertThat(totals(before.get("total"))).isEqualTo(new Totals(0, 0, 0, 0, 0, 0, null, 0));
        assertThat(totals(usageOk(token, "from=" + day2).get("total")))
                .isEqualTo(new Totals(1, 20, 6, 0, 0, 0, null, 1));
        JsonNode instants = usageOk(token, "from=" + day1 + "T08:00:00Z&to=" + day1 + "T23:59:59Z");
        assertThat(instants.get("from").asText()).isEqualTo(day1 + "T08:00:00Z");
        assertThat(totals(instants.get("total"))).isEqualTo(new Totals(3, 1210 + ep, 350 + ec, 1, ep, ec, priced, 2));
    }

    @Test
    void badParametersOfTheUsageReportAreRejected() {
        String token = Jwt.token("usage-bad-9c");

        assertError(usage(gateway, token, "group_by=session"), 400, "invalid_group_by",
                "group_by must be provider, model, day, user or variant");
        assertError(usage(gateway, token, "from=yesterday"), 400, "invalid_parameter",
                "from and to must be dates (2026-11-26) or ISO instants (2026-11-26T10:00:00Z)");
        assertError(usage(gateway, token, "to=2026-13-01"), 400, "invalid_parameter",
                "from and to must be dates (2026-11-26) or ISO instants (2026-11-26T10:00:00Z)");
        assertError(usage(gateway, token, "from=2026-03-12&to=2026-03-10"), 400, "invalid_parameter",
                "from must be before to");
        assertError(usage(gateway, null, ""), 401, "missing_token", "Authorization: Bearer <JWT> is required");
        // no token can carry such a user id; a NUL in it was a 500 internal_error on PostgreSQL
        String admin = adminToken("usage-bad-admin-9c", "admin");
        for (String user : List.of("a%00b", "a%0Ab", "x".repeat(256))) {
            assertError(usage(gateway, admin, "user=" + user), 400, "invalid_parameter",
                    "user must be a user id (at most 255 characters, no control characters) or *");
        }
    }

    @Test
    void usersSeeOnlyTheirOwnUsageAndAdministratorsSeeEveryones() {
        String alice = "usage-alice-10d";
        String bob = "usage-bob-10d";
        String aliceToken = Jwt.token(alice);
        String bobToken = Jwt.token(bob);
        String day = today();
        String aliceSession = client.createSession(aliceToken);
        String bobSession = client.createSession(bobToken);
        primary.enqueue(Script.sse(Chunks.delta("For Alice."), Chunks.finish("stop"), Chunks.usage(40, 3),
                Chunks.done()));
        assertThat(client.chat(aliceSession, aliceToken, "mine").text()).isEqualTo("For Alice.");
        primary.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
        fallback.enqueue(Script.sse(Chunks.delta("For Alice, priced."), Chunks.finish("stop"),
                Chunks.usage(1200, 345), Chunks.done()));
        assertThat(client.chat(aliceSession, aliceToken, "mine too").text()).isEqualTo("For Alice, priced.");
        primary.enqueue(Script.sse(Chunks.delta("For Bob."), Chunks.finish("stop"), Chunks.usage(7, 2),
                Chunks.done()));
        assertThat(client.chat(bobSession, bobToken, "his").text()).isEqualTo("For Bob.");
        awaitUsage(aliceToken, "", 2);
        awaitUsage(bobToken, "", 1);

        Totals aliceTotal = new Totals(2, 1240, 348, 0, 0, 0, new BigDecimal("0.00645"), 1);
        Totals bobTotal = new Totals(1, 7, 2, 0, 0, 0, null, 1);
        String window = "from=" + day + "&to=" + day;

        JsonNode bobs = usageOk(bobToken, window);
        assertThat(bobs.get("user").asText()).isEqualTo(bob);
        assertThat(groupKeys(bobs)).containsExactly("sambanova");
        assertThat(totals(bobs.get("total"))).isEqualTo(bobTotal);
        assertThat(totals(usageOk(aliceToken, window).get("total"))).isEqualTo(aliceTotal);
        assertThat(totals(usageOk(bobToken, window + "&user=" + bob).get("total"))).isEqualTo(bobTotal);

        String onlyAdmins = "Only administrators may see other users' usage";
        assertError(usage(gateway, bobToken, window + "&user=" + alice), 403, "forbidden", onlyAdmins);
        assertError(usage(gateway, bobToken, window + "&group_by=user"), 403, "forbidden", onlyAdmins);
        assertError(usage(gateway, adminToken("usage-not-admin-10d", "auditor"), window + "&user=" + alice), 403,
                "forbidden", onlyAdmins);
        // the role may also be a single "role" claim
        String singleRole = JWT.create().withSubject("usage-admin-role-10d").withExpiresAt(Instant.now()
                .plusSeconds(600)).withClaim("role", "admin").sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
        assertThat(totals(usageOk(singleRole, window + "&user=" + bob).get("total"))).isEqualTo(bobTotal);

        String admin = adminToken("usage-admin-10d", "admin");
        JsonNode asAdmin = usageOk(admin, window + "&user=" + alice);
        assertThat(asAdmin.get("user").asText()).isEqualTo(alice);
        assertThat(groupKeys(asAdmin)).containsExactly("azure", "sambanova");
        assertThat(totals(asAdmin.get("total"))).isEqualTo(aliceTotal);

        JsonNode byUser = usageOk(admin, window + "&group_by=user");
        assertThat(byUser.get("user").isNull()).as(byUser.toString()).isTrue();
        assertThat(groupKeys(byUser)).containsExactly(alice, bob);
        assertThat(totals(byUser.get("groups").get(0))).isEqualTo(aliceTotal);
        assertThat(totals(byUser.get("groups").get(1))).isEqualTo(bobTotal);
        assertThat(totals(byUser.get("total"))).isEqualTo(new Totals(3, 1247, 350, 0, 0, 0,
                new BigDecimal("0.00645"), 2));
        // user=*: every user's usage by provider (the operator page's chart) - the same total as by user
        JsonNode everyone = usageOk(admin, window + "&user=*&group_by=provider");
        assertThat(everyone.get("user").isNull()).as(everyone.toString()).isTrue();
        assertThat(everyone.get("group_by").asText()).isEqualTo("provider");
        assertThat(totals(everyone.get("total"))).isEqualTo(totals(byUser.get("total")));
        assertError(usage(gateway, bobToken, window + "&user=*"), 403, "forbidden", onlyAdmins);
        // "*" is a valid sub too: naming itself, such a user was let through to everyone's usage (black-box probe)
        assertError(usage(gateway, Jwt.token("*"), window + "&user=*"), 403, "forbidden", onlyAdmins);
        assertThat(totals(usageOk(Jwt.token("*"), window).get("total"))).isEqualTo(new Totals(0, 0, 0, 0, 0, 0, null,
                0));

        JsonNode adminsOwn = usageOk(admin, window);
        assertThat(adminsOwn.get("groups")).isEmpty();
        assertThat(totals(adminsOwn.get("total"))).isEqualTo(new Totals(0, 0, 0, 0, 0, 0, null, 0));
    }

    // ------------------------------------------------------------------------------- metrics and JMX

    @Test
    void metricsAndProviderMBeansCountTheScriptedTrafficExactly() throws Exception {
        try (FakeUpstream p = FakeUpstream.start(); FakeUpstream f = FakeUpstream.start();
             RunningGateway g = RunningGateway.sambanovaAt(p, azureFallbackAt(f, "az-test-key-0004"))) {
            GatewayClient c = new GatewayClient(g);
            String token = Jwt.token("usage-metrics-11e");
            String session = c.createSession(token);

            // (a) reported usage, (b) no usage: estimated, (c) a 500 answered by azure with usage, (d) a 400
            p.enqueue(Script.sse(Chunks.delta("One."), Chunks.finish("stop"), Chunks.usage(11, 7), Chunks.done()));
            assertThat(c.chat(session, token, "a").text()).isEqualTo("One.");
            p.enqueue(Script.sse(Chunks.delta("Two, "), Chunks.delta("estimated."), Chunks.finish("stop"),
                    Chunks.done()));
            assertThat(c.chat(session, token, "b").text()).isEqualTo("Two, estimated.");
            p.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
            f.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("Three."), Chunks.finish("stop"),
                    Chunks.usage(1200, 345), Chunks.done()));
            assertThat(c.chat(session, token, "c").text()).isEqualTo("Three.");
            p.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}"));
            assertThat(c.chat(session, token, "d").status()).isEqualTo(400);

            // (e) a stream in flight is counted, then the client leaves
            p.enqueue(Script.sse(Chunks.delta("Live ")).stall());
            HttpResponse<InputStream> live = c.openChat(session, token, "e");
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(readEvent(live.body())).isEqualTo("data: {\"content\":\"Live \",\"done\":false}");
            assertThat(PrometheusText.scrape(g).value("chat_active_streams", Map.of())).isEqualTo(1.0);
            live.body().close();
            assertThat(p.awaitDisconnect(Duration.ofSeconds(3))).as("the upstream request was cancelled").isTrue();

            List<RecordedRequest> sent = p.requests();
            assertThat(sent).hasSize(5);
            int epB = promptTokens(sent.get(1), CL100K);
            int ecB = CL100K.countTokensOrdinary("Two, estimated.");
            int epE = promptTokens(sent.get(4), CL100K);
            int ecE = CL100K.countTokensOrdinary("Live ");

            // the cancelled stream is recorded after its relay ended: wait until every exchange has been observed
            PrometheusText m = PrometheusText.await(g, x -> Double.valueOf(3.0).equals(
                    x.value("llm_time_to_first_token_seconds_count", Map.of("provider", "sambanova")))
                    && Double.valueOf(0.0).equals(x.value("chat_active_streams", Map.of()))
                    && Double.valueOf(3.0).equals(
                            x.value("llm_request_duration_seconds_count", Map.of("provider", "sambanova")))
                    && Double.valueOf(1.0).equals(x.value("llm_requests_total",
                            Map.of("provider", "sambanova", "status", "cancelled")))
                    && Double.valueOf(7.0 + ecB + ecE).equals(x.value("llm_tokens_used_total",
                            Map.of("provider", "sambanova", "type", "completion"))));

            assertThat(counted(m, "llm_tokens_used_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova,type=prompt,variant=none", 11.0 + epB + epE,
                    "provider=sambanova,type=completion,variant=none", 7.0 + ecB + ecE,
                    "provider=azure,type=prompt,variant=none", 1200.0,
                    "provider=azure,type=completion,variant=none", 345.0));
            assertThat(counted(m, "llm_tokens_estimated_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova,type=prompt,variant=none", (double) (epB + epE),
                    "provider=sambanova,type=completion,variant=none", (double) (ecB + ecE)));
            assertThat(counted(m, "llm_cost_usd_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=azure,variant=none", 0.00645));
            assertThat(counted(m, "llm_cost_unknown_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova,variant=none", 3.0));
            assertThat(counted(m, "llm_time_to_first_token_seconds_count")).containsExactlyInAnyOrderEntriesOf(
                    Map.of("provider=sambanova,variant=none", 3.0, "provider=azure,variant=none", 1.0));
            assertThat(counted(m, "llm_request_duration_seconds_count")).containsExactlyInAnyOrderEntriesOf(
                    Map.of("provider=sambanova,variant=none", 3.0, "provider=azure,variant=none", 1.0));
            assertThat(counted(m, "llm_requests_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova,status=success,variant=none", 2.0,
                    "provider=sambanova,status=error,variant=none", 1.0,
                    "provider=sambanova,status=rejected,variant=none", 1.0,
                    "provider=sambanova,status=cancelled,variant=none", 1.0,
                    "provider=azure,status=success,variant=none", 1.0));
            assertThat(counted(m, "llm_fallback_triggered_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "from=sambanova,to=azure", 1.0));
            assertThat(samples(m, "chat_active_streams")).containsExactlyInAnyOrderEntriesOf(Map.of("", 0.0));
            assertThat(samples(m, "llm_circuit_breaker_state")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova", 0.0, "provider=azure", 0.0));
            assertThat(samples(m, "llm_provider_selected")).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "provider=sambanova,role=primary", 1.0, "provider=sambanova,role=fallback", 0.0,
                    "provider=azure,role=primary", 0.0, "provider=azure,role=fallback", 1.0));

            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            ObjectName azure = providerMBean(g.camel(), "azure");
            ObjectName sambanova = providerMBean(g.camel(), "sambanova");
            assertThat(attributes(jmx, azure)).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                    Map.entry("Name", "azure"), Map.entry("Requests", 1L), Map.entry("Failures", 0L),
                    Map.entry("Answers", 1L), Map.entry("PromptTokens", 1200L), Map.entry("CompletionTokens", 345L),
                    Map.entry("EstimatedTokens", 0L), Map.entry("CostUsd", 0.00645),
                    Map.entry("AnswersWithUnknownCost", 0L),
                    Map.entry("TimeToFirstTokenMeanMs", ttftMeanMs(m, "azure")),
                    Map.entry("BreakerState", "CLOSED"), Map.entry("CooldownUntil", ""),
                    Map.entry("LastErrorClass", "")));
            assertThat(attributes(jmx, sambanova)).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                    Map.entry("Name", "sambanova"), Map.entry("Requests", 5L), Map.entry("Failures", 1L),
                    Map.entry("Answers", 3L), Map.entry("PromptTokens", 11L + epB + epE),
                    Map.entry("CompletionTokens", 7L + ecB + ecE), Map.entry("EstimatedTokens",
                            (long) epB + ecB + epE + ecE),
                    Map.entry("CostUsd", 0.0), Map.entry("AnswersWithUnknownCost", 3L),
                    Map.entry("TimeToFirstTokenMeanMs", ttftMeanMs(m, "sambanova")),
                    Map.entry("BreakerState", "CLOSED"), Map.entry("CooldownUntil", ""),
                    Map.entry("LastErrorClass", "http_500")));
        }
    }

    // ------------------------------------------------------------------------------- logs

    @Test
    void theLogsCarryOneJsonLinePerExchangeAndNeverTheContentAKeyOrTheToken() {
        String content = "Please keep SECRET-CONTENT-7f3a between us";
        String sambanovaKey = "sk-SECRET-KEY-9b1c";
        String azureKey = "az-SECRET-KEY-4d2e";
        String user = "usage-logs-12f";
        String token = Jwt.token(user);
        try (LogCapture logs = LogCapture.start(); FakeUpstream p = FakeUpstream.start();
             FakeUpstream f = FakeUpstream.start()) {
            Map<String, String> overrides = azureFallbackAt(f, azureKey);
            overrides.put("sambanova.api-key", sambanovaKey);
            try (RunningGateway g = RunningGateway.sambanovaAt(p, overrides)) {
                GatewayClient c = new GatewayClient(g);
                String session = c.createSession(token, "{\"title\":\"SECRET-CONTENT-7f3a title\"}");
                // the primary's error echoes the prompt, as real providers' errors sometimes do
                p.enqueue(Script.json(500, "{\"error\":{\"message\":\"cannot process '" + content
                        + "'\",\"type\":\"server_error\"}}"));
                f.enqueue(Script.sse(Chunks.delta("You said SECRET-CONTENT-7f3a."), Chunks.finish("stop"),
                        Chunks.usage(1200, 345), Chunks.done()));

                HttpResponse<String> r = c.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                        "application/json", "{\"content\":" + Chunks.json(content) + "}");

                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(new GatewayClient.Answer(200, null, r.body()).text())
                        .isEqualTo("You said SECRET-CONTENT-7f3a.");
                assertThat(p.takeRequest(Duration.ofSeconds(2)).header("Authorization"))
                        .isEqualTo("Bearer " + sambanovaKey);
                assertThat(f.takeRequest(Duration.ofSeconds(2)).header("api-key")).isEqualTo(azureKey);
                String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();

                // a caller's own request id is kept, in the response and in the log
                p.enqueue(Script.sse(Chunks.delta("Direct."), Chunks.finish("stop"), Chunks.usage(5, 1),
                        Chunks.done()));
                HttpResponse<String> own = sendWithRequestId(g, session, token, "Again: " + content,
                        "logs-req-0001");
                assertThat(own.statusCode()).isEqualTo(200);
                assertThat(own.headers().firstValue("X-Request-Id")).contains("logs-req-0001");
                assertThat(new GatewayClient.Answer(200, null, own.body()).text()).isEqualTo("Direct.");

                List<LogCapture.Line> exchangeLines = awaitLines(logs, "cobalt.exchange", 2);
                assertThat(exchangeLines).hasSize(2);
                JsonNode line = json(exchangeLines.get(0).message());
                JsonNode ownLine = json(exchangeLines.get(1).message());
                assertThat(ownLine.get("request_id").asText()).isEqualTo("logs-req-0001");
                assertThat(ownLine.get("provider").asText()).isEqualTo("sambanova");
                assertThat(ownLine.get("model").asText()).isEqualTo(LLAMA);
                assertThat(ownLine.get("fallback_from").isNull()).isTrue();
                assertThat(ownLine.get("prompt_tokens").asInt()).isEqualTo(5);
                assertThat(ownLine.get("completion_tokens").asInt()).isEqualTo(1);
                assertThat(ownLine.get("cost_usd").isNull()).isTrue();
                List<String> fields = new ArrayList<>();
                line.fieldNames().forEachRemaining(fields::add);
                assertThat(fields).contains("request_id", "session_id", "user_id", "provider", "model", "status",
                        "fallback_from", "prompt_tokens", "completion_tokens", "tokens_estimated", "cost_usd",
                        "time_to_first_token_ms", "duration_ms");
                assertThat(line.get("event").asText()).isEqualTo("chat_exchange");
                assertThat(line.get("request_id").asText()).isEqualTo(requestId);
                assertThat(line.get("session_id").asText()).isEqualTo(session);
                assertThat(line.get("user_id").asText()).isEqualTo(user);
                assertThat(line.get("provider").asText()).isEqualTo("azure");
                assertThat(line.get("model").asText()).isEqualTo(GPT4O);
                assertThat(line.get("status").asText()).isEqualTo("complete");
                assertThat(line.get("fallback_from").asText()).isEqualTo("sambanova");
                assertThat(line.get("prompt_tokens").asInt()).isEqualTo(1200);
                assertThat(line.get("completion_tokens").asInt()).isEqualTo(345);
                assertThat(line.get("tokens_estimated").isBoolean()).isTrue();
                assertThat(line.get("tokens_estimated").asBoolean()).isFalse();
                assertThat(line.get("cost_usd").decimalValue()).isEqualByComparingTo("0.00645");
                assertThat(line.get("time_to_first_token_ms").isIntegralNumber()).isTrue();
                assertThat(line.get("duration_ms").isIntegralNumber()).isTrue();
                assertThat(line.get("time_to_first_token_ms").asLong()).isNotNegative()
                        .isLessThanOrEqualTo(line.get("duration_ms").asLong());

                // the primary's failure was logged (so the capture sees the root logger), by class only
                assertThat(logs.lines()).extracting(LogCapture.Line::message)
                        .contains("Provider sambanova failed before its stream began: http_500");
            }
            List<String> leaks = new ArrayList<>();
            String[] secrets = {"SECRET-CONTENT-7f3a", sambanovaKey, azureKey, token,
                    token.substring(token.lastIndexOf('.') + 1)};
            for (LogCapture.Line l : logs.lines()) {
                for (String secret : secrets) {
                    if (l.all().contains(secret)) {
                        leaks.add(l.all());
                    }
                }
            }
            assertThat(logs.lines()).as("lines captured from start to stop").hasSizeGreaterThan(20);
            assertThat(leaks).as("log lines with the message, a key or the JWT").isEmpty();
        }
    }

    // ------------------------------------------------------------------------------- helpers

    /** One group of the usage report; cost null when no answer had a price. */
    record Totals(long answers, long promptTokens, long completionTokens, long estimatedAnswers,
                  long estimatedPromptTokens, long estimatedCompletionTokens, BigDecimal costUsd,
                  long unpricedAnswers) {
        Totals {
            costUsd = costUsd == null ? null : costUsd.stripTrailingZeros();
        }
    }

    static Totals totals(JsonNode n) {
        List<String> fields = new ArrayList<>();
        n.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).as(n.toString()).containsExactly("key", "answers", "prompt_tokens", "completion_tokens",
                "estimated_answers", "estimated_prompt_tokens", "estimated_completion_tokens", "cost_usd",
                "unpriced_answers", "cached_prompt_tokens", "reasoning_tokens");
        JsonNode cost = n.get("cost_usd");
        return new Totals(n.get("answers").asLong(), n.get("prompt_tokens").asLong(),
                n.get("completion_tokens").asLong(), n.get("estimated_answers").asLong(),
                n.get("estimated_prompt_tokens").asLong(), n.get("estimated_completion_tokens").asLong(),
                cost.isNull() ? null : cost.decimalValue(), n.get("unpriced_answers").asLong());
    }

    static BigDecimal cost(int prompt, int completion) {
        return GPT4O_IN.multiply(BigDecimal.valueOf(prompt)).add(GPT4O_OUT.multiply(BigDecimal.valueOf(completion)))
                .divide(MILLION, MathContext.DECIMAL64);
    }

    /** OpenAI's chat count: 3 to prime the reply, and per message 3 + its role + its content. */
    static int promptTokens(RecordedRequest r, Encoding encoding) {
        int tokens = 3;
        for (List<String> m : messages(r)) {
            tokens += 3 + encoding.countTokensOrdinary(m.get(0)) + encoding.countTokensOrdinary(m.get(1));
        }
        return tokens;
    }

    static List<List<String>> messages(RecordedRequest r) {
        List<List<String>> out = new ArrayList<>();
        for (JsonNode m : json(r.body()).get("messages")) {
            out.add(List.of(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }

    static String today() {
        return LocalDate.ofInstant(CLOCK.instant(), ZoneOffset.UTC).toString();
    }

    static JsonNode json(String body) {
        try {
            return DECIMALS.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    static String adminToken(String user, String role) {
        return JWT.create().withSubject(user).withExpiresAt(Instant.now().plusSeconds(600))
                .withArrayClaim("roles", new String[] {role}).sign(Algorithm.HMAC256(RunningGateway.JWT_SECRET));
    }

    static HttpResponse<String> usage(RunningGateway g, String token, String query) {
        return new GatewayClient(g).get("/api/v1/usage" + (query.isEmpty() ? "" : "?" + query), token);
    }

    static JsonNode usageOk(String token, String query) {
        HttpResponse<String> r = usage(gateway, token, query);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        return json(r.body());
    }

    static JsonNode awaitUsage(String token, String query, int answers) {
        return awaitUsage(gateway, token, query, answers);
    }

    static JsonNode awaitUsage(RunningGateway g, String token, String query, int answers) {
        return json(awaitUsageResponse(g, token, query, answers).body());
    }

    /**
     * The report once it counts {@code answers} answers (they are stored off the response path). The report's
     * default end is "now", exclusive: the test clock is moved a second on so that answers stored at "now" count.
     */
    static HttpResponse<String> awaitUsageResponse(RunningGateway g, String token, String query, int answers) {
        if (g == gateway) {
            CLOCK.advance(Duration.ofSeconds(1));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            HttpResponse<String> r = usage(g, token, query);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            if (json(r.body()).at("/total/answers").asLong() >= answers) {
                assertThat(json(r.body()).at("/total/answers").asLong()).as(r.body()).isEqualTo(answers);
                return r;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("usage report has not " + answers + " answers within 5 s: " + r.body());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    static List<String> groupKeys(JsonNode report) {
        List<String> keys = new ArrayList<>();
        report.get("groups").forEach(g -> keys.add(g.get("key").asText()));
        return keys;
    }

    static void assertError(HttpResponse<String> r, int status, String code, String message) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(r.body()).isEqualTo("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}");
    }

    static double orZero(Double d) {
        return d == null ? 0 : d;
    }

    /** "label=value,..." (sorted by label name) -> value, for every sample of the name. */
    /** The samples of a counter that moved: every documented meter exists from start with the value 0. */
    static Map<String, Double> counted(PrometheusText m, String name) {
        Map<String, Double> out = samples(m, name);
        out.values().removeIf(v -> v == 0.0);
        return out;
    }

    static Map<String, Double> samples(PrometheusText m, String name) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (PrometheusText.Sample s : m.find(name, Map.of())) {
            StringBuilder key = new StringBuilder();
            new TreeMap<>(s.labels()).forEach((k, v) -> key.append(key.length() == 0 ? "" : ",")
                    .append(k).append('=').append(v));
            out.put(key.toString(), s.value());
        }
        return out;
    }

    static double ttftMeanMs(PrometheusText m, String provider) {
        double sum = m.value("llm_time_to_first_token_seconds_sum", Map.of("provider", provider));
        double count = m.value("llm_time_to_first_token_seconds_count", Map.of("provider", provider));
        return Math.round(sum * 1000) / count;
    }

    static ObjectName providerMBean(CamelContext camel, String provider) throws Exception {
        return new ObjectName("com.cobalt.chat:context=" + ObjectName.quote(camel.getManagementName())
                + ",type=Provider,name=" + provider);
    }

    static Map<String, Object> attributes(MBeanServer jmx, ObjectName name) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String a : new String[] {"Name", "Requests", "Failures", "Answers", "PromptTokens", "CompletionTokens",
                "EstimatedTokens", "CostUsd", "AnswersWithUnknownCost", "TimeToFirstTokenMeanMs", "BreakerState",
                "CooldownUntil", "LastErrorClass"}) {
            out.put(a, jmx.getAttribute(name, a));
        }
        return out;
    }

    /** Reads one SSE event (up to its blank line) from a live body. */
    static String readEvent(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        byte[] buf = new byte[1];
        while (!b.toString().endsWith("\n\n")) {
            if (in.read(buf) < 0) {
                throw new AssertionError("stream ended after: " + b);
            }
            b.append((char) buf[0]);
        }
        return new String(b.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).strip();
    }

    static HttpResponse<String> sendWithRequestId(RunningGateway g, String session, String token, String content,
                                                  String requestId) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(g.baseUrl()
                        + "/api/v1/chat/sessions/" + session + "/messages"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .header("X-Request-Id", requestId)
                .POST(HttpRequest.BodyPublishers.ofString("{\"content\":" + Chunks.json(content) + "}"))
                .build();
        try {
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<LogCapture.Line> awaitLines(LogCapture logs, String logger, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            List<LogCapture.Line> lines = logs.lines(logger);
            if (lines.size() >= n || System.nanoTime() > deadline) {
                return lines;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
