package com.cobalt.chat.openai;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.cobalt.chat.http.ApiError;
import com.cobalt.chat.http.RequestBodies;
import com.cobalt.chat.provider.CompletionOptions;
import com.cobalt.chat.store.ContextMessage;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;

/**
 * Parses and validates OpenAI's chat completion request. What the gateway carries is taken; a feature it does not
 * carry (tools and function calling, images, audio, several choices, log probabilities, any other parameter) is
 * refused with a 400 naming the parameter, never silently dropped. A parameter sent as null, or at the value that
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
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    /** Why a parameter the gateway does not carry is refused. */
    private static final Map<String, String> NOT_CARRIED = Map.ofEntries(
            Map.entry("tools", "tool and function calling is not supported by this gateway"),
            Map.entry("tool_choice", "tool and function calling is not supported by this gateway"),
            Map.entry("functions", "tool and function calling is not supported by this gateway"),
            Map.entry("function_call", "tool and function calling is not supported by this gateway"),
            Map.entry("parallel_tool_calls", "tool and function calling is not supported by this gateway"),
            Map.entry("n", "the gateway returns exactly one choice; n must be 1"),
            Map.entry("logprobs", "log probabilities are not supported by this gateway"),
            Map.entry("top_logprobs", "log probabilities are not supported by this gateway"),
            Map.entry("audio", "audio is not supported by this gateway"),
            Map.entry("modalities", "only text output is supported by this gateway"),
            Map.entry("response_format", "only plain text responses are supported by this gateway"));

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
                default -> refuseUnlessOff(name, value);
            }
        }
        if (messages == null) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: 'messages'.", "messages");
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
        return new ChatCompletionRequest(model, messages, new CompletionOptions(tokens, temperature, topP, stop),
                stream, includeUsage, user);
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
            out.add(message(value.get(i), "messages[" + i + "]"));
        }
        return out;
    }

    private ContextMessage message(JsonNode m, String at) {
        if (!m.isObject()) {
            throw invalidType(at, "an object");
        }
        String role = null;
        String content = null;
        boolean hasContent = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode value = field.getValue();
            switch (name) {
                case "role" -> role = role(value, at + ".role");
                case "content" -> {
                    hasContent = !value.isNull();
                    content = hasContent ? content(value, at + ".content") : null;
                }
                default -> {
                    if (!isOff(value)) {
                        throw unsupported(at + "." + name, name.startsWith("tool") || name.startsWith("function")
                                ? "tool and function calling is not supported by this gateway"
                                : "message fields other than 'role' and 'content' are not supported by this gateway");
                    }
                }
            }
        }
        if (role == null) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".role'.", at + ".role");
        }
        if (!hasContent) {
            throw ApiError.invalidParam(MISSING, "Missing required parameter: '" + at + ".content'.", at + ".content");
        }
        return new ContextMessage("developer".equals(role) ? "system" : role, content);
    }

    private static String role(JsonNode value, String at) {
        if (!value.isTextual()) {
            throw invalidType(at, "a string");
        }
        String role = value.asText();
        if (ROLES.contains(role)) {
            return role;
        }
        if ("tool".equals(role) || "function".equals(role)) {
            throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + at + "': the role '" + role
                    + "' is not supported; tool and function calling is not supported by this gateway.", at);
        }
        throw ApiError.invalidParam(INVALID_VALUE, "Invalid '" + at
                + "': expected one of 'system', 'developer', 'user', 'assistant'.", at);
    }

    /** A string, or an array of text parts (joined); image, audio and file parts are refused. */
    private String content(JsonNode value, String at) {
        String text;
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
                if (!"text".equals(type.asText())) {
                    throw ApiError.invalidParam(UNSUPPORTED_VALUE, "Invalid '" + partAt
                            + ".type': only 'text' content parts are supported by this gateway (no images, audio or files).",
                            partAt + ".type");
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
        if (text.codePointCount(0, text.length()) > maxMessageLength) {
            throw ApiError.invalidParam(TOO_LONG, "Invalid '" + at + "': string too long. Expected at most "
                    + maxMessageLength + " characters.", at);
        }
        return text;
    }

    private static List<String> stop(JsonNode value) {
        List<String> out = new ArrayList<>();
        if (value.isTextual()) {
            out.add(value.asText());
        } else if (value.isArray()) {
            if (value.size() > MAX_STOP_SEQUENCES) {
                throw ApiError.invalidParam(INVALID_VALUE, "Invalid 'stop': at most " + MAX_STOP_SEQUENCES
                        + " stop sequences are allowed.", "stop");
            }
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isTextual()) {
                    throw invalidType("stop[" + i + "]", "a string");
                }
                out.add(value.get(i).asText());
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
            case "response_format" -> value.isObject() && value.size() == 1 && "text".equals(value.path("type").asText());
            case "presence_penalty", "frequency_penalty" -> value.isNumber() && value.asDouble() == 0;
            case "parallel_tool_calls" -> value.isBoolean(); // meaningless without tools, which are refused
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

    private static int positiveInt(JsonNode value, String param) {
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw invalidType(param, "an integer");
        }
        if (value.asInt() < 1) {
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
