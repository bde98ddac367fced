package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What arrives from the provider together goes to the client together. OpenAI-compatible servers send each SSE
 * event as an HTTP chunk of its own and Netty hands them over one at a time, so the relay wrote (and the kernel
 * sent) one chunk per token: 23 writes for a 20-token answer that came in one TCP read. Now the events of one
 * event-loop turn's reads go out as one HTTP chunk, and the last event goes with the end of the response. The test
 * reads the gateway's chunked response on a raw socket, where each HTTP chunk is one write of the gateway.
 */
@Timeout(60)
class RelayWritesTest {

    static FakeUpstream upstream;
    static RunningGateway gateway;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(upstream, Map.of());
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void theTokensOfOneUpstreamReadReachAnOpenAiClientInOneWrite() throws IOException {
        String token = Jwt.token("batched-v1");
        List<String> chunks = relay(token, "POST /v1/chat/completions",
                "{\"model\":\"Meta-Llama-3.3-70B-Instruct\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"count\"}]}");

        assertThat(chunks).hasSize(3);
        assertThat(contents(chunks.get(0))).isEqualTo("first ");
        assertThat(contents(chunks.get(1))).isEqualTo(tokens());
        assertThat(chunks.get(1)).contains("\"finish_reason\":\"stop\"");
        assertThat(chunks.get(2)).isEqualTo("data: [DONE]\n\n");
    }

    @Test
    void theTokensOfOneUpstreamReadReachASessionClientInOneWrite() throws IOException {
        String token = Jwt.token("batched-session");
        String session = new GatewayClient(gateway).createSession(token);
        List<String> chunks = relay(token, "POST /api/v1/chat/sessions/" + session + "/messages",
                "{\"content\":\"count\"}");

        assertThat(chunks).hasSize(3);
        assertThat(chunks.get(0)).isEqualTo("data: {\"content\":\"first \",\"done\":false}\n\n");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            expected.append("data: {\"content\":\"t").append(i).append(" \",\"done\":false}\n\n");
        }
        expected.append("data: {\"content\":\"\",\"done\":true,\"finish_reason\":\"stop\"}\n\n");
        assertThat(chunks.get(1)).isEqualTo(expected.toString());
        assertThat(chunks.get(2)).isEqualTo("data: [DONE]\n\n");
    }

    /**
     * Sends the request on a raw socket while the provider answers with a first token, then - once the client has
     * it - 20 more, the finish chunk and [DONE], all in one TCP write as 23 HTTP chunks. Returns the payloads of the
     * gateway's HTTP chunks in order.
     */
    static List<String> relay(String token, String requestLine, String body) throws IOException {
        CountDownLatch firstSeen = new CountDownLatch(1);
        StringBuilder rest = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            rest.append(frame(Chunks.delta("t" + i + " ")));
        }
        rest.append(frame(Chunks.finish("stop"))).append(frame(Chunks.done())).append("0\r\n\r\n");
        // close-delimited framing writes the steps raw: the HTTP chunks are framed here, so they go in one write
        upstream.enqueue(Script.status(200).header("Content-Type", "text/event-stream")
                .header("Transfer-Encoding", "chunked").closeDelimited()
                .chunk(frame(Chunks.delta("first "))).holdUntil(firstSeen).chunk(rest.toString()));

        try (Socket s = new Socket("127.0.0.1", gateway.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            byte[] json = body.getBytes(StandardCharsets.UTF_8);
            out.write((requestLine + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            InputStream in = s.getInputStream();
            String head = readUntilBlankLine(in);
            assertThat(head).startsWith("HTTP/1.1 200 ").containsIgnoringCase("\r\ntransfer-encoding: chunked");
            List<String> chunks = new ArrayList<>();
            while (true) {
                int size = Integer.parseInt(line(in).trim(), 16);
                if (size == 0) {
                    return chunks;
                }
                chunks.add(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                assertThat(line(in)).isEmpty();
                firstSeen.countDown();
            }
        } finally {
            firstSeen.countDown();
        }
    }

    static String frame(String payload) {
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        return Integer.toHexString(bytes.length) + "\r\n" + payload + "\r\n";
    }

    static String tokens() {
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            t.append("t").append(i).append(' ');
        }
        return t.toString();
    }

    /** The text of the content deltas of the chat.completion.chunk events in {@code events}, in order. */
    static String contents(String events) {
        StringBuilder text = new StringBuilder();
        for (String event : events.split("\n\n")) {
            var chunk = GatewayClient.json(event.substring("data: ".length()));
            var delta = chunk.get("choices").get(0).get("delta");
            if (delta.hasNonNull("content")) {
                text.append(delta.get("content").asText());
            }
        }
        return text.toString();
    }

    static String readUntilBlankLine(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        String l;
        while (!(l = line(in)).isEmpty()) {
            head.append(l).append("\r\n");
        }
        return head.toString();
    }

    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("the connection closed inside a line");
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
