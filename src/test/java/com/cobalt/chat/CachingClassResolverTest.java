package com.cobalt.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.testing.GatewayClient;
import com.cobalt.chat.testing.Jwt;
import com.cobalt.chat.testing.RunningGateway;
import org.apache.camel.impl.engine.DefaultClassResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Class names in route expressions (the simple language's {@code is}) are resolved once, not per chat: the resolver
 * remembers what it found.
 */
class CachingClassResolverTest {

    static final String RELAY = "com.cobalt.chat.stream.RelaySession";
    static final String REJECTION = "com.cobalt.chat.provider.ProviderRejection";

    /**
     * A class loader that asks the application's and counts the names it was asked for. Camel's resolver asks the
     * thread's context class loader first, so the tests make it that.
     */
    static final class CountingLoader extends ClassLoader {
        final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();

        CountingLoader() {
            super("counting", CachingClassResolverTest.class.getClassLoader());
        }

        @Override
        public Class<?> loadClass(String name) throws ClassNotFoundException {
            asked.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
            return super.loadClass(name);
        }

        int asked(String name) {
            AtomicInteger n = asked.get(name);
            return n == null ? 0 : n.get();
        }
    }

    private final Thread thread = Thread.currentThread();
    private final ClassLoader contextLoader = thread.getContextClassLoader();
    private final CountingLoader loader = new CountingLoader();

    @BeforeEach
    void countTheContextLoadersLookUps() {
        thread.setContextClassLoader(loader);
    }

    @AfterEach
    void restoreTheContextLoader() {
        thread.setContextClassLoader(contextLoader);
    }

    @Test
    void aClassFoundByNameIsLoadedOnceAndTheSameClassAnsweredAfter() throws Exception {
        CachingClassResolver resolver = new CachingClassResolver(new DefaultClassResolver());

        assertThat(resolver.resolveClass(RELAY)).isSameAs(RelaySession.class);
        assertThat(resolver.resolveMandatoryClass(RELAY)).isSameAs(RelaySession.class);
        assertThat(resolver.resolveClass(RELAY, Object.class)).isSameAs(RelaySession.class);
        assertThat(loader.asked(RELAY)).isEqualTo(1);
    }

    @Test
    void aNameThatResolvedToNothingIsAskedForAgain() {
        CachingClassResolver resolver = new CachingClassResolver(new DefaultClassResolver());

        assertThat(resolver.resolveClass("com.cobalt.chat.NoSuchClass")).isNull();
        assertThatThrownBy(() -> resolver.resolveMandatoryClass("com.cobalt.chat.NoSuchClass"))
                .isInstanceOf(ClassNotFoundException.class).hasMessage("com.cobalt.chat.NoSuchClass");
        assertThat(loader.asked("com.cobalt.chat.NoSuchClass")).as("each attempt reaches a loader").isGreaterThanOrEqualTo(2);
    }

    @Test
    void theGatewaysRoutesResolveTheClassesTheyTestForOnceNotPerChat() {
        // started from this thread, the gateway's threads inherit the counting context loader
        try (RunningGateway g = RunningGateway.start(Map.of("llm.provider", "demo"))) {
            GatewayClient client = new GatewayClient(g);
            String token = Jwt.token("resolver-pat");
            String session = client.createSession(token);
            for (int i = 0; i < 3; i++) {
                GatewayClient.Answer answer = client.chat(session, token, "hello " + i);
                assertThat(answer.status()).isEqualTo(200);
                assertThat(answer.body()).endsWith("data: [DONE]\n\n");
            }
            // provider-call asks whether the answer is a rejection, chat-record whether it streamed: every chat,
            // at most the first of them from a class loader
            assertThat(loader.asked(REJECTION)).isLessThanOrEqualTo(1);
            assertThat(loader.asked(RELAY)).isLessThanOrEqualTo(1);
            // and the counting loader is the one a name not yet resolved goes to (so 3 would show without the cache)
            assertThat(g.camel().getClassResolver().resolveClass("com.cobalt.chat.testing.Jwt")).isSameAs(Jwt.class);
            assertThat(loader.asked("com.cobalt.chat.testing.Jwt")).isEqualTo(1);
        }
    }
}
