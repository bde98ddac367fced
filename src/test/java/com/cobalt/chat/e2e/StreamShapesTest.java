package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every upstream stream shape the providers really send, relayed end to end: the exact client events, and the
 * assistant message as stored (content and status).
 */
@Timeout(60)
class StreamShapesTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final Duration GAP = Duration.ofMillis(20);
    /** Before a cut: time for the relay to be reading, so a cut tests the relay and not its start-up. */
    static final Duration SETTLE = Duration.ofMillis(200);
    static final long IDLE_TIMEOUT_MS = 8000;
    static final Duration ANSWER_WITHIN = Duration.ofMillis(4000);
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();
    static final String SSE = "text/event-stream; charset=utf-8";
    static final String DONE = "data: [DONE]";
    static final String BROKE_OFF = "The provider's stream broke off; the partial answer was kept";

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    String token;
    String session;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream,
                Map.of("llm.stream-idle-timeout-ms", String.valueOf(IDLE_TIMEOUT_MS)));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void newSession() {
        upstream.reset();
        token = Jwt.token("shape-tester");
        session = client.createSession(token);
    }

    // ------------------------------------------------------------------------------------------ helpers

    static String delta(String content) {
        return "data: {\"content\":" + Chunks.json(content) + ",\"done\":false}";
    }

    static String finished(String reason) {
        return "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"" + reason + "\"}";
    }

    static String errorEvent(String code) {
        return "event: error\ndata: {\"error\":{\"code\":\"" + code + "\",\"message\":\"" + BROKE_OFF + "\"}}";
    }

    /**
     * Sends a chat message and reads the whole answer, which must come well before the stream idle timeout: every
     * shape here ends (or breaks) at once, so only a gateway that missed the end would wait for that timeout.
     */
    GatewayClient.Answer chat(Script script) {
        upstream.enqueue(script);
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(gateway.baseUrl() + "/api/v1/chat/sessions/" + session + "/messages"))
                .timeout(ANSWER_WITHIN)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"content\":\"Tell me something\"}"))
                .build();
        HttpResponse<String> response;
        try {
            response = HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            throw new AssertionError("no complete answer within " + ANSWER_WITHIN.toMillis() + " ms for " + script
                    + " (the stream idle timeout is " + IDLE_TIMEOUT_MS + " ms): the gateway missed how the upstream"
                    + " stream ended", e);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        assertThat(upstream.takeRequest(WAIT).path()).isEqualTo("/v1/chat/completions");
        return new GatewayClient.Answer(response.statusCode(),
                response.headers().firstValue("Content-Type").orElse(null), response.body());
    }

    /** The assistant message once recorded (the recording happens after the client's response has ended). */
    JsonNode storedAnswer() {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode messages = client.session(session, token).get("messages");
            if (messages.size() >= 2 || System.nanoTime() > deadline) {
                assertThat(messages).as("stored messages").hasSize(2);
                assertThat(messages.get(0).get("role").asText()).isEqualTo("user");
                assertThat(messages.get(0).get("content").asText()).isEqualTo("Tell me something");
                assertThat(messages.get(1).get("role").asText()).isEqualTo("assistant");
                return messages.get(1);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    void assertStored(String content, String status) {
        JsonNode answer = storedAnswer();
        assertThat(answer.get("content").asText()).isEqualTo(content);
        assertThat(answer.get("status").asText()).isEqualTo(status);
    }

    static void assertSse(GatewayClient.Answer answer, String... events) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo(SSE);
        assertThat(answer.events()).containsExactly(events);
    }

    static void assertJsonError(GatewayClient.Answer answer, int status, String code, String message) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).isEqualTo("application/json");
        assertThat(answer.body()).isEqualTo("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** An Azure OpenAI content delta, content filter annotations included. */
    static String azureDelta(String content) {
        return "data: {\"choices\":[{\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},"
                + "\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"}},\"delta\":{\"content\":"
                + Chunks.json(content) + "},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
                + "\"created\":1732612345,\"id\":\"chatcmpl-AZ\",\"model\":\"gpt-4o-2024-08-06\","
                + "\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_1\"}\n\n";
    }

    /** Azure's role-only first delta: empty content. */
    static final String AZURE_ROLE = "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\","
            + "\"role\":\"assistant\"},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],\"created\":1732612345,"
            + "\"id\":\"chatcmpl-AZ\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\"}\n\n";

    /** Azure's content filter annotation after the text: a choice without delta. */
    static final String AZURE_FILTER_OFFSETS = "data: {\"choices\":[{\"content_filter_offsets\":{\"check_offset\":0,"
            + "\"start_offset\":0,\"end_offset\":11},\"content_filter_results\":{\"hate\":{\"filtered\":false,"
            + "\"severity\":\"safe\"}},\"finish_reason\":null,\"index\":0}],\"created\":1732612345,\"id\":\"chatcmpl-AZ\","
            + "\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\"}\n\n";

    static final String NO_DELTA = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1732612345.5,\"model\":\"m\",\"choices\":[{\"index\":0,\"finish_reason\":null}]}\n\n";

    // ------------------------------------------------------------------------------------------ complete answers

    @Test
    void azureFirstChunkWithEmptyChoicesAndPromptFilterResultsThenDeltas() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.azurePromptFilter(), AZURE_ROLE, azureDelta("Hello"),
                azureDelta(" world"), AZURE_FILTER_OFFSETS, Chunks.finish("stop"), Chunks.usage(12, 2),
                Chunks.done()));

        assertSse(answer, delta("Hello"), delta(" world"), finished("stop"), DONE);
        assertStored("Hello world", "complete");
    }

    /** A content delta whose JSON string is {@code escapedText} as written (escapes such as lone surrogates kept). */
    static String rawDelta(String escapedText) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + escapedText
                + "\"},\"finish_reason\":null}]}\n\n";
    }

    /**
     * A character outside the BMP split across two deltas as JSON escapes (its high surrogate ends one, its low one
     * starts the next) reaches the client whole, as it is stored; before, each half went out alone as {@code ?}
     * (black-box probe, 2026-12-05).
     */
    @Test
    void aSurrogatePairSplitAcrossDeltasReachesTheClientWhole() {
        GatewayClient.Answer answer = chat(Script.sse(rawDelta("A\\ud83d"), rawDelta("\\ude00B"), rawDelta("\\ud83d"),
                rawDelta("\\ude03"), Chunks.finish("stop"), Chunks.done()));

        assertSse(answer, delta("A"), delta("\uD83D\uDE00B"), delta("\uD83D\uDE03"), finished("stop"), DONE);
        assertStored("A\uD83D\uDE00B\uD83D\uDE03", "complete");
    }

    /**
     * A lone surrogate from the provider (no Unicode text; UTF-8 writes it as "?") is relayed and stored as U+FFFD:
     * the client read "a?b" while the stored answer kept the surrogate and sent it upstream again (black-box probe).
     */
    @Test
    void aLoneSurrogateIsRelayedAndStoredAsTheReplacementCharacter() {
        GatewayClient.Answer answer = chat(Script.sse(rawDelta("a\\ud800b"), rawDelta("\\ude00c"), rawDelta(" end\\ud83d"),
                Chunks.finish("stop"), Chunks.done()));

        assertSse(answer, delta("a\uFFFDb"), delta("\uFFFDc"), delta(" end"), delta("\uFFFD"), finished("stop"), DONE);
        assertStored("a\uFFFDb\uFFFDc end\uFFFD", "complete");
    }

    /** A model's refusal (OpenAI's delta.refusal) is what the session's user reads: relayed and stored as the answer. */
    @Test
    void aRefusalIsTheSessionsAnswer() {
        String prefix = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":";
        String suffix = ",\"finish_reason\":null}]}\n\n";
        GatewayClient.Answer answer = chat(Script.sse(prefix + "{\"role\":\"assistant\",\"refusal\":\"\"}" + suffix,
                prefix + "{\"refusal\":\"I'm sorry,\"}" + suffix, prefix + "{\"refusal\":\" no.\"}" + suffix,
                Chunks.finish("stop"), Chunks.done()));

        assertSse(answer, delta("I'm sorry,"), delta(" no."), finished("stop"), DONE);
        assertStored("I'm sorry, no.", "complete");
    }

    @Test
    void chunksWithoutDeltaAreSkipped() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("A"), NO_DELTA, Chunks.delta("B"), NO_DELTA,
                Chunks.finish("stop"), Chunks.done()));

        assertSse(answer, delta("A"), delta("B"), finished("stop"), DONE);
        assertStored("AB", "complete");
    }

    @Test
    void trailingUsageChunkAfterTheFinishReason() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Counted"), Chunks.finish("stop"),
                Chunks.usage(10, 1), Chunks.done()));

        assertSse(answer, delta("Counted"), finished("stop"), DONE);
        assertStored("Counted", "complete");
    }

    @Test
    void usageOnTheFinishChunkAsFoundrySendsIt() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Foundry "), Chunks.delta("answer"),
                Chunks.finishWithUsage("length", 10, 2), Chunks.done()));

        assertSse(answer, delta("Foundry "), delta("answer"), finished("length"), DONE);
        assertStored("Foundry answer", "complete");
    }

    @Test
    void sambanovaFloatCreatedEverywhere() {
        String finish = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.987,"
                + "\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"choices\":[{\"index\":0,\"delta\":{},"
                + "\"finish_reason\":\"stop\",\"logprobs\":null}]}\n\n";
        String usage = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612346.001,"
                + "\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                + "\"completion_tokens\":2,\"total_tokens\":5,\"time_to_first_token\":0.12,"
                + "\"completion_tokens_per_sec\":431.7}}\n\n";

        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Float"), Chunks.delta("ing"), finish, usage,
                Chunks.done()));

        assertSse(answer, delta("Float"), delta("ing"), finished("stop"), DONE);
        assertStored("Floating", "complete");
    }

    @Test
    void utf8CharactersSplitAcrossNetworkReads() {
        String text = "Café 日本 😀!";
        byte[] stream = utf8(Chunks.delta(text) + Chunks.finish("stop") + Chunks.done());
        int e = indexOf(stream, utf8("é"));           // 2 bytes: cut after its first byte
        int ni = indexOf(stream, utf8("日"));          // 3 bytes: cut after its second byte
        int emoji = indexOf(stream, utf8("😀"));       // 4 bytes: cut after its first and its third byte
        assertThat(e).isPositive();
        assertThat(ni).isGreaterThan(e);
        assertThat(emoji).isGreaterThan(ni);
        Script script = Script.sse()
                .chunk(Arrays.copyOfRange(stream, 0, e + 1)).delay(GAP)
                .chunk(Arrays.copyOfRange(stream, e + 1, ni + 2)).delay(GAP)
                .chunk(Arrays.copyOfRange(stream, ni + 2, emoji + 1)).delay(GAP)
                .chunk(Arrays.copyOfRange(stream, emoji + 1, emoji + 3)).delay(GAP)
                .chunk(Arrays.copyOfRange(stream, emoji + 3, stream.length));

        GatewayClient.Answer answer = chat(script);

        assertSse(answer, delta(text), finished("stop"), DONE);
        assertStored(text, "complete");
    }

    @Test
    void crlfLineEndingsWithTheCrAndTheLfInDifferentReads() {
        String first = Chunks.delta("Windows").replace("\n\n", "");
        String second = Chunks.delta(" lines").replace("\n\n", "");
        String finish = Chunks.finish("stop").replace("\n\n", "");
        Script script = Script.sse()
                .chunk(first + "\r").delay(GAP)
                .chunk("\n\r").delay(GAP)
                .chunk("\n" + second + "\r\n\r").delay(GAP)
                .chunk("\n" + finish + "\r\n\r\n").delay(GAP)
                .chunk("data: [DONE]\r").delay(GAP)
                .chunk("\n\r\n");

        GatewayClient.Answer answer = chat(script);

        assertSse(answer, delta("Windows"), delta(" lines"), finished("stop"), DONE);
        assertStored("Windows lines", "complete");
    }

    /**
     * A stream that begins with a UTF-8 byte order mark, split from its event by the network: the SSE specification
     * ignores one leading BOM. The first event was lost with it and the answer stored "complete" without its first
     * words (black-box probe: a one-event answer became an empty one).
     */
    @Test
    void aByteOrderMarkBeforeTheFirstEventIsIgnored() {
        Script script = Script.sse()
                .chunk("\uFEFF").delay(GAP)
                .chunk(Chunks.delta("Marked")).delay(GAP)
                .chunk(Chunks.delta(" start")).delay(GAP)
                .chunk(Chunks.finish("stop") + Chunks.done());

        GatewayClient.Answer answer = chat(script);

        assertSse(answer, delta("Marked"), delta(" start"), finished("stop"), DONE);
        assertStored("Marked start", "complete");
    }

    @Test
    void upstreamCommentLinesAreIgnoredAndNotRelayed() {
        GatewayClient.Answer answer = chat(Script.sse(": OPENROUTER PROCESSING\n\n", ": keep-alive\n\n",
                Chunks.delta("Kept"), ": keep-alive\n\n", Chunks.delta(" alive"), ":\n\n", Chunks.finish("stop"),
                Chunks.done()));

        assertSse(answer, delta("Kept"), delta(" alive"), finished("stop"), DONE);
        assertStored("Kept alive", "complete");
    }

    @Test
    void finishChunkThenACleanEndWithoutDoneIsComplete() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("No done"), Chunks.finish("stop")));

        assertSse(answer, delta("No done"), finished("stop"), DONE);
        assertStored("No done", "complete");
    }

    @Test
    void finishChunkThenTheConnectionClosesWithoutDoneIsComplete() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Closed"), Chunks.finish("stop"))
                .closeDelimited());

        assertSse(answer, delta("Closed"), finished("stop"), DONE);
        assertStored("Closed", "complete");
    }

    @Test
    void finishChunkThenTheConnectionIsCutWithoutDoneIsComplete() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Cut after finish"), Chunks.finish("length"))
                .delay(SETTLE).cut());

        assertSse(answer, delta("Cut after finish"), finished("length"), DONE);
        assertStored("Cut after finish", "complete");
    }

    @Test
    void a200WholeJsonCompletionIsRelayedAsOneDeltaThenDone() {
        GatewayClient.Answer answer = chat(Script.json(200, "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\","
                + "\"created\":1732612345,\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Whole answer\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}"));

        assertSse(answer, delta("Whole answer"), finished("stop"), DONE);
        assertStored("Whole answer", "complete");
    }

    /** The provider said why it finished, with nothing said before: an empty answer, not a failure (no fallback). */
    @Test
    void aFinishReasonWithoutContentIsAnEmptyAnswer() {
        GatewayClient.Answer answer = chat(Script.sse(AZURE_ROLE, Chunks.finish("content_filter"), Chunks.done()));

        assertSse(answer, finished("content_filter"), DONE);
        assertStored("", "content_filtered");
    }

    @Test
    void contentFilterFinishReasonEndsWithOneDoneEventAndIsStoredAsContentFiltered() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Some text"), Chunks.finish("content_filter"),
                Chunks.usage(4, 2), Chunks.done()));

        assertSse(answer, delta("Some text"), finished("content_filter"), DONE);
        assertThat(answer.events()).filteredOn(e -> e.contains("\"done\":true")).hasSize(1);
        assertStored("Some text", "content_filtered");
    }

    @Test
    void doneWithoutAnyContentIsAnEmptyCompleteAnswer() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.azurePromptFilter(), Chunks.finish("stop"),
                Chunks.done()));

        assertSse(answer, finished("stop"), DONE);
        assertStored("", "complete");
    }

    // ------------------------------------------------------------------------------------------ broken after content

    @Test
    void errorEventInsideA200StreamAfterContent() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Partial "), Chunks.delta("text"),
                "event: error_event\ndata: {\"error\":{\"message\":\"Model overloaded; prompt was: secret\","
                        + "\"type\":\"server_error\"}}\n\n",
                Chunks.delta(" never relayed"), Chunks.done()));

        assertSse(answer, delta("Partial "), delta("text"), errorEvent("provider_stream_error"));
        assertThat(answer.body()).doesNotContain("[DONE]").doesNotContain("secret").doesNotContain("never");
        assertStored("Partial text", "interrupted");
    }

    @Test
    void dataErrorObjectInsideA200StreamAfterContent() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Half an "),
                "data: {\"error\":{\"message\":\"Internal error, prompt was: secret\",\"type\":\"internal_error\","
                        + "\"code\":500}}\n\n",
                Chunks.delta("answer"), Chunks.finish("stop"), Chunks.done()));

        assertSse(answer, delta("Half an "), errorEvent("provider_stream_error"));
        assertThat(answer.body()).doesNotContain("[DONE]").doesNotContain("secret");
        assertStored("Half an ", "interrupted");
    }

    @Test
    void streamCutWithoutDoneAfterContent() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Cut "), Chunks.delta("off")).delay(SETTLE).cut());

        assertSse(answer, delta("Cut "), delta("off"), errorEvent("stream_interrupted"));
        assertStored("Cut off", "interrupted");
    }

    @Test
    void streamResetWithoutDoneAfterContent() {
        GatewayClient.Answer answer;
        try (com.cobalt.chat.testing.LogCapture logs = com.cobalt.chat.testing.LogCapture.start()) {
            answer = chat(Script.sse(Chunks.delta("Reset")).delay(SETTLE).cutWithReset());
            // a routine provider fault: Vert.x logged "Connection reset by peer" at ERROR for each (black-box probe)
            assertThat(logs.lines()).noneMatch(l -> l.level().equals("ERROR"));
        }

        assertSse(answer, delta("Reset"), errorEvent("stream_interrupted"));
        assertStored("Reset", "interrupted");
    }

    @Test
    void cleanEndWithoutFinishReasonOrDoneAfterContentIsInterrupted() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Ended early")));

        assertSse(answer, delta("Ended early"), errorEvent("stream_interrupted"));
        assertStored("Ended early", "interrupted");
    }

    @Test
    void malformedChunkAfterContent() {
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Good "),
                "data: {\"choices\":[{\"delta\":{\"content\":\"bro\n\n", Chunks.done()));

        assertSse(answer, delta("Good "), errorEvent("malformed_chunk"));
        assertStored("Good ", "interrupted");
    }

    @Test
    void aLineLongerThanTheDecoderAcceptsAfterContent() {
        byte[] huge = new byte[(1 << 20) + 4096];
        Arrays.fill(huge, (byte) 'x');
        System.arraycopy(utf8("data: "), 0, huge, 0, 6);
        GatewayClient.Answer answer = chat(Script.sse(Chunks.delta("Before ")).delay(GAP).chunk(huge).stall());

        assertSse(answer, delta("Before "), errorEvent("malformed_stream"));
        assertStored("Before ", "interrupted");
        assertThat(upstream.awaitDisconnect(WAIT)).as("the upstream request was cancelled").isTrue();
    }

    // ------------------------------------------------------------------------------------------ broken before content

    @Test
    void a200JsonErrorBodyWithoutFallbackIsProviderUnavailable() {
        GatewayClient.Answer answer = chat(Script.json(200,
                "{\"error\":{\"message\":\"The server had an error while processing your request\","
                        + "\"type\":\"server_error\",\"code\":\"500\"}}"));

        assertJsonError(answer, 503, "provider_unavailable", "No provider could answer; retry later");
        assertStored("", "failed");
        assertThat(upstream.requestCount()).isEqualTo(1);
    }

    /**
     * The upstream's connection ends right after its 200 headers, before the relay has begun to read: the gateway
     * must still notice at once. Repeated, as it races the gateway's own hand-over from the provider step to the relay.
     */
    @Test
    void aConnectionEndingRightAfterThe200HeadersIsNoticedAtOnce() {
        for (int i = 0; i < 10; i++) {
            if (i > 0) {
                upstream.reset();
                session = client.createSession(token);
            }
            Script script = i % 2 == 0 ? Script.sse().cut() : Script.sse().cutWithReset();

            GatewayClient.Answer answer;
            try {
                answer = chat(script);
            } catch (AssertionError e) {
                throw new AssertionError("attempt " + (i + 1) + " of 10: " + e.getMessage(), e);
            }

            // before its first content the provider has failed: no fallback here, so every provider failed
            assertJsonError(answer, 503, "provider_unavailable", "No provider could answer; retry later");
            assertStored("", "failed");
        }
    }

    static Stream<Arguments> brokenBeforeContent() {
        return Stream.of(
                Arguments.of("prompt filter chunk then cut",
                        Script.sse(Chunks.azurePromptFilter()).delay(SETTLE).cut()),
                Arguments.of("prompt filter chunk then reset",
                        Script.sse(Chunks.azurePromptFilter()).delay(SETTLE).cutWithReset()),
                Arguments.of("error_event first",
                        Script.sse("event: error_event\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n")),
                Arguments.of("data error object first, after a keep-alive comment",
                        Script.sse(": keep-alive\n\n", "data: {\"error\":{\"message\":\"bad\",\"code\":500}}\n\n",
                                Chunks.done())),
                Arguments.of("malformed first chunk",
                        Script.sse("data: {not json\n\n", Chunks.done())),
                Arguments.of("empty stream that ends cleanly",
                        Script.sse()),
                Arguments.of("role-only delta then a clean end",
                        Script.sse(AZURE_ROLE)),
                Arguments.of("[DONE] alone",
                        Script.sse(Chunks.done())),
                Arguments.of("prompt filter and role-only chunks, then [DONE] without a finish reason",
                        Script.sse(Chunks.azurePromptFilter(), AZURE_ROLE, Chunks.done())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenBeforeContent")
    void aStreamThatBreaksBeforeAnyContentIsTheProvidersFailureNeverA200(String name, Script script) {
        GatewayClient.Answer answer = chat(script);

        assertJsonError(answer, 503, "provider_unavailable", "No provider could answer; retry later");
        assertStored("", "failed");
    }
}
