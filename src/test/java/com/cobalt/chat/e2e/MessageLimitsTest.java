package com.cobalt.chat.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import com.cobalt.chat.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CHAT_RATE_LIMIT_PER_MINUTE and CHAT_DAILY_MESSAGE_QUOTA per user, on a clock the test moves. */
class MessageLimitsTest {

    static final TestClock CLOCK = new TestClock(Instant.parse("2026-11-26T23:58:30Z"));
    static RunningGateway gateway;
    static GatewayClient client;

    @BeforeAll
    static void start() {
        gateway = RunningGateway.start(Map.of("llm.provider", "demo", "chat.rate-limit-per-minute", "2",
                "chat.daily-message-quota", "3"), Map.of("clock", CLOCK));
        client = new GatewayClient(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    HttpResponse<String> send(String token, String session, String text) {
        return client.send("POST", "/api/v1/chat/sessions/" + session + "/messages", token, "application/json",
                "{\"content\":\"" + text + "\"}");
    }

    @Test
    void aUserOverTheRateLimitGets429UntilTheMinuteHasPassedAndTheDailyQuotaEndsAtMidnightUtc() {
        String token = Jwt.token("limited-lena");
        String session = client.createSession(token);
        String other = Jwt.token("unlimited-ugo");
        String otherSession = client.createSession(other);

        assertThat(send(token, session, "one").statusCode()).isEqualTo(200);
        CLOCK.advance(Duration.ofSeconds(10));
        assertThat(send(token, session, "two").statusCode()).isEqualTo(200);
        CLOCK.advance(Duration.ofSeconds(20));

        HttpResponse<String> limited = send(token, session, "three");
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Content-Type")).hasValue("application/json");
        // the first message leaves the one-minute window 30 s from now
        assertThat(limited.headers().allValues("Retry-After")).containsExactly("31");
        assertThat(limited.body()).isEqualTo(
                "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"More than 2 messages in a minute\"}}");
        assertThat(send(other, otherSession, "someone else").statusCode()).isEqualTo(200);

        CLOCK.advance(Duration.ofSeconds(31));
        assertThat(send(token, session, "three again").statusCode()).isEqualTo(200);

        CLOCK.advance(Duration.ofSeconds(2)); // 23:59:33, three messages today
        HttpResponse<String> quota = send(token, session, "four");
        assertThat(quota.statusCode()).isEqualTo(429);
        assertThat(quota.headers().allValues("Retry-After")).containsExactly("28");
        assertThat(quota.body()).isEqualTo("{\"error\":{\"code\":\"daily_quota_exceeded\","
                + "\"message\":\"The daily quota of 3 messages is used up\"}}");

        CLOCK.advance(Duration.ofSeconds(30)); // a new UTC day
        assertThat(send(token, session, "tomorrow").statusCode()).isEqualTo(200);

        // refused messages are not stored: one, two, three again, tomorrow - with their answers
        assertThat(client.session(session, token).get("messages")).hasSize(8);
    }
}
