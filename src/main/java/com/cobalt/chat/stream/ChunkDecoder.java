package com.cobalt.chat.stream;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads OpenAI-compatible chat.completion.chunk events as SambaNova, Azure OpenAI and Azure AI Foundry really send
 * them: Azure's first chunk with {@code "choices": []} and prompt_filter_results, chunks without {@code delta},
 * usage on a trailing {@code choices: []} chunk or on the finish chunk, a float {@code created},
 * {@code event: error_event} and {@code data: {"error":...}} inside a 200 stream.
 */
public final class ChunkDecoder {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Chunk(List<Choice> choices, Usage usage, JsonNode error) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Choice(Delta delta, Delta message, @JsonProperty("finish_reason") String finishReason) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Delta(String content) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Usage(@JsonProperty("prompt_tokens") Integer promptTokens,
                 @JsonProperty("completion_tokens") Integer completionTokens) {
    }

    static final String PROVIDER_STREAM_ERROR = "provider_stream_error";

    private ChunkDecoder() {
    }

    public static ChunkReading read(SseEvent event) {
        String data = event.data().trim();
        if ("[DONE]".equals(data)) {
            return ChunkReading.DONE;
        }
        boolean errorEvent = event.event() != null && event.event().toLowerCase().contains("error");
        Chunk chunk;
        try {
            chunk = JSON.readValue(data, Chunk.class);
        } catch (Exception e) {
            return ChunkReading.error(errorEvent ? PROVIDER_STREAM_ERROR : "malformed_chunk");
        }
        if (chunk == null) {
            return ChunkReading.error("malformed_chunk");
        }
        if (errorEvent || (chunk.error() != null && !chunk.error().isNull())) {
            // the upstream's error text may echo the prompt: only a fixed code goes to the client and the logs
            return ChunkReading.error(PROVIDER_STREAM_ERROR);
        }
        String content = null;
        String finish = null;
        if (chunk.choices() != null && !chunk.choices().isEmpty()) {
            Choice first = chunk.choices().get(0);
            if (first != null) {
                Delta d = first.delta() != null ? first.delta() : first.message();
                content = d == null ? null : d.content();
                finish = first.finishReason();
            }
        }
        Usage u = chunk.usage();
        return new ChunkReading(content, finish, u == null ? null : u.promptTokens(),
                u == null ? null : u.completionTokens(), null, false);
    }
}
