package com.cobalt.chat.routes;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.camel.Exchange;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.AdviceWithRouteBuilder;
import org.apache.camel.component.kamelet.KameletComponent;
import org.apache.camel.spi.Registry;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.apache.camel.test.junit5.TestExecutionConfiguration;
import org.apache.camel.util.function.ThrowingConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starts the real route files from {@code routes/} (Maven runs the tests in the project directory) with the
 * routeConfigurations of {@code error-handling.camel.yaml}, the beans of a {@link Fixture}, and whatever the test
 * weaves in {@link #advise()} before the context starts.
 */
abstract class RouteTestSupport extends CamelTestSupport {

    protected final Fixture f = createFixture();

    protected Fixture createFixture() {
        return new Fixture();
    }

    /** The route files under test, e.g. {@code chat-router.camel.yaml}. */
    protected abstract List<String> routeFiles();

    /** Provider ids whose provider-call route is made before the context starts, as GatewayConfiguration does. */
    protected List<String> providerRoutes() {
        return List.of();
    }

    /** Routes of the test itself, added after the route files (so their routeConfigurationIds resolve). */
    protected org.apache.camel.RoutesBuilder testRoutes() {
        return null;
    }

    /** AdviceWith on the loaded routes; the context starts right after. */
    protected void advise() throws Exception {
    }

    @Override
    public void configureTest(TestExecutionConfiguration configuration) {
        super.configureTest(configuration);
        configuration.withUseAdviceWith(true);
        configuration.withJMX(false);
    }

    @Override
    protected void bindToRegistry(Registry registry) throws Exception {
        f.bind(context, registry);
    }

    @Override
    protected void doPostSetup() throws Exception {
        context.getComponent("kamelet", KameletComponent.class).setLocation("file:routes");
        ThreadPoolProfile records = new ThreadPoolProfile("chatRecord");
        records.setPoolSize(2);
        records.setMaxPoolSize(2);
        records.setMaxQueueSize(100);
        context.getExecutorServiceManager().registerThreadPoolProfile(records);
        List<Resource> resources = new ArrayList<>();
        resources.add(ResourceHelper.resolveMandatoryResource(context, "file:routes/error-handling.camel.yaml"));
        for (String file : routeFiles()) {
            resources.add(ResourceHelper.resolveMandatoryResource(context, "file:routes/" + file));
        }
        PluginHelper.getRoutesLoader(context).loadRoutes(resources);
        if (testRoutes() != null) {
            context.addRoutes(testRoutes());
        }
        for (String provider : providerRoutes()) {
            context.getEndpoint(providerEndpoint(provider));
        }
        advise();
        context.start();
    }

    @Override
    protected void doPostTearDown() throws Exception {
        f.close();
    }

    static String providerEndpoint(String provider) {
        return "kamelet:provider-call/provider-" + provider + "?provider=" + provider + "&noErrorHandler=true";
    }

    protected void weave(String routeId, ThrowingConsumer<AdviceWithRouteBuilder, Exception> advice) throws Exception {
        AdviceWith.adviceWith(context, routeId, advice);
    }

    /** The route's platform-http consumer replaced by direct:&lt;routeId&gt;, so a test calls it like a client. */
    protected void fromDirect(String routeId) throws Exception {
        weave(routeId, a -> a.replaceFromWith("direct:" + routeId));
    }

    /** A request as platform-http hands it to the route: the caller's token, path parameters as headers, a body. */
    protected Exchange request(String routeId, String token, String jsonBody, java.util.Map<String, Object> headers) {
        return send("direct:" + routeId, e -> {
            if (token != null) {
                e.getMessage().setHeader("Authorization", "Bearer " + token);
            }
            if (jsonBody != null) {
                e.getMessage().setHeader("Content-Type", "application/json");
                e.getMessage().setBody(jsonBody.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            headers.forEach(e.getMessage()::setHeader);
        });
    }

    protected static com.fasterxml.jackson.databind.JsonNode json(Exchange e) {
        // the marshalled body may be a stream: read it once and keep the text
        e.getMessage().setBody(e.getMessage().getBody(String.class));
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(e.getMessage().getBody(String.class));
        } catch (Exception x) {
            throw new AssertionError("not JSON: " + e.getMessage().getBody(String.class), x);
        }
    }

    protected static Integer status(Exchange e) {
        return e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
    }

    /** Sends an exchange (variables, properties, headers set by {@code setup}) and returns it when done. */
    protected Exchange send(String uri, ThrowingConsumer<Exchange, Exception> setup) {
        return template.send(uri, e -> {
            try {
                setup.accept(e);
            } catch (Exception ex) {
                throw new IllegalStateException(ex);
            }
        });
    }

    protected double counter(String name, String... tags) {
        var c = f.meters.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    /** The JSON body of an API error answer, with its status. */
    protected static void assertError(Exchange e, int status, String code) {
        assertThat(e.getException()).as("handled by the route configuration").isNull();
        assertThat(e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class)).isEqualTo(status);
        e.getMessage().setBody(e.getMessage().getBody(String.class));
        assertThat(e.getMessage().getBody(String.class)).contains("\"code\":\"" + code + "\"");
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
