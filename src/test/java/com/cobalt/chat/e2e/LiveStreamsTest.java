package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.PrometheusText;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An answer leaves the live streams (chat_active_streams, and what a shutdown waits for) when it ends, however it
 * arrived. A short answer often comes whole in one network read, before the relay has attached to the client; such
 * a stream once stayed counted as live forever, one leaked relay per answer (found by the bench with -Xmx512m).
 */
@Timeout(60)
class LiveStreamsTest {

    static FakeUpstream upstream;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of());
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    static void awaitNoLiveStream() {
        PrometheusText.await(gateway, m -> Double.valueOf(0.0).equals(m.value("chat_active_streams", Map.of())));
    }

    @Test
    void anAnswerInOneReadOneInManyAndAWholeJsonAnswerAllLeaveTheLiveStreams() {
        String token = Jwt.token("live-streams");
        String session = client.createSession(token);

        upstream.enqueue(Script.sse(Chunks.delta("All ") + Chunks.delta("at once") + Chunks.finish("stop")
                + Chunks.usage(4, 2) + Chunks.done()));
        assertThat(client.chat(session, token, "one read").text()).isEqualTo("All at once");
        awaitNoLiveStream();

        upstream.enqueue(Script.sse(Chunks.delta("One "), Chunks.delta("by one"), Chunks.finish("stop"),
                Chunks.done()));
        assertThat(client.chat(session, token, "many reads").text()).isEqualTo("One by one");
        awaitNoLiveStream();

        upstream.enqueue(Script.json(200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
                + "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                + "\"Whole\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}"));
        assertThat(client.chat(session, token, "whole json").text()).isEqualTo("Whole");
        awaitNoLiveStream();
    }

    /** After [DONE] the upstream may end by itself (its connection is reused); one that lingers is cut after 5 s. */
    @Test
    void anUpstreamThatLingersAfterItsAnswerIsCut() {
        String token = Jwt.token("live-streams-linger");
        String session = client.createSession(token);
        upstream.enqueue(Script.sse(Chunks.delta("Done"), Chunks.finish("stop"), Chunks.done()).stall());

        assertThat(client.chat(session, token, "linger").text()).isEqualTo("Done");
        awaitNoLiveStream();
        assertThat(upstream.awaitDisconnect(java.time.Duration.ofSeconds(10)))
                .as("the lingering upstream request was cut").isTrue();
    }
}
