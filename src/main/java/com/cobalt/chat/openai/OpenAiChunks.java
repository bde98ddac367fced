package com.cobalt.chat.openai;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.cobalt.chat.stream.ClientEvents;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.ToolCallIndexes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;

/**
 * One answer as OpenAI streams it: {@code chat.completion.chunk} events sharing one id, {@code created} and the
 * model id the caller asked for - a role chunk, a chunk per content delta, a finish chunk with an empty delta, then
 * (written by {@link OpenAiCompletions#respond}) the usage chunk when asked for and {@code data: [DONE]}. With
 * {@code stream_options.include_usage} every chunk carries {@code "usage": null}, as OpenAI's do. No provider field
 * (Azure's prompt filter results, SambaNova's extra usage fields) reaches the caller.
 */
public final class OpenAiChunks implements ClientFormat {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String id;
    private final long created;
    private final String model;
    private final boolean stream;
    private final boolean includeUsage;
    private boolean roleSent;
    private String deltaPrefix;
    private String deltaSuffix;
    /** The two as UTF-8 with the content's quotes, for {@link #appendDelta}. */
    private byte[] deltaHead;
    private byte[] deltaTail;
    /** For a whole chat.completion: the tool calls assembled from their deltas, by index (event loop only). */
    private final Map<Integer, ObjectNode> toolCalls = new TreeMap<>();
    /** The refusal so far; made by the first refusal piece (most answers have none, and every /v1 chat makes a format). */
    private StringBuilder refusal;

    /**
     * @param stream false: the caller wants one {@code chat.completion}; nothing is written while the answer streams
     *               in from the provider, {@link OpenAiCompletions#respond} writes it whole
     */
    public OpenAiChunks(String id, long created, String model, boolean stream, boolean includeUsage) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.stream = stream;
        this.includeUsage = includeUsage;
    }

    /** This completion's format again, with nothing assembled yet (for another provider's answer to it). */
    public OpenAiChunks again() {
        return new OpenAiChunks(id, created, model, stream, includeUsage);
    }

    public String id() {
        return id;
    }

    public long created() {
        return created;
    }

    public String model() {
        return model;
    }

    public boolean stream() {
        return stream;
    }

    public boolean includeUsage() {
        return includeUsage;
    }

    @Override
    public String delta(String content) {
        if (!stream) {
            return null;
        }
        deltaFrame();
        return role() + deltaPrefix + ClientEvents.jsonString(content) + deltaSuffix;
    }

    /** {@link #delta}'s events as UTF-8 bytes, without building their text: one per token. */
    @Override
    public boolean appendDelta(String content, Buffer out) {
        if (!stream) {
            return false;
        }
        deltaFrame();
        String role = role();
        if (!role.isEmpty()) {
            out.appendString(role);
        }
        ClientEvents.appendQuoted(out, deltaHead, content, deltaTail);
        return true;
    }

    /** The same for every delta of this stream: only the content differs (one chunk per token). */
    private void deltaFrame() {
        if (deltaPrefix == null) {
            deltaPrefix = "data: {\"id\":" + ClientEvents.jsonString(id) + ",\"object\":\"chat.completion.chunk\","
                    + "\"created\":" + created + ",\"model\":" + ClientEvents.jsonString(model)
                    + ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":";
            deltaSuffix = "},\"logprobs\":null,\"finish_reason\":null}]" + (includeUsage ? ",\"usage\":null" : "")
                    + "}\n\n";
            deltaHead = (deltaPrefix + "\"").getBytes(StandardCharsets.UTF_8);
            deltaTail = ("\"" + deltaSuffix).getBytes(StandardCharsets.UTF_8);
        }
    }

    @Override
    public String finished(String finishReason) {
        if (!stream) {
            return null;
        }
        return role() + chunk(Map.of(), finishReason);
    }

    /** A refusal is OpenAI's {@code refusal}, apart from the content, streamed and in the whole completion. */
    @Override
    public boolean refusalIsContent() {
        return false;
    }

    /**
     * A piece of a refusal: a {@code refusal} delta; for a whole completion it is kept for {@link #refusalSoFar()}.
     * An answer that begins with a refusal has OpenAI's role chunk for one, {@code "content": null, "refusal": ""}:
     * an SDK that reassembles the stream (the OpenAI SDKs' accumulators) takes the content from it, and the usual
     * role chunk's {@code "content": ""} made a refusal's content an empty string where the whole completion has
     * null (black-box probe).
     */
    @Override
    public String refusal(String text) {
        if (refusal == null) {
            refusal = new StringBuilder();
        }
        refusal.append(text);
        if (!stream) {
            return null;
        }
        Map<String, Object> delta = new LinkedHashMap<>();
        delta.put("refusal", text);
        return role(null, "") + chunk(delta, null);
    }

    /** The refusal the model wrote so far; empty when it wrote none. */
    public String refusalSoFar() {
        return refusal == null ? "" : refusal.toString();
    }

    /** A reasoning model's thinking, as DeepSeek and SambaNova stream it: a {@code reasoning_content} delta. */
    @Override
    public String reasoning(String text) {
        if (!stream) {
            return null;
        }
        Map<String, Object> delta = new LinkedHashMap<>();
        delta.put("reasoning_content", text);
        return role() + chunk(delta, null);
    }

    /**
     * Tool-call deltas exactly as the provider sent them (index, id, type, function name, argument fragments). The
     * first output of a tool-calling answer carries the role as OpenAI's does: {@code "content": null} beside the
     * calls. For a whole completion the calls are assembled instead ({@link #toolCallsSoFar()}).
     */
    @Override
    public String toolCalls(JsonNode calls) {
        if (!stream) {
            assemble(calls);
            return null;
        }
        Map<String, Object> delta = new LinkedHashMap<>();
        if (!roleSent) {
            roleSent = true;
            delta.put("role", "assistant");
            delta.put("content", null);
        }
        delta.put("tool_calls", indexed(calls));
        if (delta.containsKey("role")) {
            delta.put("refusal", null);
        }
        return chunk(delta, null);
    }

    /** Which call each tool-call delta belongs to; relayed without an index, deltas broke the SDKs' accumulators. */
    private final ToolCallIndexes toolCallIndexes = new ToolCallIndexes();

    /** The deltas with an index each: as they came when every one has its own, else copies with one put first. */
    private JsonNode indexed(JsonNode calls) {
        boolean allIndexed = true;
        for (JsonNode call : calls) {
            allIndexed &= call.has("index");
        }
        if (allIndexed) {
            calls.forEach(toolCallIndexes::of);
            return calls;
        }
        com.fasterxml.jackson.databind.node.ArrayNode out = JSON.createArrayNode();
        for (JsonNode call : calls) {
            ObjectNode copy = out.addObject().put("index", toolCallIndexes.of(call));
            call.fields().forEachRemaining(f -> {
                if (!f.getKey().equals("index")) {
                    copy.set(f.getKey(), f.getValue());
                }
            });
        }
        return out;
    }

    private void assemble(JsonNode calls) {
        for (JsonNode call : calls) {
            int index = toolCallIndexes.of(call);
            ObjectNode whole = toolCalls.get(index);
            if (whole == null) {
                whole = JSON.createObjectNode();
                whole.putNull("id");
                whole.put("type", "function");
                ObjectNode function = whole.putObject("function");
                function.putNull("name");
                function.put("arguments", "");
                toolCalls.put(index, whole);
            }
            if (call.path("id").isTextual()) {
                whole.put("id", call.get("id").asText());
            }
            if (call.path("type").isTextual()) {
                whole.put("type", call.get("type").asText());
            }
            JsonNode f = call.path("function");
            ObjectNode function = (ObjectNode) whole.get("function");
            if (f.path("name").isTextual()) {
                function.put("name", f.get("name").asText());
            }
            if (f.path("arguments").isTextual()) {
                function.put("arguments", function.get("arguments").asText() + f.get("arguments").asText());
            }
        }
    }

    /** The tool calls of a whole completion, in index order; empty when the model called none. */
    public List<ObjectNode> toolCallsSoFar() {
        return List.copyOf(toolCalls.values());
    }

    /** No chat message is stored for /v1: its error events do not say a partial answer was kept. */
    @Override
    public boolean keepsPartialAnswers() {
        return false;
    }

    @Override
    public String error(String code, String message) {
        if (!stream) {
            return null;
        }
        return OpenAiErrors.streamEvent(code, message);
    }

    /** The last chunk before [DONE] when the caller asked for usage: no choices, the answer's token counts. */
    public String usage(int promptTokens, int completionTokens) {
        Map<String, Object> m = head();
        m.put("choices", List.of());
        m.put("usage", OpenAiCompletions.usage(promptTokens, completionTokens));
        return data(m);
    }

    /** The usage chunk with the cached and reasoning parts where the provider reported them. */
    public String usage(com.cobalt.chat.store.AnswerRecord answer) {
        Map<String, Object> m = head();
        m.put("choices", List.of());
        m.put("usage", OpenAiCompletions.usage(answer));
        return data(m);
    }

    /** OpenAI's first chunk carries only the role; it goes out with the first thing there is to say. */
    private String role() {
        return role("", null);
    }

    /** The role chunk with the content and refusal it starts (OpenAI: "" and null, for a refusal null and ""). */
    private String role(String content, String refusal) {
        if (roleSent) {
            return "";
        }
        roleSent = true;
        Map<String, Object> delta = new LinkedHashMap<>();
        delta.put("role", "assistant");
        delta.put("content", content);
        delta.put("refusal", refusal);
        return chunk(delta, null);
    }

    private String chunk(Map<String, Object> delta, String finishReason) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("delta", delta);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason);
        Map<String, Object> m = head();
        m.put("choices", List.of(choice));
        if (includeUsage) {
            m.put("usage", null);
        }
        return data(m);
    }

    private Map<String, Object> head() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "chat.completion.chunk");
        m.put("created", created);
        m.put("model", model);
        m.put("system_fingerprint", null);
        return m;
    }

    private static String data(Object value) {
        try {
            return "data: " + JSON.writeValueAsString(value) + "\n\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
