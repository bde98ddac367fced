package com.cobalt.chat.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
}
