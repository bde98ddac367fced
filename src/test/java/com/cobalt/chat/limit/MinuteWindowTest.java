package com.cobalt.chat.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The ring the in-memory ledger keeps a user's last minute in: order, wrap-around and growth. */
class MinuteWindowTest {

    @Test
    void keepsTheTimesInOrderAcrossDropsWrapAroundAndGrowth() {
        MinuteWindow window = new MinuteWindow();
        for (long t = 1; t <= 10; t++) { // grows 4 -> 8 -> 16
            window.add(t, 1);
        }
        window.dropUpTo(6); // head moves to the middle
        for (long t = 11; t <= 30; t++) { // wraps around the end, then grows again with the head not at 0
            window.add(t, 1);
        }
        window.dropUpTo(6); // nothing at or before 6 is left

        assertThat(contents(window)).isEqualTo(range(7, 30));
        assertThat(window.get(0)).isEqualTo(7);
    }

    @Test
    void addsManyMessagesAtOneTimeAndDropsThemTogether() {
        MinuteWindow window = new MinuteWindow();
        window.add(100, 3);
        window.add(200, 5);

        assertThat(window.size()).isEqualTo(8);
        window.dropUpTo(100);
        assertThat(contents(window)).containsExactly(200L, 200L, 200L, 200L, 200L);
        window.dropUpTo(200);
        assertThat(window.size()).isZero();
    }

    @Test
    void refusesATimeBeforeTheNewestOne() {
        MinuteWindow window = new MinuteWindow();
        window.add(50, 1);

        assertThatThrownBy(() -> window.add(49, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("not in time order");
        assertThatThrownBy(() -> window.get(1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void convertsInstantsToMicrosecondsAndBack() {
        Instant at = Instant.parse("2026-11-26T09:00:00.123456Z");

        assertThat(MinuteWindow.micros(at)).isEqualTo(1_795_683_600_123_456L);
        assertThat(MinuteWindow.instant(MinuteWindow.micros(at))).isEqualTo(at);
        assertThat(MinuteWindow.instant(-1)).isEqualTo(Instant.parse("1969-12-31T23:59:59.999999Z"));
    }

    private static List<Long> contents(MinuteWindow window) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < window.size(); i++) {
            out.add(window.get(i));
        }
        return out;
    }

    private static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long t = from; t <= to; t++) {
            out.add(t);
        }
        return out;
    }
}
