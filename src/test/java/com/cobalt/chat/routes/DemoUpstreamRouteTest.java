package com.cobalt.chat.routes;

import java.util.List;

import com.cobalt.chat.demo.DemoProvider;
import com.cobalt.chat.http.ClientConnection;
import io.vertx.core.Vertx;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** routes/demo-upstream.camel.yaml: the demo provider streams an OpenAI-compatible answer to its caller. */
class DemoUpstreamRouteTest extends RouteTestSupport {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void closeVertx() {
        vertx.close();
    }

    @Override
    protected List<String> routeFiles() {
        return List.of("demo-upstream.camel.yaml");
    }

    @Override
    protected void advise() throws Exception {
        context.getRegistry().bind("demoProvider", new DemoProvider(vertx, 1, "cobalt-demo"));
        fromDirect("demo-upstream");
    }

    @Test
    void streamsTheCannedAnswerWithUsageAndDone() throws Exception {
        // the route does not start by itself: the gateway starts it when a demo provider is configured
        assertThat(context.getRouteController().getRouteStatus("demo-upstream").isStarted()).isFalse();
        context.getRouteController().startRoute("demo-upstream");
        Relays.Client client = new Relays.Client(vertx);

        Exchange e = send("direct:demo-upstream", x -> {
            x.setProperty(ClientConnection.PROPERTY, client.connection);
            x.getMessage().setBody(("{\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}],"
                    + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        });

        assertThat(e.getException()).isNull();
        String out = client.written.toString();
        assertThat(out).startsWith("data: {\"id\":\"demo\",\"object\":\"chat.completion.chunk\",\"model\":\"cobalt-demo\"");
        assertThat(out).contains("\"delta\":{\"content\":\"Hello!\"}");
        assertThat(out).contains("\"finish_reason\":\"stop\"");
        int prompt = new com.cobalt.chat.record.TokenEstimator().prompt(
                List.of(new com.cobalt.chat.store.ContextMessage("user", "one two three")), "cobalt-demo");
        assertThat(out).contains("\"usage\":{\"prompt_tokens\":" + prompt + ",");
        assertThat(out).endsWith("data: [DONE]\n\n");
    }
}
