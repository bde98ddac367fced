package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every way a call to the OpenAI-compatible endpoint can fail, as the exact OpenAI error object and status the SDKs
 * map to their exception types: bad input naming its parameter, auth, unknown model or path, limits, providers.
 */
@Timeout(60)
class OpenAiErrorsTest {

    static final TestClock CLOCK = new TestClock();
    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of("chat.max-message-length", "20",
                "chat.rate-limit-per-minute", "2", "openai.max-body-bytes", "65536"), Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        CLOCK.advance(Duration.ofHours(1));
        upstream.reset();
        token = Jwt.token("openai-errors-" + System.nanoTime());
    }

    HttpResponse<String> post(String body) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", body);
    }

    static String error(String message, String type, String param, String code) {
        return "{\"error\":{\"message\":" + GatewayClient.JSON.valueToTree(message) + ",\"type\":\"" + type
                + "\",\"param\":" + (param == null ? "null" : "\"" + param + "\"") + ",\"code\":\"" + code + "\"}}";
    }

    static void assertError(HttpResponse<String> r, int status, String body) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo(body);
    }

    static final String HI = "[{\"role\":\"user\",\"content\":\"Hi\"}]";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "a function tool without a name | `{\"messages\":" + HI + ",\"tools\":[{\"type\":\"function\",\"function\":{}}]}` | missing_required_parameter | tools[0].function.name | Missing required parameter: 'tools[0].function.name'.",
        "tools not an array | `{\"messages\":" + HI + ",\"tools\":{\"type\":\"function\"}}` | invalid_type | tools | Invalid type for 'tools': expected an array.",
        "vision for a model without it | `{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}]}` | model_lacks_capability | messages | The model 'Meta-Llama-3.3-70B-Instruct' does not support vision (image_url content parts); GET /v1/models lists each model's capabilities.",
        "reasoning_effort for a model without reasoning | `{\"messages\":" + HI + ",\"reasoning_effort\":\"low\"}` | model_lacks_capability | reasoning_effort | The model 'Meta-Llama-3.3-70B-Instruct' does not support reasoning (reasoning_effort); GET /v1/models lists each model's capabilities.",
        "tool_choice without tools | `{\"messages\":" + HI + ",\"tool_choice\":\"auto\"}` | invalid_value | tool_choice | Invalid 'tool_choice': only allowed when 'tools' are given.",
        "an unknown tool_choice | `{\"messages\":" + HI + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"always\"}` | invalid_value | tool_choice | Invalid 'tool_choice': expected one of 'none', 'auto', 'required', or an object naming a tool.",
        "functions | `{\"messages\":" + HI + ",\"functions\":[{\"name\":\"f\"}]}` | unsupported_parameter | functions | Unsupported parameter: 'functions': the deprecated function calling is not supported by this gateway; use 'tools'.",
        "n > 1 | `{\"messages\":" + HI + ",\"n\":2}` | unsupported_parameter | n | Unsupported parameter: 'n': the gateway returns exactly one choice; n must be 1.",
        "logprobs | `{\"messages\":" + HI + ",\"logprobs\":true}` | unsupported_parameter | logprobs | Unsupported parameter: 'logprobs': log probabilities are not supported by this gateway.",
        "top_logprobs | `{\"messages\":" + HI + ",\"top_logprobs\":2}` | unsupported_parameter | top_logprobs | Unsupported parameter: 'top_logprobs': log probabilities are not supported by this gateway.",
        "audio | `{\"messages\":" + HI + ",\"audio\":{\"voice\":\"alloy\",\"format\":\"mp3\"}}` | unsupported_parameter | audio | Unsupported parameter: 'audio': audio is not supported by this gateway.",
        "modalities | `{\"messages\":" + HI + ",\"modalities\":[\"text\",\"audio\"]}` | unsupported_parameter | modalities | Unsupported parameter: 'modalities': only text output is supported by this gateway.",
        "an unknown response_format | `{\"messages\":" + HI + ",\"response_format\":{\"type\":\"xml\"}}` | invalid_value | response_format.type | Invalid 'response_format.type': expected one of 'text', 'json_object', 'json_schema'.",
        "json_schema without its schema | `{\"messages\":" + HI + ",\"response_format\":{\"type\":\"json_schema\"}}` | missing_required_parameter | response_format.json_schema | Missing required parameter: 'response_format.json_schema'.",
        "any other parameter | `{\"messages\":" + HI + ",\"seed\":42}` | unsupported_parameter | seed | Unsupported parameter: 'seed': this parameter is not supported by this gateway.",
        "an image from a file URL | `{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"file:///etc/passwd\"}}]}]}` | invalid_value | messages[0].content[1].image_url.url | Invalid 'messages[0].content[1].image_url.url': expected an http(s) URL or a data URL of an image.",
        "an audio part | `{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AA==\",\"format\":\"wav\"}}]}]}` | unsupported_value | messages[0].content[0].type | Invalid 'messages[0].content[0].type': only 'text', 'image_url' and (in assistant messages) 'refusal' content parts are supported by this gateway (no audio or files).",
        "a refusal in a user message | `{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"refusal\":\"No.\"}]}` | unsupported_parameter | messages[0].refusal | Unsupported parameter: 'messages[0].refusal': only an assistant message carries a refusal.",
        "a refusal part in a user message | `{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"No.\"}]}]}` | unsupported_value | messages[0].content | Invalid 'messages[0].content': refusal parts are only allowed in assistant messages.",
        "a refusal part that is not text | `{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\",\"refusal\":7}]},{\"role\":\"user\",\"content\":\"Hi\"}]}` | invalid_type | messages[0].content[0].refusal | Invalid type for 'messages[0].content[0].refusal': expected a string.",
        "an assistant message with neither content, tool calls nor refusal | `{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"refusal\":null},{\"role\":\"user\",\"content\":\"Hi\"}]}` | missing_required_parameter | messages[0].content | Missing required parameter: 'messages[0].content'.",
        "a tool message without its call id | `{\"messages\":[{\"role\":\"tool\",\"content\":\"42\"}]}` | missing_required_parameter | messages[0].tool_call_id | Missing required parameter: 'messages[0].tool_call_id'.",
        "a function message | `{\"messages\":[{\"role\":\"function\",\"content\":\"42\",\"name\":\"f\"}]}` | unsupported_value | messages[0].role | Invalid 'messages[0].role': the role 'function' is not supported; the deprecated function calling is not supported by this gateway, use 'tool'.",
        "a tool call without its type | `{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\"}]}]}` | missing_required_parameter | messages[0].tool_calls[0].type | Missing required parameter: 'messages[0].tool_calls[0].type'.",
        "tool calls in a user message | `{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\"}]}]}` | invalid_value | messages[0].tool_calls | Invalid 'messages[0].tool_calls': only assistant messages call tools.",
        "reasoning in a user message | `{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"reasoning_content\":\"x\"}]}` | unsupported_parameter | messages[0].reasoning_content | Unsupported parameter: 'messages[0].reasoning_content': only an assistant message carries reasoning.",
        "reasoning that is not text | `{\"messages\":[{\"role\":\"assistant\",\"content\":\"Hi\",\"reasoning\":{\"effort\":\"low\"}}]}` | invalid_type | messages[0].reasoning | Invalid type for 'messages[0].reasoning': expected a string.",
        "no messages | `{\"model\":\"Meta-Llama-3.3-70B-Instruct\"}` | missing_required_parameter | messages | Missing required parameter: 'messages'.",
        "empty messages | `{\"messages\":[]}` | empty_array | messages | Invalid 'messages': empty array. Expected at least one message.",
        "no content | `{\"messages\":[{\"role\":\"user\"}]}` | missing_required_parameter | messages[0].content | Missing required parameter: 'messages[0].content'.",
        "an unknown role | `{\"messages\":[{\"role\":\"robot\",\"content\":\"Hi\"}]}` | invalid_value | messages[0].role | Invalid 'messages[0].role': expected one of 'system', 'developer', 'user', 'assistant', 'tool'.",
        "content of the wrong type | `{\"messages\":[{\"role\":\"user\",\"content\":7}]}` | invalid_type | messages[0].content | Invalid type for 'messages[0].content': expected a string.",
        "content too long | `{\"messages\":[{\"role\":\"user\",\"content\":\"123456789012345678901\"}]}` | string_above_max_length | messages[0].content | Invalid 'messages[0].content': string too long. Expected at most 20 characters.",
        "temperature out of range | `{\"messages\":" + HI + ",\"temperature\":2.5}` | invalid_value | temperature | Invalid 'temperature': must be between 0 and 2.",
        "top_p out of range | `{\"messages\":" + HI + ",\"top_p\":-0.1}` | invalid_value | top_p | Invalid 'top_p': must be between 0 and 1.",
        "max_tokens zero | `{\"messages\":" + HI + ",\"max_tokens\":0}` | invalid_value | max_tokens | Invalid 'max_tokens': must be at least 1.",
        "max_tokens far below zero | `{\"messages\":" + HI + ",\"max_tokens\":-9007199254740993}` | invalid_value | max_tokens | Invalid 'max_tokens': must be at least 1.",
        "max_completion_tokens not an integer | `{\"messages\":" + HI + ",\"max_completion_tokens\":\"10\"}` | invalid_type | max_completion_tokens | Invalid type for 'max_completion_tokens': expected an integer.",
        "stream not a boolean | `{\"messages\":" + HI + ",\"stream\":\"yes\"}` | invalid_type | stream | Invalid type for 'stream': expected a boolean.",
        "stream_options without stream | `{\"messages\":" + HI + ",\"stream_options\":{\"include_usage\":true}}` | invalid_value | stream_options | 'stream_options' is only allowed when 'stream' is true.",
        "five stop sequences | `{\"messages\":" + HI + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}` | invalid_value | stop | Invalid 'stop': at most 4 stop sequences are allowed.",
        "an empty model | `{\"model\":\"\",\"messages\":" + HI + "}` | invalid_value | model | Invalid 'model': must not be empty.",
    })
    void badInputIsA400NamingTheParameter(String what, String body, String code, String param, String message) {
        assertError(post(body), 400, error(message, "invalid_request_error", param, code));
        assertThat(upstream.requestCount()).as("nothing went upstream").isZero();
    }

    @Test
    void aBodyThatIsNotJsonIsA400() {
        assertError(post("{\"messages\":"), 400,
                "{\"error\":{\"message\":\"The body is not valid JSON\",\"type\":\"invalid_request_error\","
                        + "\"param\":null,\"code\":\"invalid_json\"}}");
    }

    /** Valid JSON past the parser's nesting limit is said to be so, not "not valid JSON" (black-box probe). */
    @Test
    void jsonNestedPastTheLimitIsA400SayingSo() {
        String deep = "[".repeat(1_500) + "]".repeat(1_500);
        assertError(post("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"tools\":" + deep + "}"), 400,
                "{\"error\":{\"message\":\"The body is valid JSON but goes past the gateway's limits (nesting at"
                        + " most 1000 deep, numbers at most 1000 digits)\",\"type\":\"invalid_request_error\","
                        + "\"param\":null,\"code\":\"invalid_json\"}}");
    }

    @Test
    void aBodyThatIsNotDeclaredJsonIsA415() {
        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", token, "text/plain", "{}");
        assertError(r, 415, "{\"error\":{\"message\":\"Content-Type must be application/json\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"unsupported_media_type\"}}");
    }

    /** A compressed body is refused for its coding, not read as broken UTF-8 (black-box probe, 2026-12-05). */
    @Test
    void aCompressedBodyIsA415NamingTheContentEncoding() throws Exception {
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(zipped)) {
            gz.write("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(zipped.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());

        assertError(r, 415, error("Content-Encoding is not supported: send the body uncompressed",
                "invalid_request_error", null, "unsupported_media_type"));
        assertThat(upstream.requests()).isEmpty();
    }

    @Test
    void aBodyLargerThanTheGatewayAcceptsIsA413() {
        String big = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000) + "\"}]}";
        assertError(post(big), 413, "{\"error\":{\"message\":\"The request body is larger than the gateway accepts\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"body_too_large\"}}");
    }

    /** A refusal of the caller's request is the caller's error type, not the server's (black-box probe, 2026-12-05). */
    @Test
    void headersLargerThanTheGatewayAcceptsAreA431InvalidRequestError() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", gateway.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                    + "\r\nX-Padding: " + "y".repeat(14_000) + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);

            assertThat(answer).startsWith("HTTP/1.1 431 ");
            assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4)).isEqualTo("{\"error\":{\"message\":\"The"
                    + " request headers are larger than the gateway accepts\",\"type\":\"invalid_request_error\","
                    + "\"param\":null,\"code\":\"headers_too_large\"}}");
        }
    }

    @Test
    void noKeyIsA401AuthenticationError() {
        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", null, "application/json",
                "{\"messages\":" + HI + "}");
        assertError(r, 401, "{\"error\":{\"message\":\"Authorization: Bearer <JWT> is required\","
                + "\"type\":\"authentication_error\",\"param\":null,\"code\":\"missing_token\"}}");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    }

    @Test
    void anExpiredKeyIsA401AuthenticationError() {
        HttpResponse<String> r = client.send("POST", "/v1/chat/completions", Jwt.expired("someone"),
                "application/json", "{\"messages\":" + HI + "}");
        assertError(r, 401, "{\"error\":{\"message\":\"The token has expired\",\"type\":\"authentication_error\","
                + "\"param\":null,\"code\":\"token_expired\"}}");
    }

    @Test
    void theModelListNeedsAKeyToo() {
        assertError(client.get("/v1/models", "not-a-jwt"), 401, "{\"error\":{\"message\":\"The token is not a well-formed JWT\","
                + "\"type\":\"authentication_error\",\"param\":null,\"code\":\"invalid_token\"}}");
    }

    @Test
    void anUnknownModelIsA404ModelNotFound() {
        assertError(post("{\"model\":\"gpt-9\",\"messages\":" + HI + "}"), 404,
                error("The model `gpt-9` does not exist or you do not have access to it. GET /v1/models lists the "
                        + "available models.", "invalid_request_error", "model", "model_not_found"));
        assertThat(upstream.requestCount()).isZero();
    }

    /** An error names the model it did not find; it does not send a 5 MB model name back (audit, 2026-12-04). */
    @Test
    void anUnknownModelsNameIsRepeatedOnlyUpTo64Characters() {
        String huge = "m".repeat(20_000);

        assertError(post("{\"model\":\"" + huge + "\",\"messages\":" + HI + "}"), 404,
                error("The model `" + "m".repeat(64) + "...` does not exist or you do not have access to it. GET"
                        + " /v1/models lists the available models.", "invalid_request_error", "model",
                        "model_not_found"));
    }

    @Test
    void retrievingAnUnknownModelIsA404ModelNotFound() {
        assertError(client.get("/v1/models/gpt-9", token), 404,
                error("The model `gpt-9` does not exist or you do not have access to it. GET /v1/models lists the "
                        + "available models.", "invalid_request_error", "model", "model_not_found"));
    }

    @Test
    void anUnknownPathUnderV1IsA404InOpenAisShape() {
        assertError(client.send("POST", "/v1/embeddings", token, "application/json", "{}"), 404,
                "{\"error\":{\"message\":\"No such resource\",\"type\":\"invalid_request_error\",\"param\":null,"
                        + "\"code\":\"not_found\"}}");
    }

    @Test
    void aWrongMethodIsA405InOpenAisShape() {
        assertError(client.get("/v1/chat/completions", token), 405,
                "{\"error\":{\"message\":\"Method not allowed on this resource\",\"type\":\"invalid_request_error\","
                        + "\"param\":null,\"code\":\"method_not_allowed\"}}");
    }

    @Test
    void thePerUserRateLimitIsA429RateLimitErrorWithRetryAfter() {
        upstream.enqueue(OpenAiShapesTest.helloAnswer()).enqueue(OpenAiShapesTest.helloAnswer());
        assertThat(post("{\"messages\":" + HI + "}").statusCode()).isEqualTo(200);
        assertThat(post("{\"messages\":" + HI + "}").statusCode()).isEqualTo(200);

        HttpResponse<String> r = post("{\"messages\":" + HI + "}");

        assertError(r, 429, "{\"error\":{\"message\":\"More than 2 messages in a minute\",\"type\":\"rate_limit_error\","
                + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}");
        assertThat(r.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v))
                .isBetween(1L, 61L));
        assertThat(upstream.requestCount()).isEqualTo(2);
    }

    @Test
    void aRateLimitedProviderIsA429WithItsRetryAfter() {
        upstream.enqueue(Script.json(429, "{\"error\":{\"message\":\"slow down\"}}").header("Retry-After", "7"));

        HttpResponse<String> r = post("{\"messages\":" + HI + "}");

        assertError(r, 429, "{\"error\":{\"message\":\"Every provider is rate limiting; retry later\","
                + "\"type\":\"rate_limit_error\",\"param\":null,\"code\":\"rate_limited\"}}");
        assertThat(r.headers().firstValue("Retry-After")).hasValue("7");
    }

    @Test
    void aFailingProviderIsA503() {
        upstream.enqueue(Script.json(500, "{\"error\":{\"message\":\"boom\"}}"));

        assertError(post("{\"stream\":true,\"messages\":" + HI + "}"), 503,
                "{\"error\":{\"message\":\"No provider could answer; retry later\",\"type\":\"service_unavailable\","
                        + "\"param\":null,\"code\":\"provider_unavailable\"}}");
    }

    @Test
    void aRequestTheProviderRejectsIsA400() {
        upstream.enqueue(Script.json(400, "{\"error\":{\"message\":\"bad request: echoes the prompt\"}}"));

        assertError(post("{\"messages\":" + HI + "}"), 400,
                "{\"error\":{\"message\":\"The provider rejected the request as invalid\","
                        + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"provider_rejected_request\"}}");
    }

    /**
     * The provider's code and parameter go back (the caller can mend the request: a reasoning model refusing
     * max_tokens, a context too long), its message does not: it may quote the prompt.
     */
    @Test
    void aRejectionCarriesTheProvidersCodeAndParameterButNotItsMessage() {
        upstream.enqueue(Script.json(400, "{\"error\":{\"message\":\"Unsupported parameter: 'max_tokens' for the"
                + " prompt 'my secret plan'\",\"type\":\"invalid_request_error\",\"param\":\"max_tokens\","
                + "\"code\":\"unsupported_parameter\"}}"));

        assertError(post("{\"messages\":" + HI + "}"), 400,
                "{\"error\":{\"message\":\"The provider rejected the request as invalid (provider code"
                        + " unsupported_parameter, parameter 'max_tokens')\",\"type\":\"invalid_request_error\","
                        + "\"param\":\"max_tokens\",\"code\":\"provider_rejected_request\"}}");

        upstream.enqueue(Script.json(422, "{\"error\":{\"message\":\"no\",\"code\":\"bad code with spaces\","
                + "\"param\":\"x'); alert(1)\"}}"));

        assertError(post("{\"messages\":" + HI + "}"), 422,
                "{\"error\":{\"message\":\"The provider could not process the request\","
                        + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"provider_rejected_request\"}}");
    }
}
