package com.cobalt.chat.config;

/** One arm of the A/B split of new sessions: the model id (also the variant's name) and its weight. */
public record SplitArm(String model, int weight) {
}
