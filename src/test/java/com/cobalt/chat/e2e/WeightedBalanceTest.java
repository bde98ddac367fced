package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * LLM_BALANCE=weighted: one model (gpt-4o) served by two Azure deployments in two regions, each a fake Azure
 * upstream speaking the Azure OpenAI wire format. Requests spread by LLM_PROVIDER_<ID>_WEIGHT; a deployment that
 * answers 429 with a retry hint is skipped (its failed request goes to the other deployment) and none of the 40
 * requests fails; a deployment whose x-ratelimit-remaining-requests reaches 0 gets no requests until its reading is
 * older than the window. The draws come from a seeded source, so the counts are the same on every run.
 */
@Timeout(300)
class WeightedBalanceTest {

    static final int CHATS = 40;
    static final Duration WAIT = Duration.ofSeconds(10);

    FakeUpstream east;
    FakeUpstream west;
    RunningGateway gateway;
    GatewayClient client;
    TestClock clock;
    String token;

    @BeforeEach
    void startUpstreams() {
        east = FakeUpstream.start();
        west = FakeUpstream.start();
        clock = new TestClock();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        east.close();
        west.close();
    }

    void start(int eastWeight, int westWeight) {
        start(eastWeight, westWeight, "gpt-4o=gpt-4o-%s");
    }

    /** {@code models}: the LLM_MODELS_<ID> of both instances, %s the region. */
    void start(int eastWeight, int westWeight, String models) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "azure-east");
        p.put("llm.balance", "weighted");
        for (String region : new String[] {"east", "west"}) {
            FakeUpstream up = region.equals("east") ? east : west;
            String id = "azure-" + region;
            p.put("llm.provider." + id + ".kind", "azure");
            p.put("llm.provider." + id + ".endpoint", up.baseUrl());
            p.put("llm.provider." + id + ".api-key", "key-" + region);
            p.put("llm.provider." + id + ".weight", String.valueOf(region.equals("east") ? eastWeight : westWeight));
            p.put("llm.models." + id, models.replace("%s", region));
        }
        gateway = RunningGateway.start(p, Map.of("random", new Random(20261202L), "clock", clock));
        client = new GatewayClient(gateway);
        token = Jwt.token("balanced");
    }

    static Script answer(String region) {
        return Script.sse(Chunks.delta("from " + region), Chunks.finish("stop"), Chunks.usage(3, 2), Chunks.done());
    }

    /** Each fake can answer every chat: whichever the gateway picks has an answer queued. */
    void enqueueAnswers(int n) {
        for (int i = 0; i < n; i++) {
            east.enqueue(answer("east"));
            west.enqueue(answer("west"));
        }
    }

    /** One chat in a new session; the text says which deployment answered. */
    String chat() {
        return chat("gpt-4o");
    }

    String chat(String model) {
        String session = client.createSession(token, "{\"model\":\"" + model + "\"}");
        GatewayClient.Answer a = client.chat(session, token, "Hi");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.text()).isIn("from east", "from west");
        return a.text().substring("from ".length());
    }

    @Test
    void fortyRequestsForOneModelSpreadOverTwoDeploymentsByWeight() {
        start(3, 1);
        enqueueAnswers(CHATS);

        int fromEast = 0;
        for (int i = 0; i < CHATS; i++) {
            if (chat().equals("east")) {
                fromEast++;
            }
        }

        assertThat(east.requestCount()).isEqualTo(fromEast);
        assertThat(west.requestCount()).isEqualTo(CHATS - fromEast);
        // weight 3 : 1 -> about 30 : 10; the seeded draws give the same split every run
        assertThat(fromEast).isBetween(24, 36);
        for (RecordedRequest r : east.requests()) {
            assertThat(r.path()).isEqualTo("/openai/deployments/gpt-4o-east/chat/completions");
            assertThat(r.headerValues("api-key")).containsExactly("key-east");
        }
        for (RecordedRequest r : west.requests()) {
            assertThat(r.path()).isEqualTo("/openai/deployments/gpt-4o-west/chat/completions");
            assertThat(r.headerValues("api-key")).containsExactly("key-west");
        }
    }

    @Test
    void aRateLimitedDeploymentIsSkippedAndNoneOfFortyRequestsFails() {
        start(1, 1);
        east.enqueue(Script.json(429, "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions_Create"
                + " Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current"
                + " pricing tier. Please retry after 60 seconds.\"}}")
                .header("retry-after", "60").header("x-ratelimit-remaining-requests", "0"));
        enqueueAnswers(CHATS);

        int fromWest = 0;
        boolean eastAnsweredBeforeTheLimit = false;
        for (int i = 0; i < CHATS; i++) {
            String from = chat();
            if (from.equals("west")) {
                fromWest++;
            } else {
                // only possible before east's first request (the 429)
                assertThat(east.requestCount()).as("east answered after its 429").isZero();
                eastAnsweredBeforeTheLimit = true;
            }
        }

        assertThat(eastAnsweredBeforeTheLimit).isFalse();
        assertThat(fromWest).isEqualTo(CHATS);
        assertThat(east.requestCount()).as("one request met the 429, then east was skipped").isEqualTo(1);
        assertThat(west.requestCount()).isEqualTo(CHATS);
    }

    @Test
    void aDeploymentWithoutRemainingRequestsGetsNoneUntilItsReadingIsOld() {
        start(1, 1);
        east.enqueue(answer("east").header("x-ratelimit-remaining-requests", "100")
                .header("x-ratelimit-remaining-tokens", "90000"));
        for (int i = 0; i < CHATS; i++) {
            east.enqueue(answer("east").header("x-ratelimit-remaining-requests", "0")
                    .header("x-ratelimit-remaining-tokens", "80000"));
        }
        for (int i = 0; i < 3 * CHATS; i++) {
            west.enqueue(answer("west"));
        }

        int chats = 0;
        while (east.requestCount() < 2) {
            assertThat(chats++).as("east was never chosen twice").isLessThan(CHATS);
            chat();
        }
        for (int i = 0; i < 20; i++) {
            assertThat(chat()).isEqualTo("west");
        }
        assertThat(east.requestCount()).as("no request to a deployment with 0 requests left").isEqualTo(2);
        PrometheusText metrics = PrometheusText.scrape(gateway);
        assertThat(metrics.value("llm_provider_share", Map.of("provider", "azure-east"))).isEqualTo(0.0);
        assertThat(metrics.value("llm_provider_share", Map.of("provider", "azure-west"))).isEqualTo(1.0);

        clock.advance(Duration.ofSeconds(11)); // the reading's window has passed
        int eastAgain = 0;
        for (int i = 0; i < 20; i++) {
            if (chat().equals("east")) {
                eastAgain++;
            }
        }
        assertThat(eastAgain).isGreaterThan(0);
    }

    /**
     * Azure counts quotas per deployment: east's gpt-4o deployment out of requests takes east out of gpt-4o's draws,
     * not out of gpt-4o-mini's, whose deployment reported nothing. Before, the reading was kept per instance and
     * east got none of either.
     */
    @Test
    void aDeploymentOutOfRequestsLeavesItsInstancesOtherDeploymentsTheirShare() {
        start(1, 1, "gpt-4o=gpt-4o-%s, gpt-4o-mini=gpt-4o-mini-%s");
        east.enqueue(answer("east").header("x-ratelimit-remaining-requests", "100"));
        east.enqueue(answer("east").header("x-ratelimit-remaining-requests", "0"));
        for (int i = 0; i < 2 * CHATS; i++) {
            west.enqueue(answer("west"));
        }
        int chats = 0;
        while (east.requestCount() < 2) {
            assertThat(chats++).as("east was never chosen twice").isLessThan(CHATS);
            chat("gpt-4o");
        }
        for (int i = 0; i < 20; i++) {
            east.enqueue(answer("east"));
        }

        int miniFromEast = 0;
        for (int i = 0; i < 20; i++) {
            assertThat(chat("gpt-4o")).as("gpt-4o's east deployment has no requests left").isEqualTo("west");
            if (chat("gpt-4o-mini").equals("east")) {
                miniFromEast++;
            }
        }

        // 1 : 1 over 20 draws; the seeded source gives the same count every run
        assertThat(miniFromEast).isBetween(5, 15);
        assertThat(east.requests().subList(2, east.requestCount())).extracting(RecordedRequest::path)
                .containsOnly("/openai/deployments/gpt-4o-mini-east/chat/completions");
        PrometheusText metrics = PrometheusText.scrape(gateway);
        assertThat(metrics.value("llm_provider_share", Map.of("provider", "azure-east")))
                .as("the instance's figure is its deployment closest to its limit").isEqualTo(0.0);
        assertThat(metrics.value("llm_provider_share", Map.of("provider", "azure-west"))).isEqualTo(1.0);
    }
}
