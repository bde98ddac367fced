package com.cobalt.chat.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

class RequestIdTest {

    @Test
    void generatedIdsAreDistinctVersion4UuidsInCanonicalForm() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = AsyncPlatformHttpConsumer.newRequestId();
            UUID parsed = UUID.fromString(id);
            assertThat(parsed.version()).isEqualTo(4);
            assertThat(parsed.variant()).isEqualTo(2);
            assertThat(parsed.toString()).isEqualTo(id);
            assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            seen.add(id);
        }
        assertThat(seen).hasSize(10_000);
    }

    @Test
    void aSaneCallerIdIsKeptAndAnythingElseIsReplaced() {
        assertThat(AsyncPlatformHttpConsumer.requestId("caller-chose-this.1")).isEqualTo("caller-chose-this.1");
        assertThat(AsyncPlatformHttpConsumer.requestId("has space")).isNotEqualTo("has space").hasSize(36);
        assertThat(AsyncPlatformHttpConsumer.requestId(null)).hasSize(36);
    }
}
