package com.cobalt.chat.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.Test;

/**
 * accepting-requests is DOWN while the gateway starts (it is registered before the management port listens, so
 * readiness is never UP while the chat routes are still being added), UP once started, DOWN again from SIGTERM on.
 */
class AcceptingRequestsTest {

    @Test
    void downWhileStartingUpOnceStartedDownWhileDraining() {
        AtomicBoolean started = new AtomicBoolean();
        AtomicBoolean draining = new AtomicBoolean();
        AcceptingRequests check = new AcceptingRequests(started::get, draining::get);
        assertThat(check.isReadiness()).isTrue();
        assertThat(check.isLiveness()).isFalse();

        HealthCheck.Result starting = check.call(Map.of());
        assertThat(starting.getState()).isEqualTo(HealthCheck.State.DOWN);
        assertThat(starting.getMessage()).hasValue("starting: the routes are not all started yet");

        started.set(true);
        HealthCheck.Result serving = check.call(Map.of());
        assertThat(serving.getState()).isEqualTo(HealthCheck.State.UP);
        assertThat(serving.getMessage()).isEmpty();

        draining.set(true);
        HealthCheck.Result stopping = check.call(Map.of());
        assertThat(stopping.getState()).isEqualTo(HealthCheck.State.DOWN);
        assertThat(stopping.getMessage()).hasValue("shutting down: streams in flight are finishing");
    }
}
