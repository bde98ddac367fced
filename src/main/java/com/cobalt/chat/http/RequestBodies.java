package com.cobalt.chat.http;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import com.cobalt.chat.store.NewSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpUtil;
import org.apache.camel.Exchange;

/** Parses and validates request bodies into typed records; every way a body can be wrong has its own error code. */
public class RequestBodies {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int MAX_TITLE_LENGTH = 200;

    private final int maxMessageLength;

    public RequestBodies(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
    }

    /** {"content": "..."}: the text of the message a user sends into a session. */
    public String messageContent(Exchange exchange) {
        JsonNode doc = jsonObject(exchange, true);
        JsonNode content = doc.get("content");
        if (content == null || content.isNull()) {
            throw ApiError.badRequest("missing_content", "The body needs a \"content\" string");
        }
        if (!content.isTextual()) {
            throw ApiError.badRequest("invalid_content", "\"content\" must be a string");
        }
        String text = content.asText();
        if (text.isBlank()) {
            throw ApiError.badRequest("empty_content", "\"content\" must not be empty");
        }
        refuseNul(text, "content");
        if (text.codePointCount(0, text.length()) > maxMessageLength) {
            throw new ApiError(413, "message_too_long",
                    "\"content\" is longer than " + maxMessageLength + " characters");
        }
        return text;
    }

    /** {"title"?, "system_prompt"?, "model"?}: an empty body is a session with defaults. */
    public NewSession newSession(Exchange exchange) {
        JsonNode doc = jsonObject(exchange, false);
        if (doc == null) {
            return new NewSession(null, null);
        }
        String title = optionalString(doc, "title");
        String systemPrompt = optionalString(doc, "system_prompt");
        String model = optionalString(doc, "model");
        refuseNul(title, "title");
        refuseNul(systemPrompt, "system_prompt");
        if (title != null && title.length() > MAX_TITLE_LENGTH) {
            // counted in UTF-16 units, as the column stores them: "characters" refused 101 emoji as over 200
            throw ApiError.badRequest("title_too_long", "\"title\" is longer than " + MAX_TITLE_LENGTH
                    + " UTF-16 code units (a character outside the Basic Multilingual Plane, such as an emoji, is two)");
        }
        if (systemPrompt != null && systemPrompt.codePointCount(0, systemPrompt.length()) > maxMessageLength) {
            throw new ApiError(413, "system_prompt_too_long",
                    "\"system_prompt\" is longer than " + maxMessageLength + " characters");
        }
        return new NewSession(title, systemPrompt == null || systemPrompt.isBlank() ? null : systemPrompt,
                model == null || model.isBlank() ? null : model.strip(), null);
    }

    /**
     * A text with the NUL character (U+0000) is refused on every database: PostgreSQL cannot store it in a text column
     * (SQLState 22021), so a message with one was a 500 internal_error there and stored on the embedded H2. What a
     * user sent is stored exactly or refused, and the same request gets the same answer whichever database is behind.
     */
    private static void refuseNul(String text, String field) {
        if (text != null && text.indexOf('\u0000') >= 0) {
            throw ApiError.badRequest("invalid_" + field, "\"" + field
                    + "\" contains the NUL character (U+0000), which cannot be stored");
        }
    }

    private static String optionalString(JsonNode doc, String field) {
        JsonNode v = doc.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.badRequest("invalid_" + field, "\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    /** Stands for a body that is not UTF-8; compared by identity. */
    private static final String MALFORMED = new String("not UTF-8");

    /**
     * The body decoded as strict UTF-8 (RFC 3629), or {@link #MALFORMED}. Jackson decodes overlong forms
     * ({@code C0 AF} is "/") and encoded surrogates instead of refusing them, so a check on the text could be
     * passed by a byte sequence other parts of a system read differently.
     */
    private static String utf8(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return MALFORMED;
        }
    }

    /**
     * Whether a JSON text escapes a surrogate that is not half of a pair (backslash, u, D800). JSON's grammar allows it
     * and Jackson reads it into a String, but it is no character: stored it stays, streamed back it becomes "?", so
     * what was stored and what was seen would differ. (Raw UTF-8 cannot carry one: the strict decoding refuses it.)
     * An escaped backslash followed by u and four digits is text, not an escape.
     */
    static boolean escapesLoneSurrogate(byte[] json) {
        boolean highPending = false;
        for (int i = 0; i < json.length; i++) {
            if (json[i] != '\\') {
                if (highPending) {
                    return true;
                }
                continue;
            }
            if (i + 1 >= json.length) {
                return false; // not JSON at all; the parser says so
            }
            if (json[i + 1] != 'u' || i + 5 >= json.length) {
                if (highPending) {
                    return true;
                }
                i++; // an escaped character: skip it
                continue;
            }
            int unit = hex4(json, i + 2);
            if (unit < 0) {
                return false; // not JSON; the parser says so
            }
            boolean high = unit >= 0xD800 && unit <= 0xDBFF;
            boolean low = unit >= 0xDC00 && unit <= 0xDFFF;
            if (highPending != low) {
                return true; // a high surrogate not followed by a low one, or a low one without its high
            }
            highPending = high;
            i += 5;
        }
        return highPending;
    }

    private static int hex4(byte[] b, int from) {
        int v = 0;
        for (int i = from; i < from + 4; i++) {
            int d = Character.digit(b[i], 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    }

    /** Whether every byte is ASCII: such a body is strict UTF-8 as it is, with nothing to decode or check. */
    private static boolean ascii(byte[] body) {
        for (byte b : body) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** What {@link String#isBlank()} says of an ASCII body's text: every byte is whitespace. */
    private static boolean blank(byte[] asciiBody) {
        for (byte b : asciiBody) {
            if (!Character.isWhitespace(b)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code application/json} exactly (any case, parameters allowed), in UTF-8: a charset parameter other than UTF-8
     * is refused, since the body is read as UTF-8 whatever it says. Not a prefix: {@code application/jsonx} and
     * {@code application/json-patch+json} are other types. Netty's HttpUtil splits the header.
     */
    static boolean isJsonInUtf8(String contentType) {
        if (contentType == null) {
            return false;
        }
        CharSequence mime = HttpUtil.getMimeType(contentType);
        if (mime == null || !"application/json".equalsIgnoreCase(mime.toString().trim())) {
            return false;
        }
        CharSequence charset = HttpUtil.getCharsetAsSequence(contentType);
        if (charset == null) {
            return true;
        }
        String name = charset.toString().trim();
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
            name = name.substring(1, name.length() - 1);
        }
        return name.equalsIgnoreCase("utf-8") || name.equalsIgnoreCase("utf8");
    }

    /**
     * The body as a JSON object: 415 unless it says application/json (in UTF-8), 400 invalid_json unless it is an object. An
     * ASCII body (most requests) is parsed from its bytes; any other is decoded as strict UTF-8 first.
     */
    public static JsonNode jsonObject(Exchange exchange, boolean required) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        boolean ascii = body != null && ascii(body);
        String text = body == null || ascii ? null : utf8(body);
        boolean empty = body == null || (ascii ? blank(body) : text.isBlank());
        if (empty && !required) {
            return null;
        }
        if (!isJsonInUtf8(exchange.getMessage().getHeader("Content-Type", String.class))) {
            throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
        }
        if (empty) {
            throw ApiError.badRequest("invalid_json", "The body is empty; a JSON object is required");
        }
        if (text == MALFORMED) {
            throw ApiError.badRequest("invalid_json", "The body is not valid UTF-8");
        }
        if (escapesLoneSurrogate(body)) {
            throw ApiError.badRequest("invalid_json", "The body escapes an unpaired surrogate (\\uD800-\\uDFFF alone);"
                    + " it is not Unicode text");
        }
        JsonNode doc;
        try {
            doc = ascii ? JSON.readTree(body) : JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            // valid JSON past the parser's limits (nesting deeper than 1,000, a number of over 1,000 digits, a
            // string past 20 MB): said so, not "not valid JSON" (black-box probe, 2026-12-05)
            throw ApiError.badRequest("invalid_json", "The body is valid JSON but goes past the gateway's limits"
                    + " (nesting at most 1000 deep, numbers at most 1000 digits)");
        } catch (Exception e) {
            throw ApiError.badRequest("invalid_json", "The body is not valid JSON");
        }
        if (doc == null || !doc.isObject()) {
            throw ApiError.badRequest("invalid_json", "The body must be a JSON object");
        }
        return doc;
    }
}
