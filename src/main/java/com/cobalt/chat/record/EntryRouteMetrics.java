package com.cobalt.chat.record;

import org.apache.camel.CamelContext;
import org.apache.camel.NamedNode;
import org.apache.camel.component.micrometer.routepolicy.MicrometerRoutePolicyConfiguration;
import org.apache.camel.component.micrometer.routepolicy.MicrometerRoutePolicyFactory;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.RoutePolicy;

/**
 * Camel's route metrics ({@code camel_exchanges_*} and the route timer, by {@code routeId}) for the routes a request
 * enters: the HTTP routes and each provider's route. A route consumed from {@code direct:} gets none: it runs inside
 * its caller's exchange, so its time is in the caller's timer and its failures reach the caller's counters (the
 * internal routes have no error handler of their own). Camel's context-wide series is off too: it counted each chat
 * once more. Timing every route a chat passes cost two {@code String.format} calls per route and level, ~20 per
 * {@code /v1} chat (bench/README.md, fix 30).
 */
public final class EntryRouteMetrics extends MicrometerRoutePolicyFactory {

    public EntryRouteMetrics() {
        MicrometerRoutePolicyConfiguration configuration = new MicrometerRoutePolicyConfiguration();
        configuration.setContextEnabled(false);
        setPolicyConfiguration(configuration);
    }

    @Override
    public RoutePolicy createRoutePolicy(CamelContext camel, String routeId, NamedNode route) {
        return entered(route) ? super.createRoutePolicy(camel, routeId, route) : null;
    }

    /** False for a route whose consumer is a direct: endpoint (only other routes call it). */
    static boolean entered(NamedNode route) {
        if (route instanceof RouteDefinition definition && definition.getInput() != null) {
            String uri = definition.getInput().getEndpointUri();
            return uri == null || !uri.startsWith("direct:");
        }
        return true;
    }
}
