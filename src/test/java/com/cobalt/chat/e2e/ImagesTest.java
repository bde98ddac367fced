package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import javax.imageio.ImageIO;

import com.cobalt.chat.testing.Chunks;
import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Images (issue 16, item 6): image_url parts - https and data URLs - reach a vision model exactly as sent; /v1 has its
 * own body limit (OPENAI_MAX_BODY_BYTES, 400 000 bytes here) above the session API's (HTTP_MAX_BODY_BYTES, 64 KiB);
 * where the provider reports no usage, each image counts by OpenAI's published rule.
 *
 * <p>azure gpt-4o (vision by default) at {@link #azure}; its answers here carry no usage, so the gateway counts.
 */
@Timeout(60)
class ImagesTest {

    static FakeUpstream azure;
    static RunningGateway gateway;
    static GatewayClient client;
    static String noisePng;
    String token;

    @BeforeAll
    static void start() throws Exception {
        azure = FakeUpstream.start();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "azure");
        p.put("azure.ai.endpoint", azure.baseUrl());
        p.put("azure.ai.api-key", "az-test-key-0166");
        p.put("azure.ai.deployment", "gpt-4o");
        p.put("openai.max-body-bytes", "400000");
        gateway = RunningGateway.start(p);
        client = new GatewayClient(gateway);
        // 1024 x 2048 of noise: ~130 KB of PNG, twice the session API's body limit once base64
        BufferedImage image = new BufferedImage(1024, 2048, BufferedImage.TYPE_BYTE_GRAY);
        Random random = new Random(6);
        for (int y = 0; y < 2048; y += 4) {
            for (int x = 0; x < 1024; x += 4) {
                image.setRGB(x, y, random.nextInt());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        noisePng = "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @AfterAll
    static void stop() {
        gateway.close();
        azure.close();
    }

    @BeforeEach
    void reset() {
        azure.reset();
        token = Jwt.token("images-" + System.nanoTime());
    }

    static Script answerWithoutUsage(String text) {
        return Script.sse(Chunks.azurePromptFilter(), Chunks.delta(text), Chunks.finish("stop"), Chunks.done());
    }

    HttpResponse<String> post(String content) {
        return client.send("POST", "/v1/chat/completions", token, "application/json",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":" + content + "}]}");
    }

    int promptTokens(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return GatewayClient.json(r.body()).at("/usage/prompt_tokens").asInt();
    }

    @Test
    void httpsAndDataUrlImagesReachTheVisionModelExactlyAndAreCountedByTheRule() {
        String parts = "[{\"type\":\"text\",\"text\":\"What is in these?\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.png\",\"detail\":\"low\"}},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + noisePng + "\"}}]";
        assertThat(parts.length()).as("above the session API's 64 KiB").isGreaterThan(65536);
        azure.enqueue(answerWithoutUsage("A cat and noise."));
        azure.enqueue(answerWithoutUsage("Nothing."));

        HttpResponse<String> withImages = post(parts);
        JsonNode sent = GatewayClient.json(azure.takeRequest(Duration.ofSeconds(5)).body());
        HttpResponse<String> textOnly = post("\"What is in these?\"");

        assertThat(sent.at("/messages/0/content")).isEqualTo(GatewayClient.json(parts));
        // low detail 85; 1024 x 2048 at high detail: 768 x 1536, 2 x 3 tiles, 6 * 170 + 85 = 1105
        assertThat(promptTokens(withImages) - promptTokens(textOnly)).isEqualTo(85 + 1105);
    }

    @Test
    void theSessionApiKeepsItsOwnBodyLimitAndV1ItsOwn() {
        String session = client.createSession(token);
        HttpResponse<String> sessionBig = client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token,
                "application/json", "{\"content\":\"" + "a".repeat(70_000) + "\"}");
        assertThat(sessionBig.statusCode()).isEqualTo(413);
        assertThat(GatewayClient.json(sessionBig.body()).at("/error/code").asText()).isEqualTo("body_too_large");

        String tooBig = "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + noisePng + "\"}},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + noisePng + "\"}},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + noisePng + "\"}}]";
        assertThat(tooBig.length()).isGreaterThan(400_000);
        HttpResponse<String> r = post(tooBig);
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).isEqualTo("{\"error\":{\"message\":\"The request body is larger than the gateway"
                + " accepts\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"body_too_large\"}}");
        assertThat(azure.requestCount()).isZero();
    }
}
