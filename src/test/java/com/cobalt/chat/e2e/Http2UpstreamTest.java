package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TlsUpstream;
import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Providers over TLS as they are reached in production, with HTTP/2 where the provider offers it (ALPN): the answer
 * streams exactly over either protocol; many answers share a connection; an answer paused for a client that does not
 * read leaves the others on its connection flowing (the 16 MiB connection window); a client that leaves resets only
 * its own stream; a provider that resets its stream mid-answer ends the client's with an error event; a connection
 * that goes away before taking the request costs a retry, not the chat; LLM_HTTP2=false keeps HTTP/1.1; and a
 * certificate nobody trusts is a precise 503, never a hang.
 */
@Timeout(60)
class Http2UpstreamTest {

    static final List<String> ANSWER = List.of(Chunks.delta("Over "), Chunks.delta("TLS."), Chunks.finish("stop"),
            Chunks.usage(7, 2));
    static final List<String> EVENTS = List.of(
            "data: {\"content\":\"Over \",\"done\":false}",
            "data: {\"content\":\"TLS.\",\"done\":false}",
            "data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}",
            "data: [DONE]");

    static RunningGateway gateway(TlsUpstream upstream, Map<String, String> overrides) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "sambanova");
        p.put("sambanova.api-base", upstream.baseUrl());
        p.put("sambanova.api-key", "sn-test-key-0001");
        p.put("sambanova.model", "Meta-Llama-3.3-70B-Instruct");
        p.put("llm.trusted-ca-file", upstream.certificate().toString());
        p.putAll(overrides);
        return RunningGateway.start(p);
    }

    /** The session's answer once it is stored (after the client's stream ended), polled with a deadline. */
    static JsonNode storedAnswer(GatewayClient client, String session, String token) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            JsonNode messages = client.session(session, token).get("messages");
            if (messages.size() == 2 && !"streaming".equals(messages.get(1).get("status").asText())) {
                return messages.get(1);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no stored answer in session " + session + ": " + messages);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    @Test
    void aProviderOfferingHttp2GetsTheChatsOverHttp2AndTheAnswersStreamExactly() {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of())) {
            GatewayClient client = new GatewayClient(gw);
            String token = Jwt.token("h2-user");
            String session = client.createSession(token);

            GatewayClient.Answer first = client.chat(session, token, "Hello over h2");
            GatewayClient.Answer second = client.chat(session, token, "And again");
            HttpResponse<String> whole = client.send("POST", "/v1/chat/completions", token, "application/json",
                    "{\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"whole\"}]}");

            assertThat(first.status()).as(first.body()).isEqualTo(200);
            assertThat(first.events()).containsExactlyElementsOf(EVENTS);
            assertThat(second.events()).containsExactlyElementsOf(EVENTS);
            assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
            assertThat(GatewayClient.json(whole.body()).at("/choices/0/message/content").asText())
                    .isEqualTo("Over TLS.");
            assertThat(upstream.versions()).containsExactly(HttpVersion.HTTP_2, HttpVersion.HTTP_2, HttpVersion.HTTP_2);
            assertThat(upstream.bodies().get(1)).contains("\"content\":\"And again\"").contains("\"stream\":true");
            // one connection per event loop at most, however many chats (the test gateway has one loop per core)
            assertThat(upstream.connections()).isBetween(1, Runtime.getRuntime().availableProcessors());
        }
    }

    @Test
    void manyAnswersAtOnceShareTheConnectionsLlmHttp2ConnectionsAllows() throws Exception {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of("llm.http2-connections", "1", "http.event-loops", "1"))) {
            GatewayClient client = new GatewayClient(gw);
            ExecutorService pool = Executors.newFixedThreadPool(24);
            try {
                List<Future<GatewayClient.Answer>> answers = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    String token = Jwt.token("h2-many-" + i);
                    answers.add(pool.submit(() -> client.chat(client.createSession(token), token, "at once")));
                }
                for (Future<GatewayClient.Answer> a : answers) {
                    assertThat(a.get().events()).containsExactlyElementsOf(EVENTS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(upstream.versions()).hasSize(24).containsOnly(HttpVersion.HTTP_2);
            assertThat(upstream.connections()).isEqualTo(1);
        }
    }

    @Test
    void aClientThatLeavesResetsItsOwnStreamAndTheConnectionServesTheNextChat() throws Exception {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of("http.event-loops", "1"))) {
            GatewayClient client = new GatewayClient(gw);
            String token = Jwt.token("h2-leaver");
            String session = client.createSession(token);
            assertThat(client.chat(session, token, "warm the connection").events()).containsExactlyElementsOf(EVENTS);

            HttpResponse<InputStream> held = client.openChat(session, token, "HOLD this one");
            assertThat(held.statusCode()).isEqualTo(200);
            BufferedReader reader = new BufferedReader(new InputStreamReader(held.body(), StandardCharsets.UTF_8));
            assertThat(reader.readLine()).isEqualTo("data: {\"content\":\"Over \",\"done\":false}");
            held.body().close();

            assertThat(upstream.awaitResets(1, Duration.ofSeconds(10))).as("the held stream was reset").isTrue();
            assertThat(client.chat(session, token, "after the reset").events()).containsExactlyElementsOf(EVENTS);
            assertThat(upstream.connections()).as("a reset stream does not cost the connection").isEqualTo(1);
        }
    }

    @Test
    void anAnswerPausedForAClientThatDoesNotReadDoesNotStallTheOthersOnItsConnection() throws Exception {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of("http.event-loops", "1", "llm.http2-connections", "1",
                     "chat.max-answer-bytes", "100000000", "llm.stream-idle-timeout-ms", "20000",
                     "llm.first-token-timeout-ms", "3000"))) {
            GatewayClient client = new GatewayClient(gw);
            String slowToken = Jwt.token("h2-slow-reader");
            String slowSession = client.createSession(slowToken);
            String token = Jwt.token("h2-other");
            String session = client.createSession(token);

            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", gw.port()));
                String body = "{\"content\":\"FLOOD me\"}";
                socket.getOutputStream().write(("POST /api/v1/chat/sessions/" + slowSession + "/messages HTTP/1.1\r\n"
                        + "Host: 127.0.0.1\r\nAuthorization: Bearer " + slowToken + "\r\nContent-Type: application/json"
                        + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                // and never read: the gateway pauses that answer's stream, whose unread bytes hold its window
                long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (upstream.stalledFor().compareTo(Duration.ofMillis(500)) < 0) {
                    assertThat(System.nanoTime()).as("the gateway never stopped taking the flood").isLessThan(deadline);
                    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
                }

                GatewayClient.Answer other = client.chat(session, token, "meanwhile");

                assertThat(other.events()).containsExactlyElementsOf(EVENTS);
                assertThat(upstream.connections()).as("both answers on the one connection").isEqualTo(1);
            }
        }
    }

    @Test
    void aProviderResettingItsStreamMidAnswerEndsTheClientsStreamWithAnErrorEventAndKeepsThePartialAnswer() {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of())) {
            GatewayClient client = new GatewayClient(gw);
            String token = Jwt.token("h2-break");
            String session = client.createSession(token);

            GatewayClient.Answer answer = client.chat(session, token, "BREAK halfway");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.body()).isEqualTo("data: {\"content\":\"Over \",\"done\":false}\n\n"
                    + "data: {\"content\":\"TLS.\",\"done\":false}\n\n"
                    + "event: error\n"
                    + "data: {\"error\":{\"code\":\"stream_interrupted\",\"message\":\"The provider's stream broke off;"
                    + " the partial answer was kept\"}}\n\n");
            JsonNode stored = storedAnswer(client, session, token);
            assertThat(stored.get("status").asText()).isEqualTo("interrupted");
            assertThat(stored.get("content").asText()).isEqualTo("Over TLS.");
            assertThat(upstream.versions()).containsExactly(HttpVersion.HTTP_2);
        }
    }

    @Test
    void aConnectionGoingAwayBeforeTheRequestWasTakenIsRetriedOnANewConnection() {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER);
             RunningGateway gw = gateway(upstream, Map.of("llm.max-retries", "1", "llm.retry-base-delay-ms", "1",
                     "http.event-loops", "1"))) {
            GatewayClient client = new GatewayClient(gw);
            String token = Jwt.token("h2-goaway");

            GatewayClient.Answer answer = client.chat(client.createSession(token), token, "GOAWAY then answer");

            assertThat(answer.events()).containsExactlyElementsOf(EVENTS);
            assertThat(upstream.versions()).containsExactly(HttpVersion.HTTP_2, HttpVersion.HTTP_2);
            assertThat(upstream.connections()).isEqualTo(2);
        }
    }

    /** One session chat through a gateway started for it. */
    static GatewayClient.Answer oneChat(TlsUpstream upstream, Map<String, String> overrides, String user) {
        try (RunningGateway gw = gateway(upstream, overrides)) {
            GatewayClient client = new GatewayClient(gw);
            String token = Jwt.token(user);
            return client.chat(client.createSession(token), token, "Hello");
        }
    }

    static Stream<Arguments> http1Cases() {
        return Stream.of(Arguments.of("the provider offers only HTTP/1.1", false, Map.of()),
                Arguments.of("LLM_HTTP2=false, HTTP/2 on offer", true, Map.of("llm.http2", "false")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("http1Cases")
    void http1OverTlsWhereHttp2IsNotOnOfferOrTurnedOff(String why, boolean offerHttp2, Map<String, String> overrides) {
        try (TlsUpstream upstream = offerHttp2 ? TlsUpstream.http2(ANSWER) : TlsUpstream.http1Only(ANSWER)) {
            assertThat(oneChat(upstream, overrides, "h1-user").events()).containsExactlyElementsOf(EVENTS);
            assertThat(upstream.versions()).containsExactly(HttpVersion.HTTP_1_1);
        }
    }

    @Test
    void aCertificateTheGatewayDoesNotTrustIsAPrecise503AndNothingReachesTheProvider() {
        try (TlsUpstream upstream = TlsUpstream.http2(ANSWER)) {
            GatewayClient.Answer answer = oneChat(upstream, Map.of("llm.trusted-ca-file", ""), "untrusted");

            assertThat(answer.status()).isEqualTo(503);
            assertThat(answer.contentType()).startsWith("application/json");
            assertThat(answer.body()).isEqualTo(ResilienceTest.UNAVAILABLE);
            assertThat(upstream.versions()).isEmpty();
        }
    }
}
