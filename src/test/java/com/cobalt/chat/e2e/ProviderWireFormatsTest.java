package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * OpenAI-compatible servers' own wire formats as they really send them (black-box probe of the providers' wire
 * formats), end to end on both APIs: what the caller gets, what is stored, what the usage report counts and costs.
 *
 * <p>One provider of kind {@code openai}, {@code compat}, serving model {@code m1} at {@link #upstream}, priced
 * 1.00 in, 2.00 out, 0.50 cached input (USD per million tokens).
 */
@Timeout(60)
class ProviderWireFormatsTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String BROKE_OFF = "The provider's stream broke off; the partial answer was kept";

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "compat");
        p.put("llm.provider.compat.kind", "openai");
        p.put("llm.provider.compat.api-base", upstream.baseUrl() + "/v1");
        p.put("llm.provider.compat.api-key", "compat-test-key-0001");
        p.put("llm.models.compat", "m1");
        p.put("llm.price.compat.m1", "1.00,2.00,0.50");
        gateway = RunningGateway.start(p);
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    /** A chunk as SGLang 0.4 and Ollama (2024) stream one: {@code "finish_reason": ""} until the last. */
    static String emptyFinish(String content, String finish) {
        return "data: {\"id\":\"b29\",\"object\":\"chat.completion.chunk\",\"created\":1740634121,\"model\":"
                + "\"deepseek-r1:70b\",\"choices\":[{\"index\":0,\"delta\":{\"role\":null,\"content\":"
                + Chunks.json(content) + ",\"tool_calls\":null},\"logprobs\":null,\"finish_reason\":\"" + finish
                + "\",\"matched_stop\":null}],\"usage\":null}\n\n";
    }

    static String delta(String content) {
        return "data: {\"content\":" + Chunks.json(content) + ",\"done\":false}";
    }

    /** The session's assistant message, once recorded (after the client's response ended). */
    JsonNode storedAnswer(String session, String token) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode messages = client.session(session, token).get("messages");
            if (messages.size() >= 2 || System.nanoTime() > deadline) {
                assertThat(messages).as("stored messages").hasSize(2);
                return messages.get(1);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    /**
     * An empty finish reason is no finish reason: a stream that SGLang or Ollama cuts mid-answer broke off. It was
     * taken as finished - relayed with {@code "finish_reason":""} and [DONE], stored complete.
     */
    @Test
    void anEmptyFinishReasonBeforeTheLastChunkIsNoFinishAndACutStreamBrokeOff() {
        String token = Jwt.token("wire-empty-finish-cut");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(emptyFinish("Cut", ""), emptyFinish(" here", "")).delay(Duration.ofMillis(200))
                .cut());

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.events()).containsExactly(delta("Cut"), delta(" here"), "event: error\ndata: {\"error\":"
                + "{\"code\":\"stream_interrupted\",\"message\":\"" + BROKE_OFF + "\"}}");
        JsonNode stored = storedAnswer(session, token);
        assertThat(stored.get("content").asText()).isEqualTo("Cut here");
        assertThat(stored.get("status").asText()).isEqualTo("interrupted");
        assertThat(stored.has("finish_reason")).as(stored.toString()).isFalse();
    }

    /**
     * A finish reason longer than any real one (OpenAI's are at most 14 characters; the store keeps 64) is cut at 64
     * characters, relayed and stored so: the answer is stored complete, not lost to a value too long for its column.
     */
    @Test
    void anOverlongFinishReasonIsCutAndTheAnswerStored() {
        String token = Jwt.token("wire-long-finish");
        String session = client.createSession(token);
        String reason = "x".repeat(100);
        upstream.enqueue(Script.sse(emptyFinish("Long", ""), emptyFinish("", reason), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.events()).containsExactly(delta("Long"),
                "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"" + "x".repeat(64) + "\"}", "data: [DONE]");
        JsonNode stored = storedAnswer(session, token);
        assertThat(stored.get("content").asText()).isEqualTo("Long");
        assertThat(stored.get("status").asText()).isEqualTo("complete");
        assertThat(stored.get("finish_reason").asText()).isEqualTo("x".repeat(64));
    }

    /** The same stream ended by its real finish reason is complete, and only the real one is relayed. */
    @Test
    void anEmptyFinishReasonThenTheRealOneIsAWholeAnswer() {
        String token = Jwt.token("wire-empty-finish-whole");
        upstream.enqueue(Script.sse(emptyFinish("Empty", ""), emptyFinish(" finish", ""), emptyFinish("", "stop"),
                Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode choice = GatewayClient.json(r.body()).get("choices").get(0);
        assertThat(choice.get("message").get("content").asText()).isEqualTo("Empty finish");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
    }

    /**
     * A chunk as Text Generation Inference streams one on its OpenAI-compatible API: {@code "id":""}, the token's
     * text as the delta's content; its last chunk carries the model's end-of-sequence token as text beside the finish.
     */
    static String tgi(String content, String finish) {
        return "data: {\"object\":\"chat.completion.chunk\",\"id\":\"\",\"created\":1732000000,\"model\":"
                + "\"meta-llama/Meta-Llama-3.1-8B-Instruct\",\"system_fingerprint\":\"2.4.0-native\",\"choices\":[{"
                + "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":" + Chunks.json(content) + "},"
                + "\"logprobs\":null,\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"")
                + "}],\"usage\":null}\n\n";
    }

    /**
     * TGI's last chunk is the model's end token as text with finish_reason stop: it was relayed and stored as the
     * answer's last words ("Hello there.</s>").
     */
    @Test
    void aTgiEndTokenInTheFinishChunkIsNotPartOfTheAnswer() {
        String token = Jwt.token("wire-tgi-end-token");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(tgi("Hello", null), tgi(" there.", null), tgi("</s>", "stop"), Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.events()).containsExactly(delta("Hello"), delta(" there."),
                "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}", "data: [DONE]");
        JsonNode stored = storedAnswer(session, token);
        assertThat(stored.get("content").asText()).isEqualTo("Hello there.");
        assertThat(stored.get("status").asText()).isEqualTo("complete");
    }

    @Test
    void aTgiEndTokenIsNotStreamedOnTheOpenAiApi() {
        String token = Jwt.token("wire-tgi-end-token-v1");
        upstream.enqueue(Script.sse(tgi("Hi", null), tgi("!", null), tgi("<|eot_id|>", "stop"), Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder content = new StringBuilder();
        String finish = null;
        for (String event : r.body().split("\n\n")) {
            if (event.startsWith("data: {")) {
                JsonNode choice = GatewayClient.json(event.substring("data: ".length())).path("choices").path(0);
                content.append(choice.path("delta").path("content").asText(""));
                if (choice.hasNonNull("finish_reason")) {
                    finish = choice.get("finish_reason").asText();
                }
            }
        }
        assertThat(content.toString()).isEqualTo("Hi!");
        assertThat(finish).isEqualTo("stop");
        assertThat(r.body()).doesNotContain("eot_id");
    }

    /**
     * Older Text Generation Inference servers (before OpenAI's reasons were mapped) send their own finish reasons:
     * {@code eos_token} (the model ended its answer) and {@code stop_sequence}. Both are OpenAI's {@code stop}; they
     * were relayed as is - a reason no OpenAI client knows - stored as is, and the end token was kept ("Hello
     * there.</s>").
     */
    @Test
    void tgisOwnFinishReasonsAreStopAndTheEndTokenIsDropped() {
        String token = Jwt.token("wire-tgi-eos-token");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(tgi("Hello", null), tgi(" there.", null), tgi("</s>", "eos_token"),
                Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.events()).containsExactly(delta("Hello"), delta(" there."),
                "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}", "data: [DONE]");
        JsonNode stored = storedAnswer(session, token);
        assertThat(stored.get("content").asText()).isEqualTo("Hello there.");
        assertThat(stored.get("status").asText()).isEqualTo("complete");
        assertThat(stored.get("finish_reason").asText()).isEqualTo("stop");

        upstream.enqueue(Script.sse(tgi("Hi", null), tgi("!", null), tgi("<|eot_id|>", "eos_token"), Chunks.done()));
        HttpResponse<String> whole = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");
        assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
        JsonNode choice = GatewayClient.json(whole.body()).path("choices").path(0);
        assertThat(choice.path("message").path("content").asText()).isEqualTo("Hi!");
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");

        upstream.enqueue(Script.sse(tgi("One, two", null), tgi(",", "stop_sequence"), Chunks.done()));
        HttpResponse<String> streamed = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"stream\":true,\"stop\":[\",\"],\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"Count\"}]}");
        assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(200);
        List<String> reasons = new ArrayList<>();
        for (String event : streamed.body().split("\n\n")) {
            if (event.startsWith("data: {")) {
                JsonNode c = GatewayClient.json(event.substring("data: ".length())).path("choices").path(0);
                if (c.hasNonNull("finish_reason")) {
                    reasons.add(c.get("finish_reason").asText());
                }
            }
        }
        assertThat(reasons).containsExactly("stop");
    }

    /**
     * Only a finish chunk's content that is exactly an end token, and only with finish_reason stop: the same text
     * mid-answer, inside other text or at a length cut is the model's words (an answer about tokenizers, say).
     */
    @Test
    void endTokenTextAnywhereElseIsKept() {
        String token = Jwt.token("wire-tgi-end-token-kept");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(tgi("<|im_end|>", null), tgi(" ends a turn; so does ", null), tgi("</s> ", "stop"),
                Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(storedAnswer(session, token).get("content").asText())
                .isEqualTo("<|im_end|> ends a turn; so does </s> ");

        String cut = client.createSession(token);
        upstream.enqueue(Script.sse(tgi("Write ", null), tgi("</s>", "length"), Chunks.done()));
        GatewayClient.Answer atLength = client.chat(cut, token, "Tell me");
        assertThat(atLength.status()).as(atLength.body()).isEqualTo(200);
        assertThat(storedAnswer(cut, token).get("content").asText()).isEqualTo("Write </s>");
    }

    /** A chunk as Moonshot (Kimi) ends its stream: the usage inside the choice, beside finish_reason. */
    static String moonshotFinish(String usage) {
        return "data: {\"id\":\"chatcmpl-69bbcc29\",\"object\":\"chat.completion.chunk\",\"created\":1773915177,"
                + "\"model\":\"kimi-k2-0905-preview\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\","
                + "\"usage\":" + usage + "}],\"system_fingerprint\":\"fpv0_e76aa377\"}\n\n";
    }

    JsonNode usageTotal(String token) {
        HttpResponse<String> r = client.get("/api/v1/usage?group_by=model", token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return GatewayClient.json(r.body()).get("total");
    }

    /**
     * Moonshot streams the usage inside the finish chunk's choice: it was not read, so the answer was stored with the
     * gateway's estimate (9 prompt tokens for 1,336 reported) and charged a hundredth of its price.
     */
    @Test
    void usageInsideTheFinishChunksChoiceIsTheReportedUsage() {
        String token = Jwt.token("wire-moonshot-usage");
        upstream.enqueue(Script.sse(Chunks.delta("Moon"), Chunks.delta("shot"),
                moonshotFinish("{\"prompt_tokens\":1336,\"completion_tokens\":31,\"total_tokens\":1367}"),
                Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String[] events = r.body().split("\n\n");
        assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
        JsonNode usageChunk = GatewayClient.json(events[events.length - 2].substring("data: ".length()));
        assertThat(usageChunk.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":1336,\"completion_tokens\":31,\"total_tokens\":1367}");
        JsonNode total = usageTotal(token);
        assertThat(total.get("prompt_tokens").asLong()).isEqualTo(1336);
        assertThat(total.get("completion_tokens").asLong()).isEqualTo(31);
        assertThat(total.get("estimated_answers").asLong()).isZero();
        // 1,336 in at 1.00 and 31 out at 2.00 per million
        assertThat(total.get("cost_usd").decimalValue()).isEqualByComparingTo("0.001398");
    }

    /**
     * DeepSeek reports the cached part of the prompt as {@code prompt_cache_hit_tokens}, outside OpenAI's
     * {@code prompt_tokens_details}: it was not read, so the cache hits were reported as none and charged the full
     * input price.
     */
    @Test
    void deepSeeksCacheHitTokensAreTheCachedPromptTokens() {
        String token = Jwt.token("wire-deepseek-cache");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(Chunks.reasoning("Think."), Chunks.delta("Answer"),
                "data: {\"id\":\"d1\",\"object\":\"chat.completion.chunk\",\"created\":1738000000,\"model\":"
                        + "\"deepseek-reasoner\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":"
                        + "{\"content\":\"\",\"reasoning_content\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                        + "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,\"total_tokens\":120,"
                        + "\"completion_tokens_details\":{\"reasoning_tokens\":15},\"prompt_cache_hit_tokens\":80,"
                        + "\"prompt_cache_miss_tokens\":20}}\n\n",
                Chunks.done()));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("Answer");
        JsonNode total = usageTotal(token);
        assertThat(total.get("prompt_tokens").asLong()).isEqualTo(100);
        assertThat(total.get("cached_prompt_tokens").asLong()).isEqualTo(80);
        assertThat(total.get("reasoning_tokens").asLong()).isEqualTo(15);
        // 20 uncached at 1.00, 80 cached at 0.50, 20 out at 2.00 per million - not 100 at 1.00 (0.00014)
        assertThat(total.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0001");
    }

    /**
     * Moonshot reports it as {@code cached_tokens} at the top of its usage (inside the choice): relayed in /v1's usage
     * as OpenAI's {@code prompt_tokens_details.cached_tokens}, and priced at the cached rate.
     */
    @Test
    void moonshotsTopLevelCachedTokensAreTheCachedPromptTokens() {
        String token = Jwt.token("wire-moonshot-cache");
        upstream.enqueue(Script.sse(Chunks.delta("Cached"), moonshotFinish("{\"prompt_tokens\":1336,"
                + "\"completion_tokens\":31,\"total_tokens\":1367,\"cached_tokens\":1280}"), Chunks.done()));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(GatewayClient.json(r.body()).get("usage").toString()).isEqualTo("{\"prompt_tokens\":1336,"
                + "\"completion_tokens\":31,\"total_tokens\":1367,\"prompt_tokens_details\":{\"cached_tokens\":1280}}");
        JsonNode total = usageTotal(token);
        assertThat(total.get("cached_prompt_tokens").asLong()).isEqualTo(1280);
        // 56 uncached at 1.00, 1,280 cached at 0.50, 31 out at 2.00 per million
        assertThat(total.get("cost_usd").decimalValue()).isEqualByComparingTo("0.000758");
    }

    /** A whole chat.completion (the answer to stream:true from a server that does not stream), {@code content} as given. */
    static String wholeCompletion(String escapedContent) {
        return "{\"id\":\"003de5ed\",\"object\":\"chat.completion\",\"created\":1746852567.742961,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + escapedContent
                + "\"},\"finish_reason\":\"stop\",\"logprobs\":null}],\"system_fingerprint\":\"fastcoe\","
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20000,\"total_tokens\":20005}}";
    }

    /**
     * A whole JSON answer is read up to what an answer may hold, not up to the error bodies' limit
     * (LLM_ERROR_BODY_MAX_BYTES, 64 KiB): a 100 KB answer was cut there, unreadable, and the chat failed with 503.
     */
    @Test
    void aWholeJsonAnswerLargerThanAnErrorBodyIsAnswered() {
        String token = Jwt.token("wire-whole-large");
        String text = "word ".repeat(20_000);
        upstream.enqueue(Script.json(200, wholeCompletion(text)));

        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}");

        assertThat(r.statusCode()).as(r.body().length() > 300 ? r.body().substring(0, 300) : r.body()).isEqualTo(200);
        JsonNode body = GatewayClient.json(r.body());
        assertThat(body.get("choices").get(0).get("message").get("content").asText()).isEqualTo(text);
        assertThat(body.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":5,\"completion_tokens\":20000,\"total_tokens\":20005}");
    }

    /**
     * A whole answer longer than CHAT_MAX_ANSWER_BYTES (1 MiB) ends as a streamed one does: cut at the limit, with
     * finish_reason length. Its event was one line longer than a streamed event may be (1 MiB), refused as a malformed
     * stream, and the chat failed with 503.
     */
    @Test
    void aWholeJsonAnswerLongerThanTheAnswerLimitIsCutThereLikeAStreamedOne() {
        String token = Jwt.token("wire-whole-over-limit");
        String session = client.createSession(token);
        String text = "a".repeat((1 << 20) + 50_000);
        upstream.enqueue(Script.json(200, wholeCompletion(text)));

        GatewayClient.Answer answer = client.chat(session, token, "Tell me");

        assertThat(answer.status()).as(answer.body().length() > 300 ? answer.body().substring(0, 300) : answer.body())
                .isEqualTo(200);
        String kept = text.substring(0, 1 << 20);
        assertThat(answer.events()).containsExactly(delta(kept),
                "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"length\"}", "data: [DONE]");
        JsonNode stored = storedAnswer(session, token);
        assertThat(stored.get("content").asText()).isEqualTo(kept);
        assertThat(stored.get("status").asText()).isEqualTo("complete");
        assertThat(stored.get("finish_reason").asText()).isEqualTo("length");
    }
}
