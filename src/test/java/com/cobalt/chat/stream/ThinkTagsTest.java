package com.cobalt.chat.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The split of a think-tags model's content into reasoning and answer, wherever the deltas cut it. */
class ThinkTagsTest {

    static final String R1 = "<think>\nÜber 6×7: das ist 42. Aber <b> ist kein Tag.\n</think>\n\nDie Antwort ist 42 <3.";
    static final String REASONING = "\nÜber 6×7: das ist 42. Aber <b> ist kein Tag.\n";
    static final String ANSWER = "Die Antwort ist 42 <3.";

    /** Feeds the deltas; returns [reasoning, answer] and checks no piece was empty. */
    static String[] split(List<String> deltas) {
        ThinkTags tags = new ThinkTags();
        StringBuilder reasoning = new StringBuilder();
        StringBuilder answer = new StringBuilder();
        List<String> pieces = new ArrayList<>();
        for (String d : deltas) {
            tags.feed(d, (isReasoning, text) -> {
                pieces.add(text);
                (isReasoning ? reasoning : answer).append(text);
            });
        }
        tags.end((isReasoning, text) -> {
            pieces.add(text);
            (isReasoning ? reasoning : answer).append(text);
        });
        assertThat(pieces).doesNotContain("");
        return new String[] {reasoning.toString(), answer.toString()};
    }

    @Test
    void everySplitIntoTwoDeltasGivesTheSameReasoningAndAnswer() {
        for (int i = 0; i <= R1.length(); i++) {
            String[] r = split(List.of(R1.substring(0, i), R1.substring(i)));
            assertThat(r).as("split at " + i).containsExactly(REASONING, ANSWER);
        }
    }

    @Test
    void everySplitIntoThreeDeltasGivesTheSameReasoningAndAnswer() {
        for (int i = 0; i <= R1.length(); i++) {
            for (int j = i; j <= R1.length(); j++) {
                String[] r = split(List.of(R1.substring(0, i), R1.substring(i, j), R1.substring(j)));
                assertThat(r).as("split at " + i + ", " + j).containsExactly(REASONING, ANSWER);
            }
        }
    }

    @Test
    void oneCharacterPerDeltaAndRandomCutsGiveTheSameToo() {
        List<String> single = new ArrayList<>();
        R1.codePoints().forEach(cp -> single.add(new String(Character.toChars(cp))));
        assertThat(split(single)).containsExactly(REASONING, ANSWER);
        Random random = new Random(16);
        for (int n = 0; n < 200; n++) {
            List<String> deltas = new ArrayList<>();
            int at = 0;
            while (at < R1.length()) {
                int next = Math.min(R1.length(), at + random.nextInt(9));
                deltas.add(R1.substring(at, next));
                at = next;
            }
            assertThat(split(deltas)).containsExactly(REASONING, ANSWER);
        }
    }

    @Test
    void contentWithoutTagsIsAllAnswerAndAnUnfinishedTagAtTheEndIsText() {
        assertThat(split(List.of("a <", "thin", "g> b <thi"))).containsExactly("", "a <thing> b <thi");
    }

    @Test
    void aModelThatNeverClosesItsThinkingLeavesNoAnswer() {
        assertThat(split(List.of("<think>still", " thinking</thi"))).containsExactly("still thinking</thi", "");
    }
}
