package com.cobalt.chat.provider;

import java.math.BigDecimal;
import java.util.concurrent.atomic.AtomicLong;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/** The JMX view of one provider: its answers, tokens and cost, with health and breaker read live. */
public class ProviderStats implements ProviderStatsMBean {

    private final String provider;
    private final CircuitBreaker breaker;
    private final ProviderHealth health;
    private final AtomicLong answers = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong completionTokens = new AtomicLong();
    private final AtomicLong estimatedTokens = new AtomicLong();
    private final AtomicLong unknownCost = new AtomicLong();
    private final AtomicLong firstTokenAnswers = new AtomicLong();
    private final AtomicLong firstTokenMillis = new AtomicLong();
    private BigDecimal cost = BigDecimal.ZERO;

    public ProviderStats(String provider, CircuitBreaker breaker, ProviderHealth health) {
        this.provider = provider;
        this.breaker = breaker;
        this.health = health;
    }

    public void answered(int prompt, int completion, boolean estimated, BigDecimal costUsd, Long ttftMs) {
        answers.incrementAndGet();
        promptTokens.addAndGet(prompt);
        completionTokens.addAndGet(completion);
        if (estimated) {
            estimatedTokens.addAndGet((long) prompt + completion);
        }
        if (costUsd == null) {
            unknownCost.incrementAndGet();
        } else {
            synchronized (this) {
                cost = cost.add(costUsd);
            }
        }
        if (ttftMs != null) {
            firstTokenAnswers.incrementAndGet();
            firstTokenMillis.addAndGet(ttftMs);
        }
    }

    @Override
    public String getName() {
        return provider;
    }

    @Override
    public long getRequests() {
        return health.snapshot(provider).requests();
    }

    @Override
    public long getFailures() {
        return health.snapshot(provider).failures();
    }

    @Override
    public long getAnswers() {
        return answers.get();
    }

    @Override
    public long getPromptTokens() {
        return promptTokens.get();
    }

    @Override
    public long getCompletionTokens() {
        return completionTokens.get();
    }

    @Override
    public long getEstimatedTokens() {
        return estimatedTokens.get();
    }

    @Override
    public synchronized double getCostUsd() {
        return cost.doubleValue();
    }

    @Override
    public long getAnswersWithUnknownCost() {
        return unknownCost.get();
    }

    @Override
    public double getTimeToFirstTokenMeanMs() {
        long n = firstTokenAnswers.get();
        return n == 0 ? 0 : (double) firstTokenMillis.get() / n;
    }

    @Override
    public String getBreakerState() {
        return breaker.getState().name();
    }

    @Override
    public String getCooldownUntil() {
        var until = health.snapshot(provider).cooldownUntil();
        return until == null ? "" : until.toString();
    }

    @Override
    public String getLastErrorClass() {
        String e = health.snapshot(provider).lastErrorClass();
        return e == null ? "" : e;
    }
}
