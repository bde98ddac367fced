package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.cobalt.chat.testing.FakeUpstream;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.Script;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A provider's rejection (400, 413, 422) names its error's code and param to the caller when they are plain
 * identifiers. A provider, or a proxy before it, that echoes the key the gateway sent in those fields must not hand
 * the key to every caller (black-box observability probe, 2026-12-05: a 400 whose {@code error.code} was the SambaNova
 * key answered "(provider code sk-..., parameter 'messages')").
 */
class ProviderKeyInErrorTest {

    /** The key RunningGateway.sambanovaAt gives the provider, sent as {@code Authorization: Bearer <key>}. */
    static final String KEY = "sn-test-key-0001";

    static FakeUpstream primary;
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        primary = FakeUpstream.start();
        gateway = RunningGateway.sambanovaAt(primary, Map.of());
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        primary.close();
    }

    @Test
    void aRejectionWhoseCodeOrParamHoldsTheKeyDoesNotNameThem() {
        String token = Jwt.token("key-echo-alice");
        String session = client.createSession(token);
        // the whole key as the code, a piece of it as the param
        primary.enqueue(Script.json(400, "{\"error\":{\"message\":\"Bearer " + KEY + " rejected\",\"type\":"
                + "\"invalid_request_error\",\"code\":\"" + KEY + "\",\"param\":\"test-key-0001\"}}"));
        // a real code is kept, a param holding the key is not
        primary.enqueue(Script.json(413, "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\","
                + "\"code\":\"context_length_exceeded\",\"param\":\"x" + KEY + "\"}}"));
        // the same inside a 200 stream
        primary.enqueue(Script.sse("data: {\"error\":{\"message\":\"no\",\"type\":\"invalid_request_error\","
                + "\"code\":\"" + KEY + "\",\"param\":\"messages\"}}\n\n"));

        GatewayClient.Answer whole = client.chat(session, token, "First");
        GatewayClient.Answer tooLarge = client.chat(session, token, "Second");
        GatewayClient.Answer inStream = client.chat(session, token, "Third");

        assertThat(whole.status()).isEqualTo(400);
        assertThat(whole.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider rejected the request as invalid\"}}");
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(tooLarge.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider refused the request as too large (provider code"
                + " context_length_exceeded)\"}}");
        assertThat(inStream.status()).isEqualTo(400);
        assertThat(inStream.body()).isEqualTo("{\"error\":{\"code\":\"provider_rejected_request\","
                + "\"message\":\"The provider rejected the request as invalid (parameter 'messages')\"}}");
        assertThat(primary.requestCount()).isEqualTo(3);
    }
}
