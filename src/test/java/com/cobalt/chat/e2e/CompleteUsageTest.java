package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.MathContext;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TwoProviders;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Complete usage (issue 16, item 5): cached prompt tokens and reasoning tokens as Azure/OpenAI and SambaNova report
 * them are relayed in the /v1 usage, stored in the ledger and the message, reported by GET /api/v1/usage, counted in
 * llm_tokens_used_total{type}, and cached input is priced at its own rate. SambaNova's published prices come from
 * application.properties; a model no file prices gets its price from a property alone (LLM_PRICE_<PROVIDER>_<MODEL>).
 *
 * <p>sambanova (Meta-Llama-3.3-70B-Instruct, gpt-oss-120b, Qwen3-32B) at {@link #samba}; azure (gpt-4o, priced
 * 2.50,10.00,1.25 in application.properties) at {@link #azure}.
 */
@Timeout(60)
class CompleteUsageTest {

    static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
    static TwoProviders providers;
    static FakeUpstream samba;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.models.sambanova", "Meta-Llama-3.3-70B-Instruct, gpt-oss-120b, Qwen3-32B");
        p.put("llm.models.azure", "gpt-4o");
        // no file prices Qwen3-32B: this is what LLM_PRICE_SAMBANOVA_QWEN3_32B=0.40,0.80 sets
        p.put("llm.price.sambanova.Qwen3-32B", "0.40,0.80");
        providers = TwoProviders.start("gpt-4o", "az-test-key-0016", p);
        samba = providers.samba;
        azure = providers.azure;
        gateway = providers.gateway;
        client = providers.client;
    }

    @AfterAll
    static void stop() {
        providers.close();
    }

    @BeforeEach
    void reset() {
        providers.reset();
    }

    static BigDecimal usd(String perMillion, long tokens) {
        return new BigDecimal(perMillion).multiply(BigDecimal.valueOf(tokens));
    }

    static BigDecimal perMillion(BigDecimal sum) {
        return sum.divide(MILLION, MathContext.DECIMAL64).stripTrailingZeros();
    }

    JsonNode usageReport(String token) {
        HttpResponse<String> r = client.get("/api/v1/usage?group_by=model", token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return GatewayClient.json(r.body());
    }

    @Test
    void cachedPromptTokensAreRelayedStoredReportedAndPricedAtTheCachedRate() throws Exception {
        String token = Jwt.token("usage-cached-16a");
        azure.enqueue(Script.sse(Chunks.azurePromptFilter(), Chunks.delta("From"), Chunks.delta(" cache."),
                Chunks.finish("stop"), Chunks.usageWithDetails(2048, 1536, 12, 0), Chunks.done()));
        double cachedBefore = orZero(PrometheusText.scrape(gateway).value("llm_tokens_used_total",
                Map.of("provider", "azure", "variant", "none", "type", "cached_prompt")));

        HttpResponse<String> r;
        try (LogCapture logs = LogCapture.start()) {
            r = client.send("POST", "/v1/chat/completions", token, "application/json",
                    "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"A long prompt, cached upstream\"}]}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            // the exchange log line carries the counts (never the text)
            String line = logs.lines().stream().map(LogCapture.Line::message)
                    .filter(m -> m.contains("\"event\":\"chat_exchange\"")).findFirst().orElseThrow();
            assertThat(line).contains("\"prompt_tokens\":2048,\"completion_tokens\":12,\"cached_tokens\":1536,"
                    + "\"reasoning_tokens\":0,\"tokens_estimated\":false");
        }
        List<String> events = List.of(r.body().split("\n\n"));
        String usageChunk = events.get(events.size() - 2);
        JsonNode usage = GatewayClient.json(usageChunk.substring("data: ".length())).get("usage");
        assertThat(usage.toString()).isEqualTo("{\"prompt_tokens\":2048,\"completion_tokens\":12,\"total_tokens\":2060,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":1536},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}");
        assertThat(events.get(events.size() - 1)).isEqualTo("data: [DONE]");

        // 512 uncached at 2.50, 1536 cached at 1.25, 12 out at 10.00 - not 2048 at 2.50 (0.00524)
        BigDecimal cost = perMillion(usd("2.50", 512).add(usd("1.25", 1536)).add(usd("10.00", 12)));
        assertThat(cost).isEqualByComparingTo("0.00332");
        JsonNode total = usageReport(token).get("total");
        assertThat(total.get("prompt_tokens").asLong()).isEqualTo(2048);
        assertThat(total.get("cached_prompt_tokens").asLong()).isEqualTo(1536);
        assertThat(total.get("reasoning_tokens").asLong()).isZero();
        assertThat(total.get("cost_usd").decimalValue()).isEqualByComparingTo(cost);

        PrometheusText m = PrometheusText.await(gateway, x -> orZero(x.value("llm_tokens_used_total",
                Map.of("provider", "azure", "variant", "none", "type", "cached_prompt"))) == cachedBefore + 1536);
        assertThat(m.value("llm_tokens_used_total", Map.of("provider", "azure", "variant", "none",
                "type", "reasoning"))).isNotNull();
    }

    @Test
    void aWholeCompletionCarriesTheDetailsToo() {
        String token = Jwt.token("usage-whole-16b");
        azure.enqueue(Script.sse(Chunks.delta("Whole."), Chunks.finish("stop"),
                Chunks.usageWithDetails(1200, 1024, 30, 0), Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).get("usage").toString()).isEqualTo("{\"prompt_tokens\":1200,"
                + "\"completion_tokens\":30,\"total_tokens\":1230,\"prompt_tokens_details\":{\"cached_tokens\":1024},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}");
    }

    @Test
    void reasoningTokensOfASambaNovaModelAreStoredReportedAndCounted() {
        String token = Jwt.token("usage-reasoning-16c");
        String session = client.createSession(token, "{\"model\":\"gpt-oss-120b\"}");
        double reasoningBefore = orZero(PrometheusText.scrape(gateway).value("llm_tokens_used_total",
                Map.of("provider", "sambanova", "variant", "none", "type", "reasoning")));
        // SambaNova's usage: on the last chunk, with its own extra timing fields beside OpenAI's breakdown
        samba.enqueue(Script.sse(Chunks.delta("Forty-two."),
                "data: {\"id\":\"a1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.5,\"model\":"
                        + "\"gpt-oss-120b\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\","
                        + "\"logprobs\":null}],\"usage\":{\"prompt_tokens\":80,\"completion_tokens\":50,"
                        + "\"total_tokens\":130,\"completion_tokens_details\":{\"reasoning_tokens\":40},"
                        + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"time_to_first_token\":0.2,"
                        + "\"completion_tokens_per_sec\":600.1,\"is_last_response\":true}}\n\n",
                Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "What is six times seven?");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("Forty-two.");
        JsonNode group = usageReport(token).get("groups").get(0);
        assertThat(group.get("key").asText()).isEqualTo("gpt-oss-120b");
        assertThat(group.get("completion_tokens").asLong()).isEqualTo(50);
        assertThat(group.get("reasoning_tokens").asLong()).isEqualTo(40);
        assertThat(group.get("cached_prompt_tokens").asLong()).isZero();
        // SambaNova's published price for gpt-oss-120b (application.properties): 0.22 in, 0.59 out
        assertThat(group.get("cost_usd").decimalValue())
                .isEqualByComparingTo(perMillion(usd("0.22", 80).add(usd("0.59", 50))));
        PrometheusText.await(gateway, x -> orZero(x.value("llm_tokens_used_total",
                Map.of("provider", "sambanova", "variant", "none", "type", "reasoning"))) == reasoningBefore + 40);
    }

    @Test
    void aPriceFromAPropertyAloneCostsAModelNoFilePrices() {
        String token = Jwt.token("usage-envprice-16d");
        String session = client.createSession(token, "{\"model\":\"Qwen3-32B\"}");
        samba.enqueue(Script.sse(Chunks.delta("Priced."), Chunks.finish("stop"), Chunks.usage(1000, 500),
                Chunks.done()));

        assertThat(client.chat(session, token, "Price me").status()).isEqualTo(200);

        JsonNode total = usageReport(token).get("total");
        assertThat(total.get("unpriced_answers").asLong()).isZero();
        assertThat(total.get("cost_usd").decimalValue())
                .isEqualByComparingTo(perMillion(usd("0.40", 1000).add(usd("0.80", 500))));
    }

    @Test
    void theMetersOfTheNewTokenTypesExistFromTheStart() {
        PrometheusText m = PrometheusText.scrape(gateway);
        for (String provider : List.of("sambanova", "azure")) {
            for (String type : List.of("prompt", "completion", "cached_prompt", "reasoning")) {
                assertThat(m.value("llm_tokens_used_total", Map.of("provider", provider, "variant", "none",
                        "type", type))).as(provider + " " + type).isNotNull();
            }
        }
    }

    static double orZero(Double d) {
        return d == null ? 0 : d;
    }
}
