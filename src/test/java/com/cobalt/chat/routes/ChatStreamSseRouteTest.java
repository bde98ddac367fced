package com.cobalt.chat.routes;

import java.util.List;
import java.util.concurrent.TimeUnit;

import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.stream.StreamOutcome;
import io.vertx.core.Vertx;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/chat-stream-sse.camel.yaml: the real SseRelay relays a primed answer (a RelaySession replayed from SSE bytes)
 * to the caller's response on its Vert.x context, and completes the exchange with how the answer ended.
 */
class ChatStreamSseRouteTest extends RouteTestSupport {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void closeVertx() {
        vertx.close();
    }

    @Override
    protected List<String> routeFiles() {
        return List.of("chat-stream-sse.camel.yaml");
    }

    @Test
    void relaysTheAnswerToTheClientAndKeepsItsOutcome() throws Exception {
        Relays.Client client = new Relays.Client(vertx);
        String sse = "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{\"content\":\" \\\"there\\\" ${body}\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";

        Exchange e = send("direct:chat-stream-sse", x -> {
            x.setProperty(ClientConnection.PROPERTY, client.connection);
            x.setProperty("cobaltUpstream", Relays.replayed("sambanova", "m", sse, client.connection, vertx));
        });

        assertThat(e.getException()).isNull();
        StreamOutcome outcome = e.getProperty(StreamOutcome.PROPERTY, StreamOutcome.class);
        assertThat(outcome.status()).isEqualTo("complete");
        assertThat(outcome.content()).isEqualTo("Hello \"there\" ${body}");
        assertThat(outcome.promptTokens()).isEqualTo(3);
        assertThat(outcome.completionTokens()).isEqualTo(2);
        assertThat(client.written.toString())
                .contains("data: {\"content\":\"Hello\",\"done\":false}")
                .contains("data: {\"content\":\" \\\"there\\\" ${body}\",\"done\":false}")
                .contains("\"done\":true");
        // the end of the response is left to chat-http's end-stream step, after the answer is stored
        assertThat(client.ended.await(50, TimeUnit.MILLISECONDS)).isFalse();
    }

    @Test
    void withoutAStreamTheFailureGoesBackToTheCaller() {
        Exchange e = send("direct:chat-stream-sse", x -> { });

        assertThat(e.getException()).isInstanceOf(IllegalStateException.class)
                .hasMessage("no upstream stream or client connection to relay");
    }
}
