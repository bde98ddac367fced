package com.cobalt.chat.provider;

/** One provider on JMX (jconsole, jmxterm): traffic, tokens, cost and health. */
public interface ProviderStatsMBean {

    String getName();

    long getRequests();

    long getFailures();

    long getAnswers();

    long getPromptTokens();

    long getCompletionTokens();

    long getEstimatedTokens();

    /** USD of priced answers. */
    double getCostUsd();

    long getAnswersWithUnknownCost();

    double getTimeToFirstTokenMeanMs();

    String getBreakerState();

    /** ISO instant, or an empty string when not cooling down. */
    String getCooldownUntil();

    String getLastErrorClass();
}
