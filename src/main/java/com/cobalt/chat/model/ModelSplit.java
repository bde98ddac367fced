package com.cobalt.chat.model;

import java.util.List;
import java.util.random.RandomGenerator;

import com.cobalt.chat.config.SplitArm;

/**
 * The weighted A/B split of new sessions that do not pick a model (e.g. 90% Llama on SambaNova, 10% GPT-4o on
 * Azure). Each draw is independent; the source of randomness is injectable so that tests can seed it.
 */
public class ModelSplit {

    private final List<SplitArm> arms;
    private final int total;
    private final RandomGenerator random;

    public ModelSplit(List<SplitArm> arms, RandomGenerator random) {
        this.arms = List.copyOf(arms);
        this.total = arms.stream().mapToInt(SplitArm::weight).sum();
        this.random = random;
    }

    public boolean active() {
        return !arms.isEmpty();
    }

    public List<SplitArm> arms() {
        return arms;
    }

    /** One arm, with probability weight / total; null when no split is configured. */
    public String choose() {
        if (arms.isEmpty()) {
            return null;
        }
        int r;
        synchronized (random) {
            r = random.nextInt(total);
        }
        for (SplitArm arm : arms) {
            r -= arm.weight();
            if (r < 0) {
                return arm.model();
            }
        }
        throw new IllegalStateException("weights changed");
    }
}
