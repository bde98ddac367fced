package com.cobalt.chat.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TwoProviders;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tool calling through /v1 (issue 16, item 2), against fake upstreams speaking the providers' real tool-call streams:
 * Azure OpenAI's (a prompt-filter chunk, the first call with {@code "content":null}, argument fragments, a second
 * call, asynchronous content-filter chunks without {@code delta} in between and after the finish) and SambaNova's
 * (a whole call in one chunk, a float {@code created}). The official openai-java SDK's stream accumulator and a
 * LangChain4j AI service calling a Java tool use the gateway unchanged.
 *
 * <p>sambanova (Meta-Llama-3.3-70B-Instruct, tools by default) at {@link #samba} is the primary; azure (gpt-4o,
 * tools by default) at {@link #azure} is served for the model gpt-4o.
 */
@Timeout(60)
class ToolCallingTest {

    static final String LLAMA = "Meta-Llama-3.3-70B-Instruct";
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":"
            + "\"Weather in a city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
            + "\"required\":[\"city\"]},\"strict\":true}},{\"type\":\"function\",\"function\":{\"name\":\"get_time\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\"}}}}}]";
    static TwoProviders providers;
    static FakeUpstream samba;
    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;
    String token;

    @BeforeAll
    static void start() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.models.azure", "gpt-4o");
        // a tool-calling model may take longer than this before its first argument fragment: see commitLate test
        p.put("llm.first-token-timeout-ms", "1500");
        providers = TwoProviders.start("gpt-4o", "az-test-key-0162", p);
        samba = providers.samba;
        azure = providers.azure;
        gateway = providers.gateway;
        client = providers.client;
    }

    @AfterAll
    static void stop() {
        providers.close();
    }

    @BeforeEach
    void reset() {
        providers.reset();
        token = Jwt.token("tools-" + System.nanoTime());
    }

    // ----------------------------------------------------------------------------- the providers' tool-call chunks

    static String azureChunk(String choice) {
        return "data: {\"choices\":[" + choice + "],\"created\":1732612345,\"id\":\"chatcmpl-AzT00l\",\"model\":"
                + "\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_b705f0c291\"}\n\n";
    }

    static String azureToolDelta(String toolCalls) {
        return azureChunk("{\"content_filter_results\":{},\"delta\":{\"tool_calls\":" + toolCalls + "},"
                + "\"finish_reason\":null,\"index\":0,\"logprobs\":null}");
    }

    /** Azure's asynchronous content filter: a choice without delta, only the filter's results. */
    static String azureContentFilter(int end) {
        return "data: {\"choices\":[{\"content_filter_offsets\":{\"check_offset\":0,\"start_offset\":0,"
                + "\"end_offset\":" + end + "},\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":"
                + "\"safe\"},\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},\"sexual\":{\"filtered\":false,"
                + "\"severity\":\"safe\"},\"violence\":{\"filtered\":false,\"severity\":\"safe\"}},\"finish_reason\":null,"
                + "\"index\":0}],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\"}\n\n";
    }

    /** The tool_calls arrays of the stream, in the order Azure sends them. */
    static final List<String> AZURE_CALLS = List.of(
            "[{\"function\":{\"arguments\":\"\",\"name\":\"get_weather\"},\"id\":\"call_Az1\",\"index\":0,\"type\":\"function\"}]",
            "[{\"function\":{\"arguments\":\"{\\\"ci\"},\"index\":0}]",
            "[{\"function\":{\"arguments\":\"ty\\\": \\\"Paris\\\"}\"},\"index\":0}]",
            "[{\"function\":{\"arguments\":\"\",\"name\":\"get_time\"},\"id\":\"call_Az2\",\"index\":1,\"type\":\"function\"}]",
            "[{\"function\":{\"arguments\":\"{\\\"zone\\\": \"},\"index\":1}]",
            "[{\"function\":{\"arguments\":\"\\\"CET\\\"}\"},\"index\":1}]");

    static Script azureTwoCalls() {
        Script s = Script.sse().chunk(Chunks.azurePromptFilter())
                .chunk(azureChunk("{\"content_filter_results\":{},\"delta\":{\"content\":null,\"refusal\":null,"
                        + "\"role\":\"assistant\",\"tool_calls\":" + AZURE_CALLS.get(0) + "},\"finish_reason\":null,"
                        + "\"index\":0,\"logprobs\":null}"));
        for (int i = 1; i < AZURE_CALLS.size(); i++) {
            s.chunk(azureToolDelta(AZURE_CALLS.get(i)));
            if (i == 3) {
                s.chunk(azureContentFilter(40));
            }
        }
        return s.chunk(azureChunk("{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"tool_calls\","
                        + "\"index\":0,\"logprobs\":null}"))
                .chunk(azureContentFilter(96))
                .chunk(Chunks.usageWithDetails(120, 0, 38, 0)).chunk(Chunks.done());
    }

    static final String SAMBA_CALL = "[{\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\",\"name\":"
            + "\"get_weather\"},\"id\":\"call_5b0c2a7e1f3d4c\",\"index\":0,\"type\":\"function\"}]";

    /** SambaNova: the whole call in one chunk (with an empty content), then the finish with usage. */
    static Script sambaOneCall() {
        return Script.sse(
                "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\",\"tool_calls\":" + SAMBA_CALL
                        + "},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],\"created\":1732612345.2,\"id\":"
                        + "\"9c1d\",\"model\":\"" + LLAMA + "\",\"object\":\"chat.completion.chunk\","
                        + "\"system_fingerprint\":\"fastcoe\"}\n\n",
                "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\",\"index\":0,\"logprobs\":null}],"
                        + "\"created\":1732612345.3,\"id\":\"9c1d\",\"model\":\"" + LLAMA + "\",\"object\":"
                        + "\"chat.completion.chunk\",\"system_fingerprint\":\"fastcoe\",\"usage\":{\"prompt_tokens\":"
                        + "210,\"completion_tokens\":18,\"total_tokens\":228}}\n\n",
                Chunks.done());
    }

    static Script sambaAnswer(String... pieces) {
        Script s = Script.sse();
        for (String p : pieces) {
            s.chunk(Chunks.delta(p));
        }
        return s.chunk(Chunks.finish("stop")).chunk(Chunks.usage(250, pieces.length)).chunk(Chunks.done());
    }

    HttpResponse<String> post(String body) {
        return client.send("POST", "/v1/chat/completions", token, "application/json", body);
    }

    /** Each event's tool_calls array, as text, in the order the stream carried them. */
    static List<String> relayedToolCalls(String sse) {
        List<String> relayed = new ArrayList<>();
        for (JsonNode c : dataEvents(sse)) {
            JsonNode calls = c.at("/choices/0/delta/tool_calls");
            if (!calls.isMissingNode()) {
                relayed.add(calls.toString());
            }
        }
        return relayed;
    }

    static List<JsonNode> dataEvents(String sse) {
        List<JsonNode> out = new ArrayList<>();
        for (String e : sse.split("\n\n")) {
            if (e.startsWith("data: {")) {
                out.add(GatewayClient.json(e.substring(6)));
            }
        }
        return out;
    }

    // ----------------------------------------------------------------------------------------------- the tests

    @Test
    void streamedToolCallDeltasAreRelayedExactlyAndInOrderThroughAzuresContentFilterChunks() {
        azure.enqueue(azureTwoCalls());

        HttpResponse<String> r = post("{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Weather and time in Paris?\"}],\"tools\":" + TOOLS + ",\"tool_choice\":\"auto\","
                + "\"parallel_tool_calls\":true}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<JsonNode> chunks = dataEvents(r.body());
        List<String> relayed = relayedToolCalls(r.body());
        List<String> sent = AZURE_CALLS.stream().map(s -> GatewayClient.json(s).toString()).toList();
        assertThat(relayed).isEqualTo(sent);
        // the first output carries the role, with no content, as OpenAI's
        assertThat(chunks.get(0).at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        assertThat(chunks.get(0).at("/choices/0/delta/content").isNull()).isTrue();
        assertThat(chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText()).isEqualTo("tool_calls");
        assertThat(r.body()).doesNotContain("content_filter_results").endsWith("data: [DONE]\n\n");
        // tools, tool_choice and parallel_tool_calls reached the provider exactly as sent
        JsonNode upstream = GatewayClient.json(azure.takeRequest(WAIT).body());
        assertThat(upstream.get("tools")).isEqualTo(GatewayClient.json(TOOLS));
        assertThat(upstream.get("tool_choice").asText()).isEqualTo("auto");
        assertThat(upstream.get("parallel_tool_calls").asBoolean()).isTrue();
    }

    @Test
    void theOpenAiSdksStreamAccumulatorAssemblesBothCalls() {
        azure.enqueue(azureTwoCalls());
        OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(token)
                .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();

        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("Weather and time in Paris?")
                        .addTool(weatherTool()).parallelToolCalls(true).build())) {
            stream.stream().forEach(accumulator::accumulate);
        }

        ChatCompletion completion = accumulator.chatCompletion();
        ChatCompletion.Choice choice = completion.choices().get(0);
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream()
                .map(c -> c.asFunction()).toList();
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).id()).isEqualTo("call_Az1");
        assertThat(calls.get(0).function().name()).isEqualTo("get_weather");
        assertThat(calls.get(0).function().arguments()).isEqualTo("{\"city\": \"Paris\"}");
        assertThat(calls.get(1).id()).isEqualTo("call_Az2");
        assertThat(calls.get(1).function().name()).isEqualTo("get_time");
        assertThat(calls.get(1).function().arguments()).isEqualTo("{\"zone\": \"CET\"}");
    }

    /** Gemini- and Mistral-style OpenAI compatibility: a whole call per delta, no index; arguments may follow alone. */
    static Script callsWithoutIndex() {
        String head = "data: {\"choices\":[{\"delta\":";
        String tail = ",\"finish_reason\":null,\"index\":0}],\"created\":1732612345,\"id\":\"g1\",\"model\":\""
                + LLAMA + "\",\"object\":\"chat.completion.chunk\"}\n\n";
        return Script.sse(
                head + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_A\",\"type\":"
                        + "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\"}}]}" + tail,
                head + "{\"tool_calls\":[{\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}" + tail,
                head + "{\"tool_calls\":[{\"id\":\"call_B\",\"type\":\"function\",\"function\":{\"name\":"
                        + "\"get_time\",\"arguments\":\"{\\\"zone\\\":\\\"CET\\\"}\"}}]}" + tail,
                "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\",\"index\":0}],\"created\":"
                        + "1732612345,\"id\":\"g1\",\"model\":\"" + LLAMA + "\",\"object\":\"chat.completion.chunk\"}\n\n",
                Chunks.done());
    }

    /**
     * Tool-call deltas without an index get one - a new id is the next call, a delta without id continues the last -
     * as the SDKs' accumulators key on it; relayed without, they broke them, and a whole completion made a call of
     * every fragment (black-box probe).
     */
    @Test
    void toolCallDeltasWithoutAnIndexAreGivenOneStreamedAndAssembled() {
        samba.enqueue(callsWithoutIndex());
        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"stream\":true,\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"Weather and time?\"}],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(relayedToolCalls(r.body())).containsExactly(
                "[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                        + "\"arguments\":\"{\\\"city\\\":\"}}]",
                "[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]",
                "[{\"index\":1,\"id\":\"call_B\",\"type\":\"function\",\"function\":{\"name\":\"get_time\","
                        + "\"arguments\":\"{\\\"zone\\\":\\\"CET\\\"}\"}}]");

        samba.enqueue(callsWithoutIndex());
        JsonNode whole = GatewayClient.json(post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Weather and time?\"}],\"tools\":" + TOOLS + "}").body());
        assertThat(whole.at("/choices/0/message/tool_calls").toString()).isEqualTo(
                "[{\"id\":\"call_A\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
                        + "\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_B\",\"type\":\"function\",\"function\":"
                        + "{\"name\":\"get_time\",\"arguments\":\"{\\\"zone\\\":\\\"CET\\\"}\"}}]");
    }

    @Test
    void aWholeCompletionCarriesTheAssembledToolCallsAndTheNextTurnPassesThroughUnchanged() {
        samba.enqueue(sambaOneCall());
        OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(token)
                .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
        ChatCompletionCreateParams.Builder turn = ChatCompletionCreateParams.builder().model(LLAMA)
                .addUserMessage("Weather in Paris?").addTool(weatherTool());

        ChatCompletion first = openai.chat().completions().create(turn.build());

        assertThat(first.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        assertThat(first.choices().get(0).message().content()).isEmpty();
        ChatCompletionMessageFunctionToolCall call = first.choices().get(0).message().toolCalls().orElseThrow()
                .get(0).asFunction();
        assertThat(call.id()).isEqualTo("call_5b0c2a7e1f3d4c");
        assertThat(call.function().arguments()).isEqualTo("{\"city\":\"Paris\"}");
        samba.takeRequest(WAIT);

        // the agent runs the tool and sends the assistant's calls and the result back
        samba.enqueue(sambaAnswer("Sunny", " in Paris."));
        ChatCompletion second = openai.chat().completions().create(turn
                .addMessage(first.choices().get(0).message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("sunny, 24 C")
                        .build()).build());

        assertThat(second.choices().get(0).message().content()).hasValue("Sunny in Paris.");
        JsonNode sent = GatewayClient.json(samba.takeRequest(WAIT).body()).get("messages");
        assertThat(sent.get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(sent.get(1).get("tool_calls")).isEqualTo(GatewayClient.json(
                "[{\"id\":\"call_5b0c2a7e1f3d4c\",\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\","
                        + "\"name\":\"get_weather\"},\"type\":\"function\"}]"));
        // in the order the SDK wrote it: the gateway sends the caller's message as it came
        assertThat(sent.get(2).toString()).isEqualTo(
                "{\"content\":\"sunny, 24 C\",\"role\":\"tool\",\"tool_call_id\":\"call_5b0c2a7e1f3d4c\"}");
    }

    @Test
    void assistantToolCallsAndToolMessagesReachTheProviderByteForByte() {
        samba.enqueue(sambaAnswer("Done."));
        String assistant = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
                + "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]}";
        String tool = "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"-3 C, snow\"}";

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Oslo?\"}," + assistant + "," + tool + "],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String body = samba.takeRequest(WAIT).body();
        assertThat(body).contains("\"messages\":[{\"role\":\"user\",\"content\":\"Oslo?\"}," + assistant + "," + tool
                + "]");
        assertThat(body).contains("\"tools\":" + TOOLS);
    }

    /** A reasoning model's tool call sent back with its thinking (DeepSeek's shape) goes upstream without it. */
    @Test
    void anAssistantToolCallSentBackWithItsReasoningReachesTheProviderWithoutIt() {
        samba.enqueue(sambaAnswer("Done."));
        String calls = "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
                + "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]";
        String tool = "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"-3 C, snow\"}";

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Oslo?\"},{\"role\":\"assistant\",\"reasoning_content\":\"The user wants Oslo.\",\"content\":null,"
                + calls + ",\"reasoning\":null}," + tool + "],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(samba.takeRequest(WAIT).body()).contains("\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Oslo?\"},{\"role\":\"assistant\",\"content\":null," + calls + "}," + tool + "],");
    }

    /**
     * A tool's result is context, not a new user turn: CHAT_MAX_MESSAGE_LENGTH (4000) does not cap it (black-box probe,
     * OpenAI Node SDK: a 10 KB result was a 400 string_above_max_length on messages[2].content).
     */
    @Test
    void aToolResultLongerThanTheMessageCapReachesTheProviderByteForByte() {
        samba.enqueue(sambaAnswer("Done."));
        String assistant = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
                + "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]}";
        String tool = "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"" + "0123456789".repeat(1000)
                + "\"}";

        HttpResponse<String> r = post("{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Oslo?\"}," + assistant + "," + tool + "],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(samba.takeRequest(WAIT).body()).contains("\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Oslo?\"}," + assistant + "," + tool + "],");
    }

    @Test
    void aToolCallIsTheFirstOutputSoAModelThatTakesLongForItsArgumentsIsNotFailedOver() {
        // the call's first delta comes at once, its arguments only after the first-token timeout (1.5 s) has passed
        azure.enqueue(Script.sse().chunk(azureChunk("{\"content_filter_results\":{},\"delta\":{\"content\":null,"
                        + "\"role\":\"assistant\",\"tool_calls\":" + AZURE_CALLS.get(0) + "},\"finish_reason\":null,"
                        + "\"index\":0,\"logprobs\":null}"))
                .delay(Duration.ofMillis(2500))
                .chunk(azureToolDelta("[{\"function\":{\"arguments\":\"{\\\"city\\\": \\\"Rome\\\"}\"},\"index\":0}]"))
                .chunk(azureChunk("{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"tool_calls\","
                        + "\"index\":0,\"logprobs\":null}"))
                .chunk(Chunks.done()));

        HttpResponse<String> r = post("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Rome?\"}],\"tools\":" + TOOLS + "}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Cobalt-Provider")).hasValue("azure");
        JsonNode message = GatewayClient.json(r.body()).at("/choices/0/message");
        assertThat(message.get("tool_calls").toString()).isEqualTo("[{\"id\":\"call_Az1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Rome\\\"}\"}}]");
        assertThat(samba.requestCount()).as("no fallback").isZero();
    }

    // ----------------------------------------------------------------------- LangChain4j: an agent with a Java tool

    interface Assistant {
        String chat(String question);
    }

    static final class WeatherTools {
        final List<String> asked = new CopyOnWriteArrayList<>();

        @Tool("The current weather in a city")
        String weather(@P("the city") String city) {
            asked.add(city);
            return "sunny, 24 C";
        }
    }

    @Test
    void aLangChain4jAiServiceCallsItsJavaToolAndGetsTheFinalAnswer() {
        WeatherTools tools = new WeatherTools();
        Assistant assistant = AiServices.builder(Assistant.class)
                .chatModel(OpenAiChatModel.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(token)
                        .modelName(LLAMA).timeout(Duration.ofSeconds(20)).maxRetries(0).build())
                .tools(tools).build();
        samba.enqueue(Script.sse(
                "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
                        + "{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\",\"name\":\"weather\"},\"id\":\"call_lc4j\","
                        + "\"index\":0,\"type\":\"function\"}]},\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
                        + "\"created\":1732612345.2,\"id\":\"9c1e\",\"model\":\"" + LLAMA + "\",\"object\":"
                        + "\"chat.completion.chunk\"}\n\n",
                Chunks.finishWithUsage("tool_calls", 150, 12), Chunks.done()));
        samba.enqueue(sambaAnswer("It is sunny", " and 24 C in Paris."));

        String answer = assistant.chat("What is the weather in Paris?");

        assertThat(answer).isEqualTo("It is sunny and 24 C in Paris.");
        assertThat(tools.asked).containsExactly("Paris");
        JsonNode first = GatewayClient.json(samba.takeRequest(WAIT).body());
        assertThat(first.at("/tools/0/function/name").asText()).isEqualTo("weather");
        JsonNode second = GatewayClient.json(samba.takeRequest(WAIT).body()).get("messages");
        JsonNode last = second.get(second.size() - 1);
        assertThat(last.get("role").asText()).isEqualTo("tool");
        assertThat(last.get("tool_call_id").asText()).isEqualTo("call_lc4j");
        assertThat(last.get("content").asText()).isEqualTo("sunny, 24 C");
        assertThat(second.get(second.size() - 2).at("/tool_calls/0/id").asText()).isEqualTo("call_lc4j");
    }

    static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city",
                                Map.of("type", "string")))).build()).build()).build();
    }
}
