package com.cobalt.chat.provider;

import com.cobalt.chat.model.Catalog;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The steps of provider-fallback that YAML cannot say: what failed, and the failure that ends the request. */
public class ProviderFailures {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderFailures.class);
    /** Set when the request failed without a fallback because no provider serves its model or an equivalent. */
    public static final String NO_EQUIVALENT_VARIABLE = "noEquivalentFor";

    private final Catalog catalog;

    public ProviderFailures(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Records why {@code provider} did not answer; an open breaker leaves no exception behind, only the flag. */
    public void note(Exchange exchange, String provider) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        ProviderFailure failure;
        if (caught instanceof ProviderFailure pf) {
            failure = pf;
        } else if (caught == null || caught instanceof CallNotPermittedException) {
            failure = ProviderFailure.breakerOpen(provider);
        } else {
            failure = ProviderFailure.connect(provider, caught);
        }
        attempts(exchange).add(failure);
        LOG.warn("Provider {} failed before its stream began: {}", provider, failure.errorClass());
        exchange.setVariable("failureClass", failure.errorClass());
    }

    /** No provider is left to try: fail with the last failure; the error handler reads all attempts. */
    public void exhausted(Exchange exchange) {
        String model = exchange.getVariable("model", String.class);
        String provider = exchange.getVariable("provider", String.class);
        if (exchange.getVariable("fallbackFrom") == null && model != null && provider != null
                && catalog.lacksEquivalent(model, provider)) {
            exchange.setVariable(NO_EQUIVALENT_VARIABLE, model);
        }
        var failures = attempts(exchange).failures();
        throw failures.isEmpty() ? ProviderFailure.breakerOpen("none") : failures.get(failures.size() - 1);
    }

    public static ProviderAttempts attempts(Exchange exchange) {
        ProviderAttempts attempts = exchange.getProperty(ProviderAttempts.PROPERTY, ProviderAttempts.class);
        if (attempts == null) {
            attempts = new ProviderAttempts();
            exchange.setProperty(ProviderAttempts.PROPERTY, attempts);
        }
        return attempts;
    }
}
