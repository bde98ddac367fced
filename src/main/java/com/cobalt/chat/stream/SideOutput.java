package com.cobalt.chat.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a model wrote beside its answer and its reasoning: its tool calls' names and arguments, and a refusal a format
 * keeps apart from the content (/v1's {@code refusal}). Providers bill it as completion tokens, so where one reports
 * no usage the gateway's estimate must count it too (black-box probe: a tool-call answer and a refusal were counted
 * 0 completion tokens). Made by a session's first such output; most answers have none. Event loop only.
 */
final class SideOutput {

    /** Each call's name and arguments as its deltas built them, by the call's index: {@code [name, arguments]}. */
    private final Map<Integer, StringBuilder[]> calls = new TreeMap<>();
    private StringBuilder refusal;
    private final ToolCallIndexes indexes = new ToolCallIndexes();

    /** Tool-call deltas as the provider sent them: a name starts or renames a call, arguments come in fragments. */
    void toolCalls(JsonNode deltas) {
        for (JsonNode call : deltas) {
            StringBuilder[] c = calls.computeIfAbsent(indexes.of(call),
                    i -> new StringBuilder[] {new StringBuilder(), new StringBuilder()});
            JsonNode function = call.path("function");
            if (function.path("name").isTextual()) {
                // set, not appended: some servers repeat the name on every delta of the call
                c[0].setLength(0);
                c[0].append(function.get("name").asText());
            }
            if (function.path("arguments").isTextual()) {
                c[1].append(function.get("arguments").asText());
            }
        }
    }

    void refusal(String piece) {
        if (refusal == null) {
            refusal = new StringBuilder();
        }
        refusal.append(piece);
    }

    /**
     * The texts to count, each on its own as a prompt's tool calls are (TokenEstimator): every call's name and
     * arguments in index order, then the refusal.
     */
    List<String> texts() {
        List<String> out = new ArrayList<>(2 * calls.size() + 1);
        for (StringBuilder[] c : calls.values()) {
            out.add(c[0].toString());
            out.add(c[1].toString());
        }
        if (refusal != null) {
            out.add(refusal.toString());
        }
        return out;
    }
}
