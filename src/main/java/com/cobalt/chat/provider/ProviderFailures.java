package com.cobalt.chat.provider;

import com.cobalt.chat.model.Catalog;
import com.cobalt.chat.trace.ChatTrace;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The steps of provider-fallback that YAML cannot say: what failed, and the failure that ends the request. */
public class ProviderFailures {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderFailures.class);
    /** Set when the request failed without a fallback because no provider serves its model or an equivalent. */
    public static final String NO_EQUIVALENT_VARIABLE = "noEquivalentFor";
    /** Set when the request failed without a fallback because its fallback model lacks a capability it needs. */
    public static final String FALLBACK_LACKS_VARIABLE = "fallbackLacks";

    private final Catalog catalog;

    public ProviderFailures(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * provider-fallback's first step: why {@code provider} did not answer, added to the request's attempts (made on
     * the first failure; the route keeps them in {@value ProviderAttempts#PROPERTY}). The failure is Camel's caught
     * exception of the provider route's doCatch (an open breaker's is a breaker-open ProviderFailure; a
     * CallNotPermittedException, or none, is read the same way). With tracing on, the
     * provider's attempt span ends here with the failure as its error.type.
     */
    public ProviderAttempts note(@ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Throwable caught,
                                 @Variable("provider") String provider,
                                 @ExchangeProperty(ProviderAttempts.PROPERTY) ProviderAttempts attempts,
                                 @Variable(UpstreamClient.UPSTREAM_MODEL_VARIABLE) String upstreamModel,
                                 @ExchangeProperty(ChatTrace.PROPERTY) ChatTrace trace) {
        if (caught instanceof ShuttingDown stop) {
            throw stop; // the gateway cut the wait at shutdown: no fallback, the caller gets the 503
        }
        ProviderFailure failure;
        if (caught instanceof ProviderFailure pf) {
            failure = pf;
        } else if (caught == null || caught instanceof CallNotPermittedException) {
            failure = ProviderFailure.breakerOpen(provider);
        } else {
            failure = ProviderFailure.connect(provider, caught);
        }
        if (trace != null) {
            // the provider's attempt span ends with the error (a provider skipped without a call gets one of no length)
            trace.attemptFailed(provider, upstreamModel, failure.errorClass());
        }
        ProviderAttempts all = attempts == null ? new ProviderAttempts() : attempts;
        all.add(failure);
        if (failure.errorClass().equals(ProviderFailure.breakerOpen(provider).errorClass())) {
            // not a call: the breaker's opening was logged once (ProviderBreakers); a line per skipped chat grew
            // the log with the traffic all through an outage (black-box probe)
            LOG.debug("Provider {} skipped: its breaker is open", provider);
        } else if (failure.kind() == ProviderFailure.Kind.COOLDOWN) {
            // not a call either: the cooldown's start was logged once (ProviderHealth); a retry hint of minutes made
            // one WARN a chat until it passed (black-box probe)
            LOG.debug("Provider {} skipped: its model is cooling down", provider);
        } else if (failure.busy()) {
            // the gateway's own connection limit: logged at most once a minute (UpstreamClient), not per waiting chat
            LOG.debug("Provider {} skipped: every connection to it is in use", provider);
        } else if (failure.rateLimited()) {
            rateLimited(provider, failure);
        } else {
            LOG.warn("Provider {} failed before its stream began: {}", provider, failure.errorClass());
        }
        return all;
    }

    /** A provider's 429s: the first logged, then at most one line a minute with the count since. */
    private final LogOncePerMinute rateLimitLog = new LogOncePerMinute();

    /**
     * A 429 is the provider's expected answer under load, not a fault: under a burst every chat got its own WARN
     * line (four hundred chats against a limiting provider and its fallback wrote over four hundred). Logged at WARN
     * once, then at most once a minute per provider with the number of 429s since; the others are DEBUG. A 429 with
     * a retry hint also starts a cooldown, logged once by ProviderHealth.
     */
    private void rateLimited(String provider, ProviderFailure failure) {
        long unlogged = rateLimitLog.heldBackOrMinusOne(provider);
        if (unlogged < 0) {
            LOG.debug("Provider {} failed before its stream began: {}", provider, failure.errorClass());
        } else if (unlogged == 0) {
            LOG.warn("Provider {} failed before its stream began: {}", provider, failure.errorClass());
        } else {
            LOG.warn("Provider {} failed before its stream began: {} ({} more 429 answer(s) since the last such line)",
                    provider, failure.errorClass(), unlogged);
        }
    }

    /**
     * When no fallback is left: the model the request asked for if a fallback provider is configured but none
     * serves that model or an equivalent (the error then says so), else null.
     */
    public String modelWithoutEquivalent(@Variable("model") String model, @Variable("provider") String provider,
                                         @Variable("fallbackFrom") String fallbackFrom,
                                         @Variable(Catalog.SELECTION) ProviderSelection.Choice selected) {
        return fallbackFrom == null && model != null && provider != null
                && catalog.lacksEquivalent(model, provider, selected) ? model : null;
    }

    /**
     * When no fallback is left: the capability the request needs that its fallback model lacks, if that is why the
     * fallback was not tried (the 503 names it), else null.
     */
    public String fallbackLacking(@Variable("model") String model, @Variable("provider") String provider,
                                  @Variable("fallbackFrom") String fallbackFrom,
                                  @Variable(Catalog.SELECTION) ProviderSelection.Choice selected,
                                  @Variable(Catalog.NEEDS) java.util.List<String> needs) {
        return fallbackFrom == null && model != null && provider != null
                ? catalog.fallbackLacks(model, provider, selected, needs) : null;
    }

    /** No provider is left to try: fail with the last failure; the error handler reads all attempts. */
    public void exhausted(@ExchangeProperty(ProviderAttempts.PROPERTY) ProviderAttempts attempts) {
        var failures = attempts == null ? java.util.List.<ProviderFailure>of() : attempts.failures();
        throw failures.isEmpty() ? ProviderFailure.breakerOpen("none") : failures.get(failures.size() - 1);
    }
}
