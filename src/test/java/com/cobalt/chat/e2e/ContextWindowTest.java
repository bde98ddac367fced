package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RecordedRequest;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import org.junit.jupiter.api.Test;

/**
 * Context is trimmed to the session model's context window: the prompt may take the window less the answer's
 * max_tokens; the oldest history goes first (a whole exchange at a time), never the system prompt or the new
 * message; and when even those two do not fit, the message is refused with 400 context_too_long before anything
 * is stored, counted or sent. Token counts are JTokkit's cl100k_base, as the gateway counts a Llama prompt.
 */
class ContextWindowTest {

    static final Encoding CL100K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    static final String MODEL = "Meta-Llama-3.3-70B-Instruct";
    static final int MAX_OUTPUT = 100;
    static final String SYSTEM = "You are a terse assistant for the Cobalt test suite.";
    static final String[][] HISTORY = {
        {"First question about the weather in Lisbon today?", "Sunny and warm, about twenty-four degrees."},
        {"Second question: what should I pack for a week there?", "Light clothes, sunscreen and a light jacket."},
        {"Third question, and a short one: any good food?", "Try pastel de nata and grilled sardines."},
    };
    static final String NEW = "Thanks. And the best time to visit the castle?";
    static final String TOKEN = Jwt.token("window-user");

    static int tokens(List<String[]> messages) {
        int t = 3;
        for (String[] m : messages) {
            t += 3 + CL100K.countTokensOrdinary(m[0]) + CL100K.countTokensOrdinary(m[1]);
        }
        return t;
    }

    /** system, the last {@code exchanges} exchanges of HISTORY, then the new message. */
    static List<String[]> context(int exchanges) {
        List<String[]> m = new ArrayList<>();
        m.add(new String[] {"system", SYSTEM});
        for (int i = HISTORY.length - exchanges; i < HISTORY.length; i++) {
            m.add(new String[] {"user", HISTORY[i][0]});
            m.add(new String[] {"assistant", HISTORY[i][1]});
        }
        m.add(new String[] {"user", NEW});
        return m;
    }

    static List<List<String>> sent(RecordedRequest r) {
        List<List<String>> out = new ArrayList<>();
        for (JsonNode m : GatewayClient.json(r.body()).get("messages")) {
            out.add(List.of(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }

    static List<List<String>> asLists(List<String[]> messages) {
        return messages.stream().map(List::of).toList();
    }

    /** Plays the three exchanges and the new message against a gateway whose model has this window. */
    static RecordedRequest lastRequestWithWindow(int window) {
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of(
                     "llm.model." + MODEL + ".context-window", String.valueOf(window),
                     "llm.model." + MODEL + ".max-output-tokens", String.valueOf(MAX_OUTPUT)))) {
            GatewayClient client = new GatewayClient(gateway);
            String session = client.createSession(TOKEN, "{\"system_prompt\":" + Chunks.json(SYSTEM) + "}");
            for (String[] exchange : HISTORY) {
                upstream.enqueue(Script.sse(Chunks.delta(exchange[1]), Chunks.finish("stop"), Chunks.done()));
                assertThat(client.chat(session, TOKEN, exchange[0]).text()).isEqualTo(exchange[1]);
            }
            upstream.enqueue(Script.sse(Chunks.delta("Mornings."), Chunks.finish("stop"), Chunks.done()));
            assertThat(client.chat(session, TOKEN, NEW).text()).isEqualTo("Mornings.");
            List<RecordedRequest> requests = upstream.requests();
            assertThat(requests).hasSize(4);
            RecordedRequest last = requests.get(3);
            assertThat(GatewayClient.json(last.body()).get("max_tokens").asInt()).isEqualTo(MAX_OUTPUT);
            return last;
        }
    }

    @Test
    void aPromptExactlyAtTheBudgetKeepsItsHistoryAndOneTokenLessDropsTheOldestExchange() {
        int twoExchanges = tokens(context(2));
        assertThat(tokens(context(3))).isGreaterThan(twoExchanges);

        RecordedRequest atBoundary = lastRequestWithWindow(twoExchanges + MAX_OUTPUT);
        assertThat(sent(atBoundary)).isEqualTo(asLists(context(2)));

        RecordedRequest oneBelow = lastRequestWithWindow(twoExchanges + MAX_OUTPUT - 1);
        assertThat(sent(oneBelow)).as("the oldest remaining exchange goes, question and answer")
                .isEqualTo(asLists(context(1)));
    }

    @Test
    void aWindowLargeEnoughForEverythingSendsTheWholeHistory() {
        RecordedRequest all = lastRequestWithWindow(tokens(context(3)) + MAX_OUTPUT);
        assertThat(sent(all)).isEqualTo(asLists(context(3)));
    }

    @Test
    void whenTheSystemPromptAndTheMessageAloneDoNotFitTheMessageIsRefusedBeforeAnythingHappens() {
        int needed = tokens(context(0));
        int window = needed - 1 + MAX_OUTPUT;
        try (FakeUpstream upstream = FakeUpstream.start();
             RunningGateway gateway = RunningGateway.sambanovaAt(upstream, Map.of(
                     "llm.model." + MODEL + ".context-window", String.valueOf(window),
                     "llm.model." + MODEL + ".max-output-tokens", String.valueOf(MAX_OUTPUT),
                     "chat.rate-limit-per-minute", "1"))) {
            GatewayClient client = new GatewayClient(gateway);
            String session = client.createSession(TOKEN, "{\"system_prompt\":" + Chunks.json(SYSTEM) + "}");

            GatewayClient.Answer a = client.chat(session, TOKEN, NEW);

            assertThat(a.status()).isEqualTo(400);
            assertThat(a.body()).isEqualTo("{\"error\":{\"code\":\"context_too_long\",\"message\":\"The message and"
                    + " the system prompt take " + needed + " tokens; the model " + MODEL + " accepts at most "
                    + (needed - 1) + " before its answer\"}}");
            assertThat(upstream.requestCount()).isZero();
            assertThat(client.session(session, TOKEN).get("messages")).isEmpty();

            upstream.enqueue(Script.sse(Chunks.delta("Fits."), Chunks.finish("stop"), Chunks.done()));
            assertThat(client.chat(session, TOKEN, "Short?").text())
                    .as("the refused message was not counted against the minute limit of 1").isEqualTo("Fits.");
            assertThat(upstream.takeRequest(Duration.ofSeconds(5)).path()).isEqualTo("/v1/chat/completions");
        }
    }
}
