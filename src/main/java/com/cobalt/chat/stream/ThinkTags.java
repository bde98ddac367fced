package com.cobalt.chat.stream;

import java.util.function.BiConsumer;

/**
 * Splits the content of a model that writes its reasoning inline ({@code llm.model.<id>.reasoning = think-tags},
 * e.g. DeepSeek-R1 on SambaNova) into reasoning and answer: text between {@code <think>} and {@code </think>} is
 * reasoning, the rest is the answer. A tag may be split across deltas anywhere (the provider's chunks, and the
 * network's, cut where they like): a trailing piece that could be the start of a tag is held until the next delta
 * says whether it is one. One instance per answer, used on one event loop.
 */
public final class ThinkTags {

    static final String OPEN = "<think>";
    static final String CLOSE = "</think>";

    private boolean thinking;
    /** A held tail that is a prefix of the tag expected next. */
    private String held = "";
    /** Whether any answer text was emitted yet: the newlines R1 puts after {@code </think>} are not the answer. */
    private boolean answered;

    /**
     * Feeds one content delta; {@code out} gets (isReasoning, text) pieces in order, never an empty one.
     */
    public void feed(String delta, BiConsumer<Boolean, String> out) {
        String s = held + delta;
        held = "";
        int i = 0;
        while (i < s.length()) {
            String tag = thinking ? CLOSE : OPEN;
            int at = s.indexOf(tag, i);
            if (at >= 0) {
                emit(s.substring(i, at), out);
                i = at + tag.length();
                thinking = !thinking;
                continue;
            }
            // no whole tag: hold the longest tail that could begin one
            int keep = partialTagAtEnd(s, i, tag);
            emit(s.substring(i, s.length() - keep), out);
            held = s.substring(s.length() - keep);
            return;
        }
    }

    /** The answer ended: a held piece that never became a tag is text after all. */
    public void end(BiConsumer<Boolean, String> out) {
        String rest = held;
        held = "";
        emit(rest, out);
    }

    private void emit(String text, BiConsumer<Boolean, String> out) {
        if (text.isEmpty()) {
            return;
        }
        if (!thinking && !answered) {
            text = stripLeadingNewlines(text);
            if (text.isEmpty()) {
                return;
            }
            answered = true;
        }
        out.accept(thinking, text);
    }

    private static String stripLeadingNewlines(String text) {
        int i = 0;
        while (i < text.length() && (text.charAt(i) == '\n' || text.charAt(i) == '\r')) {
            i++;
        }
        return text.substring(i);
    }

    /** How many trailing characters of s (from start on) are a proper prefix of tag. */
    private static int partialTagAtEnd(String s, int start, String tag) {
        int max = Math.min(tag.length() - 1, s.length() - start);
        for (int n = max; n > 0; n--) {
            if (s.regionMatches(s.length() - n, tag, 0, n)) {
                return n;
            }
        }
        return 0;
    }
}
