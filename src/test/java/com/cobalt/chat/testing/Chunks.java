package com.cobalt.chat.testing;

/** Upstream SSE events in the providers' real chat.completion.chunk format. */
public final class Chunks {

    private Chunks() {
    }

    /** A content delta as SambaNova sends it (note the float {@code created}). */
    public static String delta(String content) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.123,"
                + "\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                + json(content) + "},\"finish_reason\":null,\"logprobs\":null}]}\n\n";
    }

    /** A reasoning delta as DeepSeek-R1 on SambaNova sends it ({@code reasoning_content}). */
    public static String reasoning(String text) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345.123,"
                + "\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
                + json(text) + "},\"finish_reason\":null,\"logprobs\":null}]}\n\n";
    }

    public static String finish(String reason) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}]}\n\n";
    }

    /** The finish chunk carrying usage itself (Azure AI Foundry). */
    public static String finishWithUsage(String reason, int prompt, int completion) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}],"
                + "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion
                + ",\"total_tokens\":" + (prompt + completion) + "}}\n\n";
    }

    /** The trailing usage chunk with {@code choices: []} (Azure OpenAI, SambaNova). */
    public static String usage(int prompt, int completion) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732612345,"
                + "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":"
                + completion + ",\"total_tokens\":" + (prompt + completion) + "}}\n\n";
    }

    /**
     * The trailing usage chunk as Azure OpenAI (2024-10-21 and later) and OpenAI send it: the breakdown of the prompt
     * ({@code cached_tokens}) and of the completion ({@code reasoning_tokens}) with their other, unused fields.
     */
    public static String usageWithDetails(int prompt, int cached, int completion, int reasoning) {
        return "data: {\"choices\":[],\"created\":1732612345,\"id\":\"chatcmpl-AzX1\",\"model\":\"gpt-4o-2024-08-06\","
                + "\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_b705f0c291\",\"usage\":{"
                + "\"completion_tokens\":" + completion + ",\"completion_tokens_details\":{\"accepted_prediction_tokens\":0,"
                + "\"audio_tokens\":0,\"reasoning_tokens\":" + reasoning + ",\"rejected_prediction_tokens\":0},"
                + "\"prompt_tokens\":" + prompt + ",\"prompt_tokens_details\":{\"audio_tokens\":0,\"cached_tokens\":"
                + cached + "},\"total_tokens\":" + (prompt + completion) + "}}\n\n";
    }

    /** Azure OpenAI's first chunk: no choices, only the prompt filter results. */
    public static String azurePromptFilter() {
        return "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
                + "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":"
                + "{\"filtered\":false,\"severity\":\"safe\"},\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},"
                + "\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},\"violence\":{\"filtered\":false,"
                + "\"severity\":\"safe\"}}}]}\n\n";
    }

    public static String done() {
        return "data: [DONE]\n\n";
    }

    public static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
