package com.cobalt.chat.record;

import java.util.List;
import java.util.Locale;

import com.cobalt.chat.store.ContextMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Counts tokens where the provider reported none (older Azure api-versions, a stream that broke before its usage
 * chunk). JTokkit is a pure-Java port of OpenAI's tiktoken with the encodings in its jar: o200k_base for the GPT-4o
 * family and later, cl100k_base otherwise. For Llama and other families that is an approximation, which is why
 * every such count is stored marked {@code estimated}.
 */
public class TokenEstimator {

    /** OpenAI's chat format adds about this many tokens per message, and this many to prime the reply. */
    private static final int PER_MESSAGE = 3;
    private static final int REPLY_PRIMING = 3;

    private final EncodingRegistry registry = Encodings.newLazyEncodingRegistry();

    public int prompt(List<ContextMessage> messages, String model) {
        Encoding encoding = encodingFor(model);
        int tokens = REPLY_PRIMING;
        for (ContextMessage m : messages) {
            tokens += message(encoding, m);
        }
        return tokens;
    }

    /** What one message adds to a prompt: prompt(messages) is the sum of these plus the reply priming. */
    public int message(ContextMessage m, String model) {
        return message(encodingFor(model), m);
    }

    private static int message(Encoding encoding, ContextMessage m) {
        int tokens = PER_MESSAGE + encoding.countTokensOrdinary(m.role()) + encoding.countTokensOrdinary(m.content());
        if (m.wire() != null) {
            JsonNode calls = m.wire().get("tool_calls");
            if (calls != null && calls.isArray()) {
                // the calls are part of the prompt as the model reads them: their names and arguments
                for (JsonNode call : calls) {
                    tokens += encoding.countTokensOrdinary(call.path("function").path("name").asText(""))
                            + encoding.countTokensOrdinary(call.path("function").path("arguments").asText(""));
                }
            }
            JsonNode content = m.wire().get("content");
            if (content != null && content.isArray()) {
                for (JsonNode part : content) {
                    if ("image_url".equals(part.path("type").asText())) {
                        tokens += ImageTokens.of(part.path("image_url"));
                    }
                }
            }
        }
        return tokens;
    }

    public int completion(String text, String model) {
        return text == null || text.isEmpty() ? 0 : encodingFor(model).countTokensOrdinary(text);
    }

    /** Completion texts counted each on its own: tool calls' names and arguments, a refusal (StreamOutcome). */
    public int completion(List<String> texts, String model) {
        int tokens = 0;
        for (String text : texts) {
            tokens += completion(text, model);
        }
        return tokens;
    }

    /**
     * What a request's definitions add to its prompt: the model reads them and the provider bills them as prompt
     * tokens. Each tool's name, description and parameters schema (as compact JSON), and a {@code json_schema}
     * response format's name and schema; null or absent adds nothing. OpenAI renders them its own way, so this is
     * an approximation like the rest.
     */
    public int definitions(JsonNode tools, JsonNode responseFormat, String model) {
        Encoding encoding = encodingFor(model);
        int tokens = 0;
        if (tools != null && tools.isArray()) {
            for (JsonNode tool : tools) {
                JsonNode function = tool.path("function");
                tokens += text(encoding, function.path("name")) + text(encoding, function.path("description"))
                        + json(encoding, function.path("parameters"));
            }
        }
        if (responseFormat != null) {
            JsonNode schema = responseFormat.path("json_schema");
            tokens += text(encoding, schema.path("name")) + json(encoding, schema.path("schema"));
        }
        return tokens;
    }

    private static int text(Encoding encoding, JsonNode node) {
        return node.isTextual() ? encoding.countTokensOrdinary(node.asText()) : 0;
    }

    private static int json(Encoding encoding, JsonNode node) {
        return node.isContainerNode() ? encoding.countTokensOrdinary(node.toString()) : 0;
    }

    Encoding encodingFor(String model) {
        String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
        boolean o200k = m.contains("gpt-4o") || m.contains("gpt-4.1") || m.contains("gpt-5") || m.startsWith("o1")
                || m.startsWith("o3") || m.startsWith("o4") || m.contains("chatgpt-4o");
        return registry.getEncoding(o200k ? EncodingType.O200K_BASE : EncodingType.CL100K_BASE);
    }
}
