package com.cobalt.chat.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import com.cobalt.chat.config.BreakerSettings;
import com.cobalt.chat.stream.StreamOutcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which answers that ended early count against their provider: only the breaks on the provider's side. */
class BrokenStreamsTest {

    final ProviderBreakers breakers = new ProviderBreakers(Map.of("sambanova", BreakerSettings.DEFAULTS),
            Clock.systemUTC());
    final ProviderHealth health = new ProviderHealth(Clock.systemUTC(), List.of("sambanova"));
    final BrokenStreams broken = new BrokenStreams(breakers, health);

    static StreamOutcome ended(String status, String errorCode) {
        return new StreamOutcome(status, "Partial", null, null, null, 120L, errorCode);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stream_interrupted", "malformed_chunk", "malformed_stream", "provider_stream_error",
            "stream_idle_timeout"})
    void aBreakOnTheProvidersSideIsOneFailureForItsBreakerAndHealth(String code) {
        broken.count("sambanova", ended(StreamOutcome.INTERRUPTED, code));

        assertThat(breakers.of("sambanova").getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        assertThat(health.snapshot("sambanova").failures()).isEqualTo(1);
        assertThat(health.snapshot("sambanova").lastErrorClass()).isEqualTo("bad_stream");
    }

    @ParameterizedTest
    @ValueSource(strings = {"interrupted/shutting_down", "interrupted/session_deleted", "cancelled/client_closed",
            "cancelled/client_too_slow", "complete/", "content_filtered/"})
    void anAnswerTheProviderDidNotBreakIsNotCounted(String statusAndCode) {
        String[] parts = statusAndCode.split("/", -1);

        broken.count("sambanova", ended(parts[0], parts[1].isEmpty() ? null : parts[1]));

        assertThat(breakers.of("sambanova").getMetrics().getNumberOfFailedCalls()).isZero();
        assertThat(health.snapshot("sambanova").failures()).isZero();
    }
}
