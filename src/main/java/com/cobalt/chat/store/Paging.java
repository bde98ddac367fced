package com.cobalt.chat.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.http.ApiError;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Page sizes and cursors of the list endpoints (sessions, a session's messages, usage groups).
 *
 * <p>A cursor is the key of the last row a page showed, in the list's order, so the next page starts strictly after
 * it (keyset pagination: no OFFSET, nothing counted twice or skipped because rows were added in front). On the wire it
 * is opaque: base64url (no padding) of a JSON array whose first element names the list it belongs to. It is a
 * position, not a credential: whatever it says, a page only ever shows the caller's own rows. Anything that does not
 * decode to a well-formed key of the right list is a 400 {@code invalid_cursor}; its value never reaches SQL as text
 * (every part is parsed into its type and bound as a parameter).
 */
public final class Paging {

    /** The default page size of the session list and the usage groups. */
    public static final int DEFAULT_LIMIT = 50;
    /** The largest page any list gives. */
    public static final int MAX_LIMIT = 200;
    /** A cursor longer than this was not made here (the longest key is a usage key of a few hundred characters). */
    private static final int MAX_CURSOR_LENGTH = 4096;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private Paging() {
    }

    /**
     * The page size the caller asked for in {@code parameter}: absent means {@code defaultLimit}; anything but a whole
     * number from 1 to {@link #MAX_LIMIT} is a 400 {@code invalid_parameter} naming the parameter.
     */
    public static int limit(String value, String parameter, int defaultLimit) {
        if (value == null) {
            return defaultLimit;
        }
        String v = value.trim();
        if (!v.isEmpty() && v.length() <= 3 && v.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        }
        throw ApiError.invalidParam("invalid_parameter",
                parameter + " must be a whole number from 1 to " + MAX_LIMIT, parameter);
    }

    /** The cursor of a key: {@code kind} names the list, {@code parts} the key of the last row shown. */
    public static String cursor(String kind, Object... parts) {
        List<Object> all = new ArrayList<>(parts.length + 1);
        all.add(kind);
        all.addAll(java.util.Arrays.asList(parts));
        try {
            return ENCODER.encodeToString(JSON.writeValueAsBytes(all));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The parts of a cursor of the list {@code kind}, as JSON values ({@code size} of them); anything else is a 400
     * {@code invalid_cursor} naming {@code parameter}. The caller still parses each part into its type and throws
     * {@link #invalidCursor(String)} on a part that does not parse.
     */
    public static List<JsonNode> parts(String cursor, String parameter, String kind, int size) {
        if (cursor == null || cursor.isEmpty() || cursor.length() > MAX_CURSOR_LENGTH) {
            throw invalidCursor(parameter);
        }
        JsonNode array;
        try {
            array = JSON.readTree(new String(DECODER.decode(cursor), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | JsonProcessingException e) {
            throw invalidCursor(parameter);
        }
        if (array == null || !array.isArray() || array.size() != size + 1 || !kind.equals(array.get(0).textValue())) {
            throw invalidCursor(parameter);
        }
        List<JsonNode> parts = new ArrayList<>(size);
        for (int i = 1; i <= size; i++) {
            parts.add(array.get(i));
        }
        return parts;
    }

    /** A text part of a cursor (JSON null allowed only where {@code nullable}). */
    public static String text(JsonNode part, boolean nullable, String parameter) {
        if (part.isNull() && nullable) {
            return null;
        }
        if (!part.isTextual()) {
            throw invalidCursor(parameter);
        }
        return part.textValue();
    }

    public static ApiError invalidCursor(String parameter) {
        return new ApiError(400, "invalid_cursor", parameter
                + " is not a cursor this list gave out; start again without it", Map.of(), parameter);
    }
}
