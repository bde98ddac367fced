package com.cobalt.chat.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import com.cobalt.chat.testing.Chunks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What one upstream data event says, for the chunk shapes SambaNova, Azure OpenAI and Foundry really send. */
class ChunkDecoderTest {

    /** The data of a one-event fixture from {@link Chunks} ("data: {...}\n\n"). */
    private static String dataOf(String sseFixture) {
        assertThat(sseFixture).startsWith("data: ").endsWith("\n\n");
        return sseFixture.substring("data: ".length(), sseFixture.length() - 2);
    }

    private static ChunkReading read(String data) {
        return new ChunkDecoder().read(new SseEvent(null, data));
    }

    private static ChunkReading reading(String content, String finish, Integer prompt, Integer completion) {
        return new ChunkReading(content, finish, prompt, completion, null, false);
    }

    private static ChunkReading error(String code) {
        return new ChunkReading(null, null, null, null, code, false);
    }

    /**
     * A request error inside the stream names the provider's code and param as a rejection in an HTTP body does, and
     * only as plain identifiers: vLLM's numeric code is not named, nor is a code that is free text.
     */
    @Test
    void aRequestErrorInTheStreamKeepsTheProvidersCodeAndParamForTheRejection() {
        ChunkDecoder openai = new ChunkDecoder();
        assertThat(openai.read(new SseEvent(null, "{\"error\":{\"message\":\"the prompt 'secret' is too long\","
                + "\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}")))
                .isEqualTo(error("provider_rejected_request"));
        assertThat(openai.rejection("p").said()).isEqualTo(" (provider code context_length_exceeded, parameter"
                + " 'messages')");

        ChunkDecoder vllm = new ChunkDecoder();
        assertThat(vllm.read(new SseEvent(null, "{\"error\":{\"object\":\"error\",\"message\":\"too long\","
                + "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}}")))
                .isEqualTo(error("provider_rejected_request"));
        assertThat(vllm.rejection("p").said()).isEmpty();

        ChunkDecoder text = new ChunkDecoder();
        text.read(new SseEvent(null, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"the prompt 'secret'\"}}"));
        assertThat(text.rejection("p").said()).isEmpty();
        assertThat(text.rejection("p").status()).isEqualTo(400);
    }

    @Test
    void sambanovaDeltaWithAFloatCreated() {
        ChunkReading r = read(dataOf(Chunks.delta("Hello")));

        assertThat(r).isEqualTo(reading("Hello", null, null, null));
        assertThat(r.hasContent()).isTrue();
        assertThat(r.isError()).isFalse();
        assertThat(r.hasUsage()).isFalse();
    }

    @Test
    void deltaContentKeepsMultiByteTextAndEscapes() {
        ChunkReading r = read(dataOf(Chunks.delta("Café 日本 😀 \"q\"\n\ttab")));

        assertThat(r).isEqualTo(reading("Café 日本 😀 \"q\"\n\ttab", null, null, null));
    }

    /** A provider's byte that is not UTF-8 arrives as U+FFFD, as a decoder of text would have it; the chunk is read. */
    @Test
    void contentThatIsNotValidUtf8IsReadWithReplacementCharacters() {
        byte[] data = concat(utf8("{\"choices\":[{\"delta\":{\"content\":\"caf"), new byte[] {(byte) 0xE9},
                utf8(" ok\"}}]}"));

        assertThat(new ChunkDecoder().read(new SseEvent(null, data, 0, data.length)))
                .isEqualTo(reading("caf\uFFFD ok", null, null, null));
    }

    /** The relay hands the decoder a slice of the network's bytes: only that slice is read, trimmed like text. */
    @Test
    void aChunkIsReadFromItsSliceOfALargerBuffer() {
        byte[] around = utf8("data: {\"choices\":[{\"delta\":{\"content\":\"one\"}}]}\n\n"
                + "data:  {\"choices\":[{\"delta\":{\"content\":\"two\"}}]}  \n\ndata: [DONE]\n\n");
        String all = new String(around, java.nio.charset.StandardCharsets.UTF_8);
        int from = all.indexOf("data:  {") + "data:".length();
        int to = all.indexOf("\n\ndata: [DONE]");

        assertThat(new ChunkDecoder().read(new SseEvent(null, around, from, to - from)))
                .isEqualTo(reading("two", null, null, null));
        int done = all.indexOf("[DONE]");
        assertThat(new ChunkDecoder().read(new SseEvent(null, around, done - 1, "[DONE]".length() + 2)))
                .isSameAs(ChunkReading.DONE);
        assertThat(new ChunkDecoder().read(new SseEvent(null, around, done, "[DONE".length()))).isEqualTo(
                error("malformed_chunk"));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * One decoder reads a whole stream with one parser: every event reads as it does alone, whatever the events
     * before it left behind - a chunk cut off, bytes that are not UTF-8, text after the object, a value that is not
     * an object, two objects in one event.
     */
    @Test
    void oneDecoderReadsEachEventOfAStreamAsItReadsAlone() {
        List<byte[]> events = List.of(
                utf8(dataOf(Chunks.delta("one"))),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"cut off"),
                utf8(dataOf(Chunks.delta("two"))),
                concat(utf8("{\"choices\":[{\"delta\":{\"content\":\"caf"), new byte[] {(byte) 0xE9}, utf8("\"}}]}")),
                utf8(dataOf(Chunks.delta("three"))),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"four\"}}]} trailing text"),
                utf8(dataOf(Chunks.delta("five"))),
                utf8("42"),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"six\"}}]}"),
                utf8("null"),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"seven\"}}]}"),
                utf8(""),
                utf8("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}"),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"eight\"}}]}{\"choices\":[{\"delta\":{\"content\":\"nine\""),
                utf8("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0"),
                utf8("{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}"),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"" + LONG + "\"}}]}"),
                utf8("{\"choices\":[{\"delta\":{\"content\":\"\\ud83d\\ude00 \\u00e9\\n\"}}],\"created\":1.7e9}"),
                utf8("[DONE]"));
        ChunkDecoder stream = new ChunkDecoder();

        List<ChunkReading> together = events.stream().map(e -> stream.read(new SseEvent(null, e, 0, e.length))).toList();
        List<ChunkReading> alone = events.stream().map(e -> new ChunkDecoder().read(new SseEvent(null, e, 0, e.length)))
                .toList();

        assertThat(together).isEqualTo(alone);
        assertThat(together).extracting(ChunkReading::content, ChunkReading::errorCode).containsExactly(
                org.assertj.core.groups.Tuple.tuple("one", null),
                org.assertj.core.groups.Tuple.tuple(null, "malformed_chunk"),
                org.assertj.core.groups.Tuple.tuple("two", null),
                org.assertj.core.groups.Tuple.tuple("caf\uFFFD", null),
                org.assertj.core.groups.Tuple.tuple("three", null),
                org.assertj.core.groups.Tuple.tuple("four", null),
                org.assertj.core.groups.Tuple.tuple("five", null),
                org.assertj.core.groups.Tuple.tuple(null, "malformed_chunk"),
                org.assertj.core.groups.Tuple.tuple("six", null),
                org.assertj.core.groups.Tuple.tuple(null, "malformed_chunk"),
                org.assertj.core.groups.Tuple.tuple("seven", null),
                org.assertj.core.groups.Tuple.tuple(null, "malformed_chunk"),
                org.assertj.core.groups.Tuple.tuple(null, null),
                org.assertj.core.groups.Tuple.tuple("eight", null),
                org.assertj.core.groups.Tuple.tuple(null, "malformed_chunk"),
                org.assertj.core.groups.Tuple.tuple(null, null),
                org.assertj.core.groups.Tuple.tuple(LONG, null),
                org.assertj.core.groups.Tuple.tuple("\ud83d\ude00 \u00e9\n", null),
                org.assertj.core.groups.Tuple.tuple(null, null));
        assertThat(together.get(12).toolCalls().toString())
                .isEqualTo("[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]");
        assertThat(together.get(15).completionTokens()).isEqualTo(9);
        assertThat(together.get(18)).isSameAs(ChunkReading.DONE);
    }

    /** Longer than the parser's text buffer's first segment, with multi-byte characters across its ends. */
    private static final String LONG = "caf\u00e9 \u65e5\u672c \ud83d\ude00 ".repeat(7_000);

    /** The same decoder after its stream was closed reads on with a new parser. */
    @Test
    void aClosedDecoderReadsOn() {
        ChunkDecoder stream = new ChunkDecoder();
        assertThat(stream.read(new SseEvent(null, dataOf(Chunks.delta("before"))))).isEqualTo(
                reading("before", null, null, null));

        stream.close();

        assertThat(stream.read(new SseEvent(null, dataOf(Chunks.delta("after"))))).isEqualTo(
                reading("after", null, null, null));
    }

    @Test
    void azureFirstChunkWithEmptyChoicesAndPromptFilterResultsSaysNothing() {
        ChunkReading r = read(dataOf(Chunks.azurePromptFilter()));

        assertThat(r).isEqualTo(reading(null, null, null, null));
        assertThat(r.hasContent()).isFalse();
        assertThat(r.isError()).isFalse();
        assertThat(r.done()).isFalse();
    }

    @Test
    void azureRoleOnlyFirstDeltaHasEmptyContent() {
        ChunkReading r = read("{\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\",\"role\":"
                + "\"assistant\"},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],\"created\":1732612345,"
                + "\"id\":\"chatcmpl-A\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\","
                + "\"system_fingerprint\":\"fp_1\"}");

        assertThat(r).isEqualTo(reading("", null, null, null));
        assertThat(r.hasContent()).isFalse();
    }

    @Test
    void azureDeltaWithContentFilterResults() {
        ChunkReading r = read("{\"choices\":[{\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":"
                + "\"safe\"}},\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
                + "\"created\":1732612345,\"id\":\"chatcmpl-A\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}");

        assertThat(r).isEqualTo(reading("Hi", null, null, null));
    }

    @Test
    void aChoiceWithoutDeltaSaysNothing() {
        ChunkReading r = read("{\"choices\":[{\"content_filter_offsets\":{\"check_offset\":0,\"start_offset\":0,"
                + "\"end_offset\":12},\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}},"
                + "\"finish_reason\":null,\"index\":0}],\"created\":1732612345,\"id\":\"chatcmpl-A\",\"model\":\"gpt-4o\","
                + "\"object\":\"chat.completion.chunk\"}");

        assertThat(r).isEqualTo(reading(null, null, null, null));
    }

    @Test
    void aChoiceWithANullDeltaSaysNothing() {
        assertThat(read("{\"choices\":[{\"index\":0,\"delta\":null,\"finish_reason\":null}]}"))
                .isEqualTo(reading(null, null, null, null));
    }

    @Test
    void nullOrMissingChoicesSayNothing() {
        assertThat(read("{\"id\":\"x\",\"choices\":null}")).isEqualTo(reading(null, null, null, null));
        assertThat(read("{\"id\":\"x\"}")).isEqualTo(reading(null, null, null, null));
        assertThat(read("{}")).isEqualTo(reading(null, null, null, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"stop", "length", "content_filter"})
    void finishChunkCarriesItsReason(String reason) {
        ChunkReading r = read(dataOf(Chunks.finish(reason)));

        assertThat(r).isEqualTo(reading(null, reason, null, null));
        assertThat(r.hasContent()).isFalse();
    }

    @Test
    void finishReasonWithTheLastContentInTheSameChunk() {
        ChunkReading r = read("{\"id\":\"c\",\"created\":1732612345.5,\"choices\":[{\"index\":0,\"delta\":"
                + "{\"content\":\"end.\"},\"finish_reason\":\"length\"}]}");

        assertThat(r).isEqualTo(reading("end.", "length", null, null));
    }

    @Test
    void trailingUsageChunkWithEmptyChoices() {
        ChunkReading r = read(dataOf(Chunks.usage(17, 42)));

        assertThat(r).isEqualTo(reading(null, null, 17, 42));
        assertThat(r.hasUsage()).isTrue();
        assertThat(r.hasContent()).isFalse();
    }

    @Test
    void usageOnTheFinishChunkAsFoundrySendsIt() {
        ChunkReading r = read(dataOf(Chunks.finishWithUsage("stop", 9, 3)));

        assertThat(r).isEqualTo(reading(null, "stop", 9, 3));
    }

    @Test
    void usageNullIsNoUsage() {
        ChunkReading r = read("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":null}");

        assertThat(r).isEqualTo(reading("a", null, null, null));
        assertThat(r.hasUsage()).isFalse();
    }

    @Test
    void aWholeCompletionMessageIsReadLikeADelta() {
        ChunkReading r = read("{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\",\"created\":1732612345,"
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Whole answer\"},"
                + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
                + "\"total_tokens\":7}}");

        assertThat(r).isEqualTo(reading("Whole answer", "stop", 5, 2));
    }

    @Test
    void doneMarker() {
        assertThat(read("[DONE]")).isSameAs(ChunkReading.DONE);
        assertThat(read(" [DONE] ")).isSameAs(ChunkReading.DONE);
        assertThat(ChunkReading.DONE).isEqualTo(new ChunkReading(null, null, null, null, null, true));
    }

    @Test
    void anErrorObjectInsideA200StreamIsAProviderStreamError() {
        ChunkReading r = read("{\"error\":{\"message\":\"Model overloaded, please retry. Your prompt: secret\","
                + "\"type\":\"server_error\",\"code\":\"overloaded\"}}");

        assertThat(r).isEqualTo(error("provider_stream_error"));
        assertThat(r.isError()).isTrue();
    }

    @Test
    void anErrorStringInsideA200StreamIsAProviderStreamError() {
        assertThat(read("{\"error\":\"Internal server error\"}")).isEqualTo(error("provider_stream_error"));
    }

    @Test
    void aNullErrorIsNoError() {
        assertThat(read("{\"error\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}"))
                .isEqualTo(reading("ok", null, null, null));
    }

    @Test
    void errorEventTypeIsAnErrorWhateverItsData() {
        assertThat(new ChunkDecoder().read(new SseEvent("error_event",
                "{\"error\":{\"message\":\"rate limit\",\"type\":\"rate_limit_exceeded\"}}")))
                .isEqualTo(error("provider_stream_error"));
        assertThat(new ChunkDecoder().read(new SseEvent("error_event", "{\"message\":\"no error key\"}")))
                .isEqualTo(error("provider_stream_error"));
        assertThat(new ChunkDecoder().read(new SseEvent("error", "Internal Server Error")))
                .isEqualTo(error("provider_stream_error"));
    }

    @Test
    void aNonErrorEventTypeIsReadAsAChunk() {
        assertThat(new ChunkDecoder().read(new SseEvent("message", dataOf(Chunks.delta("x")))))
                .isEqualTo(reading("x", null, null, null));
    }

    @Test
    void malformedJsonIsAMalformedChunk() {
        assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"cut off")).isEqualTo(error("malformed_chunk"));
        assertThat(read("not json at all")).isEqualTo(error("malformed_chunk"));
        assertThat(read("null")).isEqualTo(error("malformed_chunk"));
    }

    /** Shapes no provider should send, read as before the decoder became a streaming one: what it relays is the same. */
    @Test
    void aValueOfTheWrongShapeIsAMalformedChunk() {
        assertThat(read("[1, 2]")).isEqualTo(error("malformed_chunk"));
        assertThat(read("42")).isEqualTo(error("malformed_chunk"));
        assertThat(read("\"text\"")).isEqualTo(error("malformed_chunk"));
        assertThat(read("")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"choices\":{\"delta\":{\"content\":\"a\"}}}")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"choices\":[\"a\"]}")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"choices\":[{\"delta\":\"a\"}]}")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"choices\":[{\"delta\":{\"content\":{\"text\":\"a\"}}}]}"))
                .isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"usage\":[17, 42]}")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"usage\":{\"prompt_tokens\":\"many\"}}")).isEqualTo(error("malformed_chunk"));
        assertThat(read("{\"usage\":{\"prompt_tokens\":3000000000}}")).isEqualTo(error("malformed_chunk"));
        assertThat(new ChunkDecoder().read(new SseEvent("error", "[1, 2]"))).isEqualTo(error("provider_stream_error"));
    }

    @Test
    void scalarsWhereTextBelongsAreReadAsTheirText() {
        assertThat(read("{\"choices\":[{\"delta\":{\"content\":42},\"finish_reason\":true}]}"))
                .isEqualTo(reading("42", "true", null, null));
        assertThat(read("{\"choices\":[{\"delta\":{\"content\":1.5}}]}")).isEqualTo(reading("1.5", null, null,
                null));
    }

    @Test
    void tokenCountsAsFloatsOrNumericTextAreWholeNumbers() {
        assertThat(read("{\"choices\":[],\"usage\":{\"prompt_tokens\":17.0,\"completion_tokens\":\"42\"}}"))
                .isEqualTo(reading(null, null, 17, 42));
        assertThat(read("{\"choices\":[],\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":5}}"))
                .isEqualTo(reading(null, null, null, 5));
    }

    @Test
    void onlyTheFirstChoiceIsReadAndUnknownFieldsAtAnyDepthAreSkipped() {
        assertThat(read("{\"x\":{\"y\":[1,{\"z\":null}]},\"choices\":[{\"index\":0,\"logprobs\":{\"content\":[{\"t\""
                + ":\"a\"}]},\"delta\":{\"content\":\"first\",\"extra\":[true]}},{\"index\":1,\"delta\":{\"content\""
                + ":\"second\"}}],\"system_fingerprint\":\"fp\"}")).isEqualTo(reading("first", null, null, null));
    }

    @Test
    void theLastOfARepeatedFieldCounts() {
        assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}"))
                .isEqualTo(reading("b", null, null, null));
    }

    @Test
    void usageDetailsAndReasoningAndToolCallsOfADelta() {
        ChunkReading r = read("{\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\",\"tool_calls\":[{\"index\":0,"
                + "\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}],\"usage\":{\"prompt_tokens\""
                + ":5,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":3},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}");
        assertThat(r.reasoning()).isEqualTo("hm");
        assertThat(r.toolCalls().toString())
                .isEqualTo("[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]");
        assertThat(List.of(r.promptTokens(), r.completionTokens(), r.cachedTokens(), r.reasoningTokens()))
                .containsExactly(5, 7, 3, 2);
        assertThat(read("{\"choices\":[{\"delta\":{\"reasoning\":\"vllm\",\"tool_calls\":null}}]}").reasoning())
                .isEqualTo("vllm");
        assertThat(read("{\"choices\":[{\"delta\":{\"reasoning\":\"vllm\",\"tool_calls\":null}}]}").toolCalls())
                .isNull();
    }

    @Test
    void theToolCallsOfAWholeMessageGetTheirIndex() {
        ChunkReading r = read("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"a\"},"
                + "{\"id\":\"b\"}]},\"finish_reason\":\"tool_calls\"}]}");
        assertThat(r.toolCalls().toString()).isEqualTo("[{\"index\":0,\"id\":\"a\"},{\"index\":1,\"id\":\"b\"}]");
        assertThat(r.finishReason()).isEqualTo("tool_calls");
    }
}
