package com.cobalt.chat.openai;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.cobalt.chat.config.CatalogModel;
import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.RequestBodies;
import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.store.ContextMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;

/**
 * Parses and validates OpenAI's chat completion request. What the gateway carries is taken: text, tools
 * ({@code tools}, {@code tool_choice}, {@code parallel_tool_calls}, assistant {@code tool_calls} and {@code tool}
 * messages), structured output ({@code response_format}), {@code reasoning_effort} and {@code image_url} parts - the
 * last four passed upstream verbatim. A feature it does not carry (the deprecated functions, audio, files, several
 * choices, log probabilities, any other parameter) is refused with a 400 naming the parameter, never silently
 * dropped. A parameter sent as null, or at the value that
 * means "off" ({@code n: 1}, {@code logprobs: false}, {@code tools: []}, ...), asks for nothing and is accepted.
 * Error messages name parameters, never quote their values.
 */
public class OpenAiRequests {

    static final String INVALID_TYPE = "invalid_type";
    static final String INVALID_VALUE = "invalid_value";
    static final String MISSING = "missing_required_parameter";
    static final String UNSUPPORTED = "unsupported_parameter";
    static final String UNSUPPORTED_VALUE = "unsupported_value";
    static final String TOO_LONG = "string_above_max_length";

    private static final int MAX_STOP_SEQUENCES = 4;
    private static final int MAX_USER_LENGTH = 256;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final Set<String> RESPONSE_FORMATS = Set.of("text", "json_object", "json_schema");
    private static final int MAX_REASONING_EFFORT_LENGTH = 32;
    /** An answer's thinking as the gateway (and DeepSeek, gpt-oss) return it: taken back, never sent upstream. */
    private static final List<String> REASONING_FIELDS = List.of("reasoning_content", "reasoning");

    /** Why a parameter the gateway does not carry is refused. */
    private static final Map<String, String> NOT_CARRIED = Map.ofEntries(
            Map.entry("functions", "the deprecated function calling is not supported by this gateway; use 'tools'"),
            Map.entry("function_call", "the deprecated function calling is not supported by this gateway; use"
                    + " 'tool_choice'"),
            Map.entry("n", "the gateway returns exactly one choice; n must be 1"),
            Map.entry("logprobs", "log probabilities are not supported by this gateway"),
            Map.entry("top_logprobs", "log probabilities are not supported by this gateway"),
            Map.entry("audio", "audio is not supported by this gateway"),
            Map.entry("modalities", "only text output is supported by this gateway"));

    private final int maxTokens;
    private final int maxMessageLength;

    public OpenAiRequests(int maxTokens, int maxMessageLength) {
        this.maxTokens = maxTokens;
        this.maxMessageLength = maxMessageLength;
    }

    public ChatCompletionRequest parse(Exchange exchange) {
        JsonNode doc = RequestBodies.jsonObject(exchange, true);
        String model = null;
        List<ContextMessage> messages = null;
        Integer maxTokensAsked = null;
        Integer maxCompletionTokens = null;
        Double temperature = null;
        Double topP = null;
        List<String> stop = null;
        boolean stream = false;
        JsonNode streamOptions = null;
        String user = null;
        Map<String, JsonNode> passThrough = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                continue; // null asks for the default: nothing to carry or to drop
            }
            switch (name) {
                case "model" -> model = nonEmptyString(value, "model");
                case "messages" -> messages = messages(value);
                case "max_tokens" -> maxTokensAsked = positiveInt(value, "max_tokens");
                case "max_completion_tokens" -> maxCompletionTokens = positiveInt(value, "max_completion_tokens");
                case "temperature" -> temperature = number(value, "temperature", 0, 2);
                case "top_p" -> topP = number(value, "top_p", 0, 1);
                case "stop" -> stop = stop(value);
                case "stream" -> stream = bool(value, "stream");
                case "stream_options" -> streamOptions = value;
                case "user" -> user = user(value);
                case "tools" -> tools(value, passThrough);
                case "tool_choice" -> passThrough.put(name, toolChoice(value));
                case "parallel_tool_calls" -> passThrough.put(name, boolNode(value, name));
                case "response_format" -> responseFormat(value, passThrough);
                case "reasoning_effort" -> passThrough.put(name, reasoningEffort(value));
                default -> refuseUnlessOff(name, value);
            }
        }
        if (messages == null) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: 'messages'.", "messages");
        }
        if (!passThrough.containsKey("tools")) {
            // without tools there is nothing to choose or to call in parallel: asking for nothing, sent nowhere
            for (String param : List.of("tool_choice", "parallel_tool_calls")) {
                JsonNode v = passThrough.remove(param);
                if (v != null && !(v.isBoolean() || (v.isTextual() && v.asText().equals("none")))) {
                    throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + param + "': only allowed when 'tools'"
                            + " are given.", param);
                }
            }
        }
        boolean includeUsage = false;
        if (streamOptions != null) {
            if (!stream) {
                throw ApiError.invalidParam(INVALID_VALUE,
                        "'stream_options' is only allowed when 'stream' is true.", "stream_options");
            }
            includeUsage = includeUsage(streamOptions);
        }
        Integer asked = maxCompletionTokens != null ? maxCompletionTokens : maxTokensAsked;
        int tokens = asked == null ? maxTokens : Math.min(asked, maxTokens);
        return new ChatCompletionRequest(model, messages,
                new CompletionOptions(tokens, temperature, topP, stop, passThrough), stream, includeUsage, user,
                needs(messages, passThrough));
    }

    private List<ContextMessage> messages(JsonNode value) {
        if (!value.isArray()) {
            throw invalidType("messages", "an array");
        }
        if (value.isEmpty()) {
            throw ApiError.invalidParam("empty_array",
                    "Invalid 'messages': empty array. Expected at least one message.", "messages");
        }
        List<ContextMessage> out = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            out.add(message(value.get(i), "messages[" + i + "]", i == value.size() - 1));
        }
        return out;
    }

    /**
     * One message. A plain one (a role and a text) is carried as its role and text; one that is more - an assistant
     * message with {@code tool_calls}, a {@code tool} result, image parts, a {@code name} - is sent upstream exactly
     * as the caller wrote it. Only the new user turn - the last message, when it is the user's - is held to
     * CHAT_MAX_MESSAGE_LENGTH, as a session message is: the earlier ones are the conversation so far (the gateway's
     * own answers, tool results), bounded by the body limit and the model's context window, not by the cap. An
     * assistant message's {@code reasoning_content} / {@code reasoning} (the thinking the gateway itself returns in
     * {@code choices[0].message}) is accepted and dropped: providers refuse it as input (DeepSeek documents a 400).
     */
    private ContextMessage message(JsonNode m, String at, boolean last) {
        if (!m.isObject()) {
            throw invalidType(at, "an object");
        }
        String role = null;
        Content content = null;
        boolean hasContent = false;
        boolean toolCalls = false;
        boolean toolCallId = false;
        boolean name = false;
        boolean refusal = false;
        String reasoning = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            JsonNode value = field.getValue();
            switch (key) {
                case "role" -> role = role(value, at + ".role");
                case "content" -> {
                    hasContent = !value.isNull();
                    content = hasContent ? content(value, at + ".content") : null;
                }
                case "tool_calls" -> toolCalls = toolCalls(value, at + ".tool_calls");
                case "tool_call_id" -> toolCallId = !value.isNull() && nonEmptyString(value, at + ".tool_call_id") != null;
                case "name" -> name = !value.isNull() && nonEmptyString(value, at + ".name") != null;
                case "refusal" -> {
                    if (!value.isNull() && !value.isTextual()) {
                        throw invalidType(at + ".refusal", "a string");
                    }
                    refusal = !value.isNull();
                }
                case "reasoning_content", "reasoning" -> {
                    if (!value.isNull() && !value.isTextual()) {
                        throw invalidType(at + "." + key, "a string");
                    }
                    if (!value.isNull() && reasoning == null) {
                        reasoning = key;
                    }
                }
                default -> {
                    if (!isOff(value)) {
                        throw unsupported(at + "." + key, key.startsWith("function")
                                ? "the deprecated function calling is not supported by this gateway; use 'tool_calls'"
                                : "message fields other than 'role', 'content', 'name', 'tool_calls' and"
                                + " 'tool_call_id' are not supported by this gateway");
                    }
                }
            }
        }
        if (role == null) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".role'.", at + ".role");
        }
        if (reasoning != null && !"assistant".equals(role)) {
            throw unsupported(at + "." + reasoning, "only an assistant message carries reasoning");
        }
        if (refusal && !"assistant".equals(role)) {
            throw unsupported(at + ".refusal", "only an assistant message carries a refusal");
        }
        if (content != null && content.refusals() > 0 && !"assistant".equals(role)) {
            throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + at + ".content': refusal parts are only"
                    + " allowed in assistant messages.", at + ".content");
        }
        if (last && "user".equals(role) && content != null
                && content.text().codePointCount(0, content.text().length()) > maxMessageLength) {
            throw ApiError.invalidParam(TOO_LONG, "Invalid '" + at + ".content': string too long. Expected at most "
                    + maxMessageLength + " characters.", at + ".content");
        }
        if (toolCalls && !"assistant".equals(role)) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at + ".tool_calls': only assistant messages"
                    + " call tools.", at + ".tool_calls");
        }
        if ("tool".equals(role) && !toolCallId) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".tool_call_id'.",
                    at + ".tool_call_id");
        }
        if (toolCallId && !"tool".equals(role)) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at + ".tool_call_id': only tool messages"
                    + " answer a tool call.", at + ".tool_call_id");
        }
        if (!hasContent && !toolCalls && !refusal) {
            // an assistant message that only calls tools, or only refuses (as the SDKs hand back a refusal), has no
            // content; every other message needs one
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".content'.", at + ".content");
        }
        if (content != null && content.images() > 0 && !"user".equals(role)) {
            throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + at + ".content': image parts are only"
                    + " allowed in user messages.", at + ".content");
        }
        // counted as the prompt's text: a refusal the model wrote is context like its content
        String text = (content == null ? "" : content.text()) + (refusal ? m.get("refusal").asText() : "");
        // text parts are joined as before; a message with images, tool calls, a tool result, a name or a refusal
        // goes as sent
        boolean plain = !toolCalls && !toolCallId && !name && !refusal
                && (content == null || content.images() == 0 && content.refusals() == 0);
        String upstreamRole = "developer".equals(role) ? "system" : role;
        if (plain) {
            return new ContextMessage(upstreamRole, text);
        }
        return new ContextMessage(upstreamRole, text, forUpstream(m, upstreamRole));
    }

    /**
     * The message as sent, less the reasoning fields (in their order otherwise) and with the role the provider is
     * sent ({@code developer} as {@code system}, as for a plain message); the message itself when nothing changes.
     */
    private static JsonNode forUpstream(JsonNode m, String role) {
        if (REASONING_FIELDS.stream().noneMatch(m::has) && role.equals(m.get("role").asText())) {
            return m;
        }
        ObjectNode copy = ((ObjectNode) m).deepCopy();
        copy.remove(REASONING_FIELDS);
        copy.put("role", role);
        return copy;
    }

    /**
     * A message's content: its text (the text and refusal parts joined), whether it came as parts, how many images
     * and refusal parts.
     */
    private record Content(String text, boolean parts, int images, int refusals) {
    }

    /** {@code tool_calls}: an array of calls, each with an id, a type and (for functions) a name and arguments. */
    private static boolean toolCalls(JsonNode value, String at) {
        if (value.isNull()) {
            return false;
        }
        if (!value.isArray()) {
            throw invalidType(at, "an array");
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode call = value.get(i);
            String callAt = at + "[" + i + "]";
            if (!call.isObject()) {
                throw invalidType(callAt, "an object");
            }
            for (String required : List.of("id", "type")) {
                if (!call.path(required).isTextual()) {
                    throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + callAt + "." + required
                            + "'.", callAt + "." + required);
                }
            }
        }
        return !value.isEmpty();
    }

    /** {@code tools}: an array of tool definitions ({@code {"type":"function","function":{"name":...}}}); [] is off. */
    private static void tools(JsonNode value, Map<String, JsonNode> passThrough) {
        if (!value.isArray()) {
            throw invalidType("tools", "an array");
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode tool = value.get(i);
            String at = "tools[" + i + "]";
            if (!tool.isObject()) {
                throw invalidType(at, "an object");
            }
            if (!tool.path("type").isTextual()) {
                throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".type'.", at + ".type");
            }
            if ("function".equals(tool.get("type").asText()) && !tool.path("function").path("name").isTextual()) {
                throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".function.name'.",
                        at + ".function.name");
            }
        }
        if (!value.isEmpty()) {
            passThrough.put("tools", value);
        }
    }

    /** {@code tool_choice}: none, auto, required, or an object naming a tool. */
    private static JsonNode toolChoice(JsonNode value) {
        if (value.isTextual()) {
            if (!Set.of("none", "auto", "required").contains(value.asText())) {
                throw ApiError.invalidParam(INVALID_VALUE, "Invalid 'tool_choice': expected one of 'none', 'auto',"
                        + " 'required', or an object naming a tool.", "tool_choice");
            }
            return value;
        }
        if (!value.isObject() || !value.path("type").isTextual()) {
            throw invalidType("tool_choice", "a string or an object with a 'type'");
        }
        return value;
    }

    /** {@code response_format}: text (the default, not sent), json_object, or json_schema with its schema. */
    private static void responseFormat(JsonNode value, Map<String, JsonNode> passThrough) {
        if (!value.isObject()) {
            throw invalidType("response_format", "an object");
        }
        JsonNode type = value.get("type");
        if (type == null || !type.isTextual()) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: 'response_format.type'.",
                    "response_format.type");
        }
        if (!RESPONSE_FORMATS.contains(type.asText())) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid 'response_format.type': expected one of 'text',"
                    + " 'json_object', 'json_schema'.", "response_format.type");
        }
        if ("json_schema".equals(type.asText()) && !value.path("json_schema").isObject()) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: 'response_format.json_schema'.",
                    "response_format.json_schema");
        }
        if (!"text".equals(type.asText())) {
            passThrough.put("response_format", value);
        }
    }

    private static JsonNode reasoningEffort(JsonNode value) {
        String effort = nonEmptyString(value, "reasoning_effort");
        if (effort.length() > MAX_REASONING_EFFORT_LENGTH) {
            throw ApiError.invalidParam(TOO_LONG, "Invalid 'reasoning_effort': string too long.", "reasoning_effort");
        }
        return value;
    }

    /** What the request needs of the model, in the catalog's order of capabilities. */
    private static List<String> needs(List<ContextMessage> messages, Map<String, JsonNode> passThrough) {
        boolean tools = passThrough.containsKey("tools");
        boolean vision = false;
        for (ContextMessage m : messages) {
            if (m.wire() != null) {
                tools |= m.wire().has("tool_calls") && !m.wire().get("tool_calls").isNull() || "tool".equals(m.role());
                vision |= hasImage(m.wire().get("content"));
            }
        }
        List<String> needs = new ArrayList<>();
        if (tools) {
            needs.add(CatalogModel.TOOLS);
        }
        if (passThrough.containsKey("response_format")) {
            needs.add(CatalogModel.JSON_SCHEMA);
        }
        if (vision) {
            needs.add(CatalogModel.VISION);
        }
        if (passThrough.containsKey("reasoning_effort")) {
            needs.add(CatalogModel.REASONING);
        }
        return needs;
    }

    private static boolean hasImage(JsonNode content) {
        if (content == null || !content.isArray()) {
            return false;
        }
        for (JsonNode part : content) {
            if ("image_url".equals(part.path("type").asText())) {
                return true;
            }
        }
        return false;
    }

    private static String role(JsonNode value, String at) {
        if (!value.isTextual()) {
            throw invalidType(at, "a string");
        }
        String role = value.asText();
        if (ROLES.contains(role)) {
            return role;
        }
        if ("function".equals(role)) {
            throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + at + "': the role 'function' is not"
                    + " supported; the deprecated function calling is not supported by this gateway, use 'tool'.", at);
        }
        throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at
                + "': expected one of 'system', 'developer', 'user', 'assistant', 'tool'.", at);
    }

    /**
     * A string, or an array of text, image_url and (an assistant's) refusal parts (the text joined); audio and file
     * parts are refused.
     */
    private static Content content(JsonNode value, String at) {
        String text;
        int images = 0;
        int refusals = 0;
        if (value.isTextual()) {
            text = value.asText();
        } else if (value.isArray()) {
            StringBuilder b = new StringBuilder();
            for (int j = 0; j < value.size(); j++) {
                JsonNode part = value.get(j);
                String partAt = at + "[" + j + "]";
                if (!part.isObject()) {
                    throw invalidType(partAt, "an object");
                }
                JsonNode type = part.get("type");
                if (type == null || !type.isTextual()) {
                    throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + partAt + ".type'.",
                            partAt + ".type");
                }
                if ("image_url".equals(type.asText())) {
                    imageUrl(part.get("image_url"), partAt + ".image_url");
                    images++;
                    continue;
                }
                if ("refusal".equals(type.asText())) {
                    // an assistant's refusal, as OpenAI's assistant message parts carry it
                    JsonNode r = part.get("refusal");
                    if (r == null || !r.isTextual()) {
                        throw invalidType(partAt + ".refusal", "a string");
                    }
                    b.append(r.asText());
                    refusals++;
                    continue;
                }
                if (!"text".equals(type.asText())) {
                    throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + partAt
                            + ".type': only 'text', 'image_url' and (in assistant messages) 'refusal' content parts"
                            + " are supported by this gateway (no audio or files).", partAt + ".type");
                }
                JsonNode t = part.get("text");
                if (t == null || !t.isTextual()) {
                    throw invalidType(partAt + ".text", "a string");
                }
                b.append(t.asText());
            }
            text = b.toString();
        } else {
            throw invalidType(at, "a string");
        }
        return new Content(text, value.isArray(), images, refusals);
    }

    /** {@code {"url": "https://..." | "data:image/...;base64,...", "detail"?: "auto" | "low" | "high"}}. */
    private static void imageUrl(JsonNode image, String at) {
        if (image == null || !image.isObject()) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + "'.", at);
        }
        JsonNode url = image.get("url");
        if (url == null || !url.isTextual()) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".url'.", at + ".url");
        }
        String u = url.asText();
        if (!(u.startsWith("https://") || u.startsWith("http://") || u.startsWith("data:image/"))) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at + ".url': expected an http(s) URL or a"
                    + " data URL of an image.", at + ".url");
        }
        JsonNode detail = image.get("detail");
        if (detail != null && !detail.isNull()
                && !(detail.isTextual() && Set.of("auto", "low", "high").contains(detail.asText()))) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at + ".detail': expected one of 'auto', 'low',"
                    + " 'high'.", at + ".detail");
        }
    }

    /**
     * The stop sequences worth sending. An empty string is no stop sequence (OpenAI stops on none for it), but an
     * OpenAI-compatible provider may take it as one that matches at once, or buffer for it: it is dropped, and a
     * {@code stop} of only empty strings is sent as no {@code stop} at all (an empty list, which the request body
     * leaves out). The limit of four counts the items as the caller sent them.
     */
    private static List<String> stop(JsonNode value) {
        List<String> out = new ArrayList<>();
        if (value.isTextual()) {
            if (!value.asText().isEmpty()) {
                out.add(value.asText());
            }
        } else if (value.isArray()) {
            if (value.size() > MAX_STOP_SEQUENCES) {
                throw ApiError.invalidParam(INVALID_VALUE, "Invalid 'stop': at most " + MAX_STOP_SEQUENCES
                        + " stop sequences are allowed.", "stop");
            }
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isTextual()) {
                    throw invalidType("stop[" + i + "]", "a string");
                }
                if (!value.get(i).asText().isEmpty()) {
                    out.add(value.get(i).asText());
                }
            }
        } else {
            throw invalidType("stop", "a string or an array of strings");
        }
        return out;
    }

    private static boolean includeUsage(JsonNode options) {
        if (!options.isObject()) {
            throw invalidType("stream_options", "an object");
        }
        boolean include = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = options.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode value = field.getValue();
            if ("include_usage".equals(field.getKey())) {
                include = !value.isNull() && bool(value, "stream_options.include_usage");
            } else if (!isOff(value)) {
                throw unsupported("stream_options." + field.getKey(), "only 'include_usage' is supported");
            }
        }
        return include;
    }

    private static String user(JsonNode value) {
        String user = nonEmptyString(value, "user");
        if (user.length() > MAX_USER_LENGTH) {
            throw ApiError.invalidParam(TOO_LONG, "Invalid 'user': string too long. Expected at most "
                    + MAX_USER_LENGTH + " characters.", "user");
        }
        return user;
    }

    /** A parameter the gateway does not carry: accepted only at the value that asks for nothing. */
    private static void refuseUnlessOff(String name, JsonNode value) {
        boolean off = switch (name) {
            case "n" -> value.isIntegralNumber() && value.asLong() == 1;
            case "modalities" -> value.isArray() && value.size() == 1 && "text".equals(value.get(0).asText());
            case "presence_penalty", "frequency_penalty" -> value.isNumber() && value.asDouble() == 0;
            default -> isOff(value);
        };
        if (!off) {
            throw unsupported(name, NOT_CARRIED.getOrDefault(name, "this parameter is not supported by this gateway"));
        }
    }

    /** false, an empty array or an empty object: asks for nothing. */
    private static boolean isOff(JsonNode value) {
        return value.isNull() || (value.isBoolean() && !value.asBoolean())
                || (value.isContainerNode() && value.isEmpty());
    }

    private static ApiError unsupported(String param, String why) {
        return ApiError.invalidParam(UNSUPPORTED, "Unsupported parameter: '" + param + "': " + why + ".", param);
    }

    private static ApiError invalidType(String param, String expected) {
        return ApiError.invalidParam(INVALID_TYPE, "Invalid type for '" + param + "': expected " + expected + ".",
                param);
    }

    private static String nonEmptyString(JsonNode value, String param) {
        if (!value.isTextual()) {
            throw invalidType(param, "a string");
        }
        if (value.asText().isBlank()) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + param + "': must not be empty.", param);
        }
        return value.asText();
    }

    /** A whole number of at least 1; one past the int range is still one (a token cap: it is capped anyway). */
    private static int positiveInt(JsonNode value, String param) {
        if (!value.isIntegralNumber()) {
            throw invalidType(param, "an integer");
        }
        if (!value.canConvertToInt() && value.bigIntegerValue().signum() > 0) {
            return Integer.MAX_VALUE;
        }
        if (!value.canConvertToInt() || value.asInt() < 1) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + param + "': must be at least 1.", param);
        }
        return value.asInt();
    }

    private static double number(JsonNode value, String param, double min, double max) {
        if (!value.isNumber()) {
            throw invalidType(param, "a number");
        }
        double d = value.asDouble();
        if (d < min || d > max) {
            throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + param + "': must be between " + fmt(min)
                    + " and " + fmt(max) + ".", param);
        }
        return d;
    }

    private static JsonNode boolNode(JsonNode value, String param) {
        bool(value, param);
        return value;
    }

    private static boolean bool(JsonNode value, String param) {
        if (!value.isBoolean()) {
            throw invalidType(param, "a boolean");
        }
        return value.asBoolean();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
