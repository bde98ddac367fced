package com.cobalt.chat.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.record.TokenEstimator;
import com.cobalt.chat.store.ContextMessage;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo provider behaves like an OpenAI-compatible provider: it stops at {@code max_tokens} with
 * {@code finish_reason: "length"}, counts tokens with the gateway's tokenizer, and reports usage in a last chunk
 * with {@code choices: []} only when {@code stream_options.include_usage} asks for it.
 */
class DemoProviderTest {

    static final String DEMO = "/demo/v1/chat/completions";
    static final String FULL_ANSWER = "Hello! This is the Cobalt demo provider, streaming a canned answer word by word"
            + " through the same routes, circuit breaker and SSE relay a real provider uses. Set LLM_PROVIDER to"
            + " sambanova or azure to talk to a real model.";
    static final TokenEstimator TOKENS = new TokenEstimator();
    static final List<ContextMessage> PROMPT = List.of(new ContextMessage("system", "Be brief."),
            new ContextMessage("user", "Hello there, demo"));

    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo"));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static String request(String extra) {
        return "{\"model\":\"cobalt-demo\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hello there, demo\"}],\"stream\":true" + extra + "}";
    }

    /** The data events' JSON, without [DONE] (asserted to be last). */
    static List<JsonNode> events(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data).last().isEqualTo("[DONE]");
        List<JsonNode> out = new ArrayList<>();
        data.subList(0, data.size() - 1).forEach(d -> out.add(GatewayClient.json(d)));
        return out;
    }

    static String text(List<JsonNode> events) {
        StringBuilder b = new StringBuilder();
        events.forEach(e -> b.append(e.at("/choices/0/delta/content").asText("")));
        return b.toString();
    }

    @Test
    void maxTokensEndsTheAnswerWithLengthAndTheUsageChunkCountsWithTheGatewaysTokenizer() {
        List<JsonNode> events = events(client.send("POST", DEMO, null, "application/json",
                request(",\"max_tokens\":7,\"stream_options\":{\"include_usage\":true}")));

        JsonNode usage = events.get(events.size() - 1);
        JsonNode finish = events.get(events.size() - 2);
        String text = text(events.subList(0, events.size() - 1));
        assertThat(finish.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(FULL_ANSWER).startsWith(text);
        assertThat(text).isNotEmpty().isNotEqualTo(FULL_ANSWER);
        assertThat(TOKENS.completion(text, "cobalt-demo")).isLessThanOrEqualTo(7);
        assertThat(usage.get("choices")).isEmpty();
        assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(TOKENS.completion(text, "cobalt-demo"));
        assertThat(usage.at("/usage/prompt_tokens").asInt()).isEqualTo(TOKENS.prompt(PROMPT, "cobalt-demo"));
        assertThat(usage.at("/usage/total_tokens").asInt()).isEqualTo(usage.at("/usage/prompt_tokens").asInt()
                + usage.at("/usage/completion_tokens").asInt());
    }

    @Test
    void withoutIncludeUsageThereIsNoUsageChunkAndWithoutMaxTokensTheAnswerIsWhole() {
        List<JsonNode> events = events(client.send("POST", DEMO, null, "application/json", request("")));

        JsonNode last = events.get(events.size() - 1);
        assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
        assertThat(events).noneMatch(e -> e.has("usage"));
        assertThat(text(events)).isEqualTo(FULL_ANSWER);
    }

    @Test
    void throughTheGatewayMaxTokensIsHonouredAndTheUsageIsTheProvidersOwn() {
        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.token("demo-user"), "application/json",
                "{\"model\":\"cobalt-demo\",\"max_tokens\":5,\"messages\":[{\"role\":\"system\",\"content\":"
                        + "\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hello there, demo\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode completion = GatewayClient.json(r.body());
        String text = completion.at("/choices/0/message/content").asText();
        assertThat(completion.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(FULL_ANSWER).startsWith(text);
        assertThat(completion.at("/usage/completion_tokens").asInt()).isEqualTo(TOKENS.completion(text, "cobalt-demo"))
                .isLessThanOrEqualTo(5);
        assertThat(completion.at("/usage/prompt_tokens").asInt()).isEqualTo(TOKENS.prompt(PROMPT, "cobalt-demo"));
    }

    /**
     * The gateway sends the demo a session's whole context, far larger than one message's body: two messages of 3,000
     * emoji (12 KB each) in one session made a context past the 64 KiB every other route takes, and the demo's 413
     * failed the second chat (and counted against the provider, helper audit of 2026-12-04).
     */
    @Test
    void aSessionWhoseContextIsLargerThanOneBodyIsAnswered() {
        String token = Jwt.token("demo-long-talker");
        String session = client.createSession(token);
        String message = "\ud83d\ude00".repeat(3_000);

        for (int i = 1; i <= 3; i++) {
            GatewayClient.Answer answer = client.chat(session, token, message);

            assertThat(answer.status()).as("message %s: %s", i, answer.body()).isEqualTo(200);
            assertThat(answer.events()).last().isEqualTo("data: [DONE]");
        }
    }
}
