package com.cobalt.chat.stream;

import java.io.CharConversionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

import com.cobalt.chat.provider.ProviderRejection;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads OpenAI-compatible chat.completion.chunk events as SambaNova, Azure OpenAI and Azure AI Foundry really send
 * them: Azure's first chunk with {@code "choices": []} and prompt_filter_results, chunks without {@code delta},
 * usage on a trailing {@code choices: []} chunk or on the finish chunk (inside its choice, as Moonshot sends it),
 * a float {@code created},
 * {@code event: error_event} and {@code data: {"error":...}} inside a 200 stream.
 *
 * <p>Every token of every answer passes through here, so it reads with Jackson's streaming parser: the fields it
 * needs are taken as they go by and everything else is skipped (still checked to be JSON), with no object model
 * built for the chunk. It reads what Jackson's data binding read before it: text fields take any scalar as its text,
 * token counts take whole numbers, floats (cut to whole) and numeric text, and a value of the wrong shape (an
 * object where text belongs, say) makes the chunk malformed.
 *
 * <p>One decoder reads one upstream stream, on that stream's event loop (not thread-safe). It keeps one Jackson
 * non-blocking parser for the stream and feeds it each event's bytes, where a parser made per event cost ~800 bytes
 * of allocation per chunk (bench/README.md fix 37). An event the parser did not read to its clean end (malformed,
 * truncated, not an object, text after the object) discards it; the next event gets a new one.
 */
public final class ChunkDecoder {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory PARSERS = JSON.getFactory();

    /** What a chunk says; only its first choice is read (the gateway asks for one). */
    /** {@code error}: null, or what an error in the chunk says. */
    private record Chunk(Choice first, Usage usage, StreamError error) {
    }

    /**
     * An error in a chunk: the code it reads as ({@link #PROVIDER_STREAM_ERROR} or {@link #PROVIDER_REJECTED}), and
     * the provider's own {@code code} and {@code param} when they are strings (null otherwise), for a rejection to
     * name as an HTTP one does ({@link ProviderRejection#said()}).
     */
    private record StreamError(String reading, String code, String param) {
    }

    /** {@code usage}: Moonshot (Kimi) streams the answer's usage inside its finish chunk's choice. */
    private record Choice(Delta delta, Delta message, String finishReason, Usage usage) {
    }

    /**
     * A text without the NUL character (U+0000). PostgreSQL cannot store it in a text column, so an answer with one
     * was relayed whole and then lost there ({@code answer_not_stored}, its checkpoints refused too), while the
     * embedded H2 kept it. It is no text a reader can see: dropped before it is relayed, so what the client got and
     * what is stored agree on every database. (Tool calls keep the provider's JSON, where it stays escaped.)
     */
    static String withoutNul(String text) {
        return text == null || text.indexOf('\u0000') < 0 ? text : text.replace("\u0000", "");
    }

    private record Delta(String content, String reasoningContent, String reasoning, JsonNode toolCalls,
                         String refusal) {
    }

    /**
     * {@code cacheHit}: the cached part of the prompt where a provider reports it outside OpenAI's
     * {@code prompt_tokens_details} - DeepSeek's {@code prompt_cache_hit_tokens}, Moonshot's top-level
     * {@code cached_tokens}; OpenAI's breakdown wins where both are sent.
     */
    private record Usage(Integer promptTokens, Integer completionTokens, Details promptDetails,
                         Details completionDetails, Integer cacheHit) {

        Integer cachedTokens() {
            return promptDetails != null && promptDetails.cachedTokens() != null ? promptDetails.cachedTokens()
                    : cacheHit;
        }
    }

    /** OpenAI's (and Azure's, and SambaNova's where it reports them) breakdown of the two counts. */
    private record Details(Integer cachedTokens, Integer reasoningTokens) {
    }

    /** JSON, but not of a chunk's shape; without a stack trace, as it is only ever turned into a reading. */
    private static final class NotAChunk extends Exception {
        NotAChunk() {
            super("not a chunk", null, false, false);
        }
    }

    private static final NotAChunk NOT_A_CHUNK = new NotAChunk();

    static final String PROVIDER_STREAM_ERROR = "provider_stream_error";
    /**
     * An error inside a 200 stream that says the request was at fault - OpenAI's {@code invalid_request_error} type
     * (a context too long), vLLM's {@code BadRequestError}, a 400, 413 or 422 code: the caller's, like an HTTP 400.
     */
    static final String PROVIDER_REJECTED = "provider_rejected_request";

    private static final byte[] NOTHING = new byte[0];

    /**
     * Models' end-of-sequence and end-of-turn tokens as text: Text Generation Inference's OpenAI-compatible stream
     * sends the token that ended the answer as the content of its last chunk, beside {@code finish_reason: stop}
     * ({@code </s>} of Llama 2 and Mistral, {@code <|eot_id|>} of Llama 3, {@code <|im_end|>} of ChatML models...).
     * Such a content, exactly one of these and only in a chunk finishing with stop, is no part of the answer; the
     * same text anywhere else is the model's words and is kept.
     */
    static final Set<String> END_TOKENS = Set.of("</s>", "<|eot_id|>", "<|end_of_text|>",
            "<|im_end|>", "<|endoftext|>", "<|end|>", "<end_of_turn>", "<eos>", "<|eom_id|>");

    /** This stream's parser between events: fed each event's bytes, null until the first and after a failure. */
    private JsonParser stream;
    /** The last error read as {@link #PROVIDER_REJECTED}, or null. */
    private StreamError rejected;

    public ChunkReading read(SseEvent event) {
        byte[] data = event.bytes();
        int from = event.offset();
        int to = from + event.length();
        // String.trim's whitespace, in bytes (every byte of a multi-byte UTF-8 character is above it)
        while (from < to && (data[from] & 0xff) <= ' ') {
            from++;
        }
        while (to > from && (data[to - 1] & 0xff) <= ' ') {
            to--;
        }
        if (isDone(data, from, to)) {
            return ChunkReading.DONE;
        }
        boolean errorEvent = event.event() != null && event.event().toLowerCase().contains("error");
        Chunk chunk;
        try {
            chunk = chunk(data, from, to);
        } catch (IOException | NotAChunk | NumberFormatException e) {
            return ChunkReading.error(errorEvent ? PROVIDER_STREAM_ERROR : "malformed_chunk");
        }
        if (chunk == null) {
            return ChunkReading.error("malformed_chunk");
        }
        if (errorEvent || chunk.error() != null) {
            // the upstream's error text may echo the prompt: only a fixed code goes to the client and the logs
            StreamError error = chunk.error();
            if (error != null && PROVIDER_REJECTED.equals(error.reading())) {
                rejected = error;
            }
            return ChunkReading.error(error != null ? error.reading() : PROVIDER_STREAM_ERROR);
        }
        String content = null;
        String reasoning = null;
        JsonNode toolCalls = null;
        String refusal = null;
        String finish = null;
        // Azure's asynchronous content-filter chunks have a choice without delta: nothing to relay, no break
        Choice first = chunk.first();
        if (first != null) {
            Delta d = first.delta() != null ? first.delta() : first.message();
            if (d != null) {
                content = withoutNul(d.content());
                // DeepSeek and SambaNova name it reasoning_content; vLLM-style servers (gpt-oss) reasoning
                reasoning = withoutNul(d.reasoningContent() != null ? d.reasoningContent() : d.reasoning());
                toolCalls = d.toolCalls();
                refusal = withoutNul(d.refusal());
                if (toolCalls != null && first.delta() == null) {
                    toolCalls = indexed(toolCalls);
                }
            }
            finish = first.finishReason();
            if (content != null && "stop".equals(finish) && END_TOKENS.contains(content)) {
                // Text Generation Inference streams the end-of-sequence token's text in its finish chunk
                content = null;
            }
        }
        // the chunk's own usage, else one inside its choice (Moonshot's stream puts it there, beside finish_reason)
        Usage u = chunk.usage() != null ? chunk.usage() : first == null ? null : first.usage();
        Details cd = u == null ? null : u.completionDetails();
        return new ChunkReading(content, reasoning, toolCalls, finish, u == null ? null : u.promptTokens(),
                u == null ? null : u.completionTokens(), u == null ? null : u.cachedTokens(),
                cd == null ? null : cd.reasoningTokens(), null, false, refusal);
    }

    /** The stream ended: the parser's buffers go back to Jackson's pool, for the next stream on this thread. */
    public void close() {
        JsonParser p = stream;
        stream = null;
        if (p != null) {
            try {
                p.close();
            } catch (IOException e) {
                // a byte-array parser has nothing to close but its buffers
            }
        }
    }

    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

    private static boolean isDone(byte[] data, int from, int to) {
        return Arrays.equals(data, from, to, DONE, 0, DONE.length);
    }

    /**
     * The chunk in {@code data[from, to)}, parsed from the UTF-8 bytes as they came. Text that is not valid UTF-8 is
     * parsed again as decoded text (the bad bytes as U+FFFD), so such a chunk is relayed as it was before the parser
     * read bytes, not refused.
     */
    private Chunk chunk(byte[] data, int from, int to) throws IOException, NotAChunk {
        JsonParser p = stream != null ? stream : PARSERS.createNonBlockingByteArrayParser();
        stream = null;
        ByteArrayFeeder feeder = (ByteArrayFeeder) p.getNonBlockingInputFeeder();
        try {
            feeder.feedInput(data, from, to);
            Chunk chunk = chunk(p);
            // all of the event read and nothing after the chunk: the parser can take the stream's next event
            if (p.nextToken() == JsonToken.NOT_AVAILABLE) {
                feeder.feedInput(NOTHING, 0, 0); // holds on to no network bytes between events
                stream = p;
            }
            return chunk;
        } catch (CharConversionException | JsonParseException e) {
            try (JsonParser text = PARSERS.createParser(new String(data, from, to - from, StandardCharsets.UTF_8))) {
                return chunk(text);
            }
        } finally {
            if (stream != p) {
                p.close();
            }
        }
    }

    /** The next token; the event's bytes ending before the chunk does makes it malformed, as a truncated text would. */
    private static JsonToken next(JsonParser p) throws IOException, NotAChunk {
        JsonToken t = p.nextToken();
        if (t == JsonToken.NOT_AVAILABLE) {
            throw NOT_A_CHUNK;
        }
        return t;
    }

    /** The chunk, or null for a JSON {@code null}; what follows the chunk's object is not read. */
    private static Chunk chunk(JsonParser p) throws IOException, NotAChunk {
        JsonToken t = next(p);
        if (!isObject(t)) {
            return null;
        }
        Choice first = null;
        Usage usage = null;
        StreamError error = null;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            switch (name) {
                case "choices" -> first = firstChoice(p, v);
                case "usage" -> usage = usage(p, v);
                case "error" -> error = v == JsonToken.VALUE_NULL ? null : error(p, v);
                default -> p.skipChildren();
            }
        }
        return new Chunk(first, usage, error);
    }

    /** What an {@code error} value reads as: the request's fault when its type or code says so, else a stream error. */
    private static StreamError error(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            return new StreamError(PROVIDER_STREAM_ERROR, null, null);
        }
        String type = null;
        String code = null;
        String param = null;
        boolean textCode = false;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            if ("type".equals(name) && v.isScalarValue()) {
                type = p.getText();
            } else if ("code".equals(name) && v.isScalarValue()) {
                code = p.getText();
                textCode = v == JsonToken.VALUE_STRING;
            } else if ("param".equals(name) && v == JsonToken.VALUE_STRING) {
                param = p.getText();
            } else {
                p.skipChildren();
            }
        }
        return new StreamError(ProviderRejection.isRequestError(type, code) ? PROVIDER_REJECTED
                : PROVIDER_STREAM_ERROR, textCode ? code : null, param);
    }

    /**
     * The rejection the stream's last request error stands for (read as {@link #PROVIDER_REJECTED}): a 400 naming
     * the provider's code and param where they are plain identifiers, as for a rejection in an HTTP error body.
     */
    public ProviderRejection rejection(String provider) {
        return rejected == null ? new ProviderRejection(provider, false)
                : ProviderRejection.said(provider, 400, rejected.code(), rejected.param());
    }

    private static Choice firstChoice(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_ARRAY) {
            throw NOT_A_CHUNK;
        }
        Choice first = null;
        JsonToken e = next(p);
        if (e != JsonToken.END_ARRAY) {
            first = choice(p, e);
            while ((e = next(p)) != JsonToken.END_ARRAY) {
                if (isObject(e)) {
                    p.skipChildren();
                }
            }
        }
        return first;
    }

    private static Choice choice(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (!isObject(t)) {
            return null;
        }
        Delta delta = null;
        Delta message = null;
        String finish = null;
        Usage usage = null;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            switch (name) {
                case "delta" -> delta = delta(p, v);
                case "message" -> message = delta(p, v);
                case "finish_reason" -> finish = finishReason(text(p, v));
                case "usage" -> usage = usage(p, v);
                default -> p.skipChildren();
            }
        }
        return new Choice(delta, message, finish, usage);
    }

    /**
     * A finish reason, or null while the answer goes on: SGLang 0.4 and Ollama (2024) send {@code "finish_reason": ""}
     * on every chunk before the last, which read as a reason made a stream cut mid-answer a complete one (relayed
     * with {@code finish_reason: ""} and [DONE], stored complete; black-box probe).
     */
    private static String finishReason(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        if (TGI_STOPS.contains(text)) {
            // older Text Generation Inference servers send their own reasons on the OpenAI-compatible API: the model's
            // end-of-sequence token and a stop sequence, both OpenAI's stop (what an OpenAI client knows); its end
            // token is then dropped like any stop finish's
            return "stop";
        }
        // the store keeps 64 characters (OpenAI's longest is 14): a longer one failed the answer's save, and the
        // client got answer_not_stored after a whole answer (security probe's note); cut where a pair stays whole
        if (text.length() > MAX_FINISH_REASON) {
            int end = Character.isHighSurrogate(text.charAt(MAX_FINISH_REASON - 1)) ? MAX_FINISH_REASON - 1
                    : MAX_FINISH_REASON;
            return text.substring(0, end);
        }
        return text;
    }

    /** Text Generation Inference's own finish reasons that are OpenAI's {@code stop} ({@code length} is the same). */
    static final Set<String> TGI_STOPS = Set.of("eos_token", "stop_sequence");

    /** The longest finish reason kept (messages.finish_reason is VARCHAR(64)). */
    static final int MAX_FINISH_REASON = 64;

    private static Delta delta(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (!isObject(t)) {
            return null;
        }
        String content = null;
        String reasoningContent = null;
        String reasoning = null;
        JsonNode toolCalls = null;
        String refusal = null;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            switch (name) {
                case "content" -> content = text(p, v);
                case "refusal" -> refusal = text(p, v);
                case "reasoning_content" -> reasoningContent = text(p, v);
                case "reasoning" -> reasoning = text(p, v);
                // relayed as the provider sent them: the one part of a chunk read into a tree
                case "tool_calls" -> toolCalls = v == JsonToken.VALUE_NULL ? null : JSON.readTree(p);
                default -> p.skipChildren();
            }
        }
        return new Delta(content, reasoningContent, reasoning, toolCalls, refusal);
    }

    private static Usage usage(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (!isObject(t)) {
            return null;
        }
        Integer prompt = null;
        Integer completion = null;
        Details promptDetails = null;
        Details completionDetails = null;
        Integer cacheHit = null;
        Integer cachedTokens = null;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            switch (name) {
                case "prompt_tokens" -> prompt = count(p, v);
                case "completion_tokens" -> completion = count(p, v);
                case "prompt_tokens_details" -> promptDetails = details(p, v);
                case "completion_tokens_details" -> completionDetails = details(p, v);
                // DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens
                case "prompt_cache_hit_tokens" -> cacheHit = count(p, v);
                // Moonshot (Kimi): the cached part of prompt_tokens, at the top of usage
                case "cached_tokens" -> cachedTokens = count(p, v);
                default -> p.skipChildren();
            }
        }
        return new Usage(prompt, completion, promptDetails, completionDetails,
                cacheHit != null ? cacheHit : cachedTokens);
    }

    private static Details details(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (!isObject(t)) {
            return null;
        }
        Integer cached = null;
        Integer reasoning = null;
        while (next(p) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = next(p);
            switch (name) {
                case "cached_tokens" -> cached = count(p, v);
                case "reasoning_tokens" -> reasoning = count(p, v);
                default -> p.skipChildren();
            }
        }
        return new Details(cached, reasoning);
    }

    /** Any scalar as its text; null for null; an object or array is not text. */
    private static String text(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (!t.isScalarValue()) {
            throw NOT_A_CHUNK;
        }
        return p.getText();
    }

    /** A whole number: an integer, a float cut to whole, or numeric text (empty text is none). */
    private static Integer count(JsonParser p, JsonToken t) throws IOException, NotAChunk {
        return switch (t) {
            case VALUE_NULL -> null;
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getIntValue();
            case VALUE_STRING -> p.getText().isBlank() ? null : Integer.valueOf(p.getText().trim());
            default -> throw NOT_A_CHUNK;
        };
    }

    /** An object (true) or null (false); anything else is not a chunk. */
    private static boolean isObject(JsonToken t) throws NotAChunk {
        if (t == JsonToken.VALUE_NULL) {
            return false;
        }
        if (t != JsonToken.START_OBJECT) {
            throw NOT_A_CHUNK;
        }
        return true;
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
