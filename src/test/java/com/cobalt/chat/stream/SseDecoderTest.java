package com.cobalt.chat.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SSE framing of upstream bytes, split by the network at any byte. */
class SseDecoderTest {

    private final List<SseEvent> events = new ArrayList<>();
    private final SseDecoder decoder = new SseDecoder(events::add);

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static SseEvent data(String data) {
        return new SseEvent(null, data);
    }

    /** Decodes {@code bytes} fed as the given consecutive pieces (cut positions), then end(). */
    private static List<SseEvent> decodeSplitAt(byte[] bytes, int... cuts) {
        List<SseEvent> out = new ArrayList<>();
        SseDecoder d = new SseDecoder(out::add);
        int from = 0;
        for (int cut : cuts) {
            d.feed(Arrays.copyOfRange(bytes, from, cut));
            from = cut;
        }
        d.feed(Arrays.copyOfRange(bytes, from, bytes.length));
        d.end();
        return out;
    }

    /** Decodes {@code bytes} fed in pieces of {@code size} bytes (the last may be shorter), using offset/length. */
    private static List<SseEvent> decodeInPiecesOf(byte[] bytes, int size) {
        List<SseEvent> out = new ArrayList<>();
        SseDecoder d = new SseDecoder(out::add);
        for (int off = 0; off < bytes.length; off += size) {
            d.feed(bytes, off, Math.min(size, bytes.length - off));
        }
        d.end();
        return out;
    }

    /**
     * One leading byte order mark is ignored, as the SSE specification says, wherever the network splits it: the
     * first event was lost with it, and the answer stored without its first words (black-box probe). A BOM anywhere
     * else is data, and bytes that only begin like one are the line's.
     */
    @Test
    void aLeadingByteOrderMarkIsIgnoredWhereverTheNetworkSplitsIt() {
        byte[] bytes = utf8("\uFEFFdata: {\"content\":\"Bom\"}\n\ndata: \uFEFFx\n\n");
        List<SseEvent> expected = List.of(data("{\"content\":\"Bom\"}"), data("\uFEFFx"));
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(decodeSplitAt(bytes, cut)).as("split at byte %d", cut).isEqualTo(expected);
        }
        assertThat(decodeInPiecesOf(bytes, 1)).isEqualTo(expected);
        assertThat(decodeSplitAt(utf8("\uFEFF\uFEFFdata: a\n\n"), 2, 4)).as("only one BOM is the stream's")
                .isEmpty();
        assertThat(decodeSplitAt(new byte[] {(byte) 0xEF, (byte) 0xBB, 'd', 'a', 't', 'a', ':', 'b', '\n', '\n'}, 1))
                .as("EF BB that is not a BOM stays in the first line").isEmpty();
        assertThat(decodeSplitAt(utf8("data: ok\n\n"), 1)).isEqualTo(List.of(data("ok")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"é", "日本", "😀", "naïve 日本語 🎉 ok", "𝄞"})
    void multiByteCharactersSurviveASplitAtEveryByteOffset(String text) {
        byte[] bytes = utf8("data: {\"content\":\"" + text + "\"}\n\n");
        List<SseEvent> expected = List.of(data("{\"content\":\"" + text + "\"}"));
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(decodeSplitAt(bytes, cut)).as("split at byte %d", cut).isEqualTo(expected);
        }
        for (int a = 0; a <= bytes.length; a++) {
            for (int b = a; b <= bytes.length; b++) {
                assertThat(decodeSplitAt(bytes, a, b)).as("split at bytes %d and %d", a, b).isEqualTo(expected);
            }
        }
        assertThat(decodeInPiecesOf(bytes, 1)).as("one byte per feed").isEqualTo(expected);
    }

    @Test
    void aFourByteEmojiFedOneByteAtATimeIsDeliveredOnlyWithTheBlankLine() {
        byte[] emoji = utf8("😀");
        assertThat(emoji).hasSize(4);
        decoder.feed(utf8("data: "));
        for (byte b : emoji) {
            decoder.feed(new byte[] {b});
            assertThat(events).isEmpty();
        }
        decoder.feed(utf8("\n"));
        assertThat(events).isEmpty();
        decoder.feed(utf8("\n"));

        assertThat(events).containsExactly(data("😀"));
    }

    @Test
    void crlfWithTheCrAndTheLfInDifferentFeeds() {
        decoder.feed(utf8("data: one\r"));
        assertThat(events).isEmpty();
        decoder.feed(utf8("\n\r"));
        // the CR alone ends the blank line: the event is whole, its LF not needed to know it
        assertThat(events).containsExactly(data("one"));
        decoder.feed(utf8("\n"));
        decoder.feed(utf8("data: two\r"));
        decoder.feed(utf8("\n"));
        decoder.feed(utf8("\r"));
        decoder.feed(utf8("\ndata: three\r\n\r\n"));

        assertThat(events).containsExactly(data("one"), data("two"), data("three"));
    }

    @Test
    void crlfEventSplitAtEveryByteGivesTheSameEvent() {
        byte[] bytes = utf8("event: message\r\ndata: {\"a\":\"é\"}\r\n\r\n");
        List<SseEvent> expected = List.of(new SseEvent("message", "{\"a\":\"é\"}"));
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(decodeSplitAt(bytes, cut)).as("split at byte %d", cut).isEqualTo(expected);
        }
    }

    /** The SSE specification's third line ending: a CR alone (taken for a broken stream before, black-box probe). */
    @Test
    void crOnlyLinesAtEverySplit() {
        byte[] bytes = utf8("event: message\rdata: {\"a\":\"é\"}\r\r: comment\rdata: two\r\rdata: [DONE]\r\r");
        List<SseEvent> expected = List.of(new SseEvent("message", "{\"a\":\"é\"}"), data("two"), data("[DONE]"));
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(decodeSplitAt(bytes, cut)).as("split at byte %d", cut).isEqualTo(expected);
        }
        assertThat(decodeInPiecesOf(bytes, 1)).as("one byte per feed").isEqualTo(expected);
    }

    @Test
    void lfOnlyLines() {
        decoder.feed(utf8("data: a\n\ndata: b\n\ndata: [DONE]\n\n"));

        assertThat(events).containsExactly(data("a"), data("b"), data("[DONE]"));
    }

    @Test
    void commentLinesAreIgnored() {
        decoder.feed(utf8(": keep-alive\n\n"));
        decoder.feed(utf8(": OPENROUTER PROCESSING\n\n"));
        decoder.feed(utf8(":\n\n"));
        decoder.feed(utf8("data: {\"x\":1}\n: a comment inside an event\n\n"));
        decoder.feed(utf8(": keep-alive\r\n\r\n"));

        assertThat(events).containsExactly(data("{\"x\":1}"));
    }

    @Test
    void aCommentAloneDeliversNothingEvenAtEnd() {
        decoder.feed(utf8(": OPENROUTER PROCESSING\n"));
        decoder.end();

        assertThat(events).isEmpty();
    }

    @Test
    void eventTypeIsKeptWithItsDataAndResetAfterTheEvent() {
        decoder.feed(utf8("event: error_event\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n"));
        decoder.feed(utf8("data: after\n\n"));

        assertThat(events).containsExactly(
                new SseEvent("error_event", "{\"error\":{\"message\":\"overloaded\"}}"),
                data("after"));
    }

    @Test
    void anEventTypeWithoutDataDeliversNothingAndDoesNotLeakIntoTheNextEvent() {
        decoder.feed(utf8("event: ping\n\n"));
        decoder.feed(utf8("data: x\n\n"));

        assertThat(events).containsExactly(data("x"));
    }

    @Test
    void multiLineDataIsJoinedWithNewlines() {
        decoder.feed(utf8("data: first\ndata: second\ndata:third\ndata: \n\n"));

        assertThat(events).containsExactly(data("first\nsecond\nthird\n"));
    }

    @Test
    void onlyOneSpaceAfterTheColonIsRemoved() {
        decoder.feed(utf8("data:  two spaces\n\ndata:none\n\ndata\n\n"));

        assertThat(events).containsExactly(data(" two spaces"), data("none"), data(""));
    }

    @Test
    void idRetryAndUnknownFieldsAreIgnored() {
        decoder.feed(utf8("id: 7\nretry: 1000\nfoo: bar\ndata: x\n\n"));

        assertThat(events).containsExactly(data("x"));
    }

    @Test
    void aFinalEventWithoutItsBlankLineIsDeliveredByEnd() {
        decoder.feed(utf8("data: whole\n\ndata: [DONE]"));
        assertThat(events).containsExactly(data("whole"));

        decoder.end();

        assertThat(events).containsExactly(data("whole"), data("[DONE]"));
    }

    @Test
    void aFinalEventEndingInOneNewlineIsDeliveredByEnd() {
        decoder.feed(utf8("event: error_event\ndata: {\"error\":{}}\r\n"));
        assertThat(events).isEmpty();

        decoder.end();

        assertThat(events).containsExactly(new SseEvent("error_event", "{\"error\":{}}"));
    }

    @Test
    void endAfterACompleteStreamDeliversNothingMore() {
        decoder.feed(utf8("data: a\n\n"));
        decoder.end();

        assertThat(events).containsExactly(data("a"));
    }

    @Test
    void aLineOverMaxLineBytesFedWithoutItsEndThrows() {
        byte[] piece = new byte[64 * 1024];
        Arrays.fill(piece, (byte) 'x');
        decoder.feed(utf8("data: "));
        int fed = 6;
        while (fed + piece.length <= SseDecoder.MAX_LINE_BYTES) {
            decoder.feed(piece);
            fed += piece.length;
        }
        decoder.feed(piece, 0, SseDecoder.MAX_LINE_BYTES - fed); // exactly MAX_LINE_BYTES: still accepted

        assertThatThrownBy(() -> decoder.feed(utf8("x")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("SSE line longer than " + SseDecoder.MAX_LINE_BYTES + " bytes");
        assertThat(events).isEmpty();
    }

    @Test
    void aLineOverMaxLineBytesThatEndsInTheSameFeedThrows() {
        byte[] line = new byte[SseDecoder.MAX_LINE_BYTES + 2 + 2];
        Arrays.fill(line, (byte) 'x');
        System.arraycopy(utf8("data: "), 0, line, 0, 6);
        line[line.length - 2] = '\n';
        line[line.length - 1] = '\n';

        assertThatThrownBy(() -> decoder.feed(line))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("SSE line longer than " + SseDecoder.MAX_LINE_BYTES + " bytes");
        assertThat(events).isEmpty();
    }

    @Test
    void aLineOverMaxLineBytesWhoseEndArrivesInTheFeedThatCrossesTheLimitThrows() {
        byte[] head = new byte[SseDecoder.MAX_LINE_BYTES - 10];
        Arrays.fill(head, (byte) 'x');
        System.arraycopy(utf8("data: "), 0, head, 0, 6);
        decoder.feed(head); // under the limit so far: accepted
        byte[] tail = new byte[30 + 2];
        Arrays.fill(tail, (byte) 'x');
        tail[30] = '\n';
        tail[31] = '\n';

        assertThatThrownBy(() -> decoder.feed(tail)) // the line is MAX_LINE_BYTES + 20 bytes
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("SSE line longer than " + SseDecoder.MAX_LINE_BYTES + " bytes");
        assertThat(events).isEmpty();
    }

    @Test
    void aLineOfExactlyMaxLineBytesIsAccepted() {
        byte[] line = new byte[SseDecoder.MAX_LINE_BYTES];
        Arrays.fill(line, (byte) 'y');
        System.arraycopy(utf8("data: "), 0, line, 0, 6);
        decoder.feed(line);
        decoder.feed(utf8("\n\n"));

        assertThat(events).hasSize(1);
        assertThat(events.get(0).event()).isNull();
        assertThat(events.get(0).data()).hasSize(SseDecoder.MAX_LINE_BYTES - 6).matches("y+");
    }

    /** Azure's prompt filter chunk, deltas with multi-byte text, comments, CRLF and LF lines, an error event. */
    private static final String REALISTIC_STREAM = ""
            + ": OPENROUTER PROCESSING\n\n"
            + "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":"
            + "[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n"
            + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.123,"
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Café \"},\"finish_reason\":null}]}\r\n\r\n"
            + ": keep-alive\r\n\r\n"
            + "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"日本 😀\"}}]}\n\n"
            + "id: 3\n"
            + "data: {\"id\":\"c1\",\n"
            + "data: \"choices\":[]}\n\n"
            + "event: error_event\r\n"
            + "data: {\"error\":{\"message\":\"é\"}}\r\n\r\n"
            + "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: [DONE]";

    private static final List<SseEvent> REALISTIC_EVENTS = List.of(
            data("{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":"
                    + "[{\"prompt_index\":0,\"content_filter_results\":{}}]}"),
            data("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.123,"
                    + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Café \"},\"finish_reason\":null}]}"),
            data("{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"日本 😀\"}}]}"),
            data("{\"id\":\"c1\",\n\"choices\":[]}"),
            new SseEvent("error_event", "{\"error\":{\"message\":\"é\"}}"),
            data("{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"),
            data("[DONE]"));

    @Test
    void aRealisticStreamFedWhole() {
        decoder.feed(utf8(REALISTIC_STREAM));
        decoder.end();

        assertThat(events).isEqualTo(REALISTIC_EVENTS);
    }

    @Test
    void aRealisticStreamGivesTheSameEventsInPiecesOfEverySize() {
        byte[] bytes = utf8(REALISTIC_STREAM);
        for (int size = 1; size <= bytes.length; size++) {
            assertThat(decodeInPiecesOf(bytes, size)).as("pieces of %d bytes", size).isEqualTo(REALISTIC_EVENTS);
        }
    }

    @Test
    void aRealisticStreamGivesTheSameEventsSplitAtEveryByteOffset() {
        byte[] bytes = utf8(REALISTIC_STREAM);
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(decodeSplitAt(bytes, cut)).as("split at byte %d", cut).isEqualTo(REALISTIC_EVENTS);
        }
    }

    @Test
    void aRealisticStreamGivesTheSameEventsSplitAtEveryPairOfOffsetsAroundMultiByteCharacters() {
        byte[] bytes = utf8(REALISTIC_STREAM);
        List<Integer> inside = new ArrayList<>();
        for (int i = 0; i < bytes.length; i++) {
            if ((bytes[i] & 0xC0) == 0x80 || bytes[i] == '\n' || bytes[i] == '\r') {
                inside.add(i); // a cut just before a continuation byte or a line end
            }
        }
        for (int a : inside) {
            for (int b : inside) {
                if (b >= a) {
                    assertThat(decodeSplitAt(bytes, a, b)).as("split at %d and %d", a, b)
                            .isEqualTo(REALISTIC_EVENTS);
                }
            }
        }
    }
}
