package com.cobalt.chat.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.cobalt.chat.openai.OpenAiChunks;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The delta event is built as text for speed: it must be byte for byte what Jackson writes, for any content. */
class ClientEventsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"Hello", "", " ", "say \"hi\"", "back\\slash", "line\nbreak\r\ttab", "\u0000\u001f\u007f",
            "</script>", "caf\u00e9 \u4f60\u597d \ud83d\ude00", "\u2028\u2029", "{\"content\":1}"})
    void aDeltaIsExactlyWhatJacksonWouldWrite(String content) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("content", content);
        m.put("done", false);

        String event = ClientEvents.delta(content);

        assertThat(event).isEqualTo("data: " + JSON.writeValueAsString(m) + "\n\n");
        JsonNode parsed = JSON.readTree(event.substring("data: ".length()));
        assertThat(parsed.get("content").asText()).isEqualTo(content);
    }

    /**
     * The relay appends each delta as bytes: the same bytes as the text event, for both formats and any content -
     * a lone surrogate (a provider's {@code "\\ud800"}) included, which goes out as {@code ?} either way.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Hello", "", " ", "say \"hi\"", "back\\slash", "line\nbreak\r\ttab", "\u0000\u001f\u007f",
            "</script>", "caf\u00e9 \u4f60\u597d \ud83d\ude00", "\u2028\u2029", "{\"content\":1}", "lone \ud800 high",
            "lone \udc00 low", "\ud83d", "end \ud83d\ude00\ud83d"})
    void aDeltaAppendedAsBytesIsTheTextEventsUtf8(String content) {
        Buffer session = Buffer.buffer();
        assertThat(ClientFormat.SESSION.appendDelta(content, session)).isTrue();
        assertThat(session.getBytes()).isEqualTo(ClientEvents.delta(content).getBytes(StandardCharsets.UTF_8));

        for (boolean includeUsage : new boolean[] {false, true}) {
            OpenAiChunks asText = new OpenAiChunks("chatcmpl-1", 1733180000L, "gpt-4o \"mini\"", true, includeUsage);
            OpenAiChunks asBytes = new OpenAiChunks("chatcmpl-1", 1733180000L, "gpt-4o \"mini\"", true, includeUsage);
            for (int i = 0; i < 2; i++) { // the first carries the role chunk before it
                Buffer out = Buffer.buffer();
                assertThat(asBytes.appendDelta(content, out)).isTrue();
                assertThat(out.getBytes()).isEqualTo(asText.delta(content).getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    /** A caller who asked for one whole chat.completion gets nothing while the answer streams in. */
    @ParameterizedTest
    @ValueSource(strings = {"Hello", "\ud800"})
    void aWholeCompletionAppendsNoDelta(String content) {
        Buffer out = Buffer.buffer();

        assertThat(new OpenAiChunks("chatcmpl-1", 1L, "m", false, false).appendDelta(content, out)).isFalse();
        assertThat(out.length()).isZero();
    }
}
