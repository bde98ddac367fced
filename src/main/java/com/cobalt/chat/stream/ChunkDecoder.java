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
    record Delta(String content, @JsonProperty("reasoning_content") String reasoningContent, String reasoning,
                 @JsonProperty("tool_calls") JsonNode toolCalls) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Usage(@JsonProperty("prompt_tokens") Integer promptTokens,
                 @JsonProperty("completion_tokens") Integer completionTokens,
                 @JsonProperty("prompt_tokens_details") Details promptDetails,
                 @JsonProperty("completion_tokens_details") Details completionDetails) {
    }

    /** OpenAI's (and Azure's, and SambaNova's where it reports them) breakdown of the two counts. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Details(@JsonProperty("cached_tokens") Integer cachedTokens,
                   @JsonProperty("reasoning_tokens") Integer reasoningTokens) {
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
        String reasoning = null;
        JsonNode toolCalls = null;
        String finish = null;
        if (chunk.choices() != null && !chunk.choices().isEmpty()) {
            // Azure's asynchronous content-filter chunks have a choice without delta: nothing to relay, no break
            Choice first = chunk.choices().get(0);
            if (first != null) {
                Delta d = first.delta() != null ? first.delta() : first.message();
                if (d != null) {
                    content = d.content();
                    // DeepSeek and SambaNova name it reasoning_content; vLLM-style servers (gpt-oss) reasoning
                    reasoning = d.reasoningContent() != null ? d.reasoningContent() : d.reasoning();
                    toolCalls = d.toolCalls() == null || d.toolCalls().isNull() ? null : d.toolCalls();
                    if (toolCalls != null && first.delta() == null) {
                        toolCalls = indexed(toolCalls);
                    }
                }
                finish = first.finishReason();
            }
        }
        Usage u = chunk.usage();
        Details pd = u == null ? null : u.promptDetails();
        Details cd = u == null ? null : u.completionDetails();
        return new ChunkReading(content, reasoning, toolCalls, finish, u == null ? null : u.promptTokens(),
                u == null ? null : u.completionTokens(), pd == null ? null : pd.cachedTokens(),
                cd == null ? null : cd.reasoningTokens(), null, false);
    }

    /**
     * The tool calls of a whole message (a JSON answer replayed as a stream) carry no {@code index}; as deltas they
     * need one, in order.
     */
    private static JsonNode indexed(JsonNode calls) {
        if (!calls.isArray()) {
            return calls;
        }
        com.fasterxml.jackson.databind.node.ArrayNode out = JSON.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            JsonNode call = calls.get(i);
            if (call.isObject() && !call.has("index")) {
                com.fasterxml.jackson.databind.node.ObjectNode c = JSON.createObjectNode();
                c.put("index", i);
                c.setAll((com.fasterxml.jackson.databind.node.ObjectNode) call);
                out.add(c);
            } else {
                out.add(call);
            }
        }
        return out;
    }
}
