package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

import com.cobalt.chat.testing.LogCapture;
import com.cobalt.chat.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/**
 * URLs reach the log without their userinfo or query string: Camel's start-up property summary printed every
 * configured URL as it was (a JWKS or provider URL with credentials in it included), and Hikari logged the JDBC URL.
 */
class UrlLoggingTest {

    @Test
    void noCredentialOrQueryOfAConfiguredUrlIsLoggedAtStart() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("llm.provider", "sambanova");
        p.put("sambanova.api-base", "https://svc-user:pw-DISTINCTIVE-1@127.0.0.1:9/v1?sig=q-DISTINCTIVE-2");
        p.put("sambanova.api-key", "sn-DISTINCTIVE-3");
        p.put("sambanova.model", "Meta-Llama-3.3-70B-Instruct");
        p.put("chat.jwt.jwks-url", "https://jwks-user:pw-DISTINCTIVE-4@127.0.0.1:9/jwks.json?token=q-DISTINCTIVE-5");
        p.put("chat.jwt.audience", "cobalt");
        try (LogCapture log = LogCapture.start(); RunningGateway g = RunningGateway.start(p)) {
            String all = log.lines().stream().map(LogCapture.Line::all).collect(Collectors.joining("\n"));

            assertThat(all).contains("Providers: sambanova (openai)")
                    .doesNotContain("DISTINCTIVE").doesNotContain("svc-user").doesNotContain("jwks-user");
        }
    }
}
