package com.cobalt.chat.routes;

import java.lang.reflect.Proxy;

import com.cobalt.chat.config.ProviderKind;
import com.cobalt.chat.config.ProviderSettings;
import com.cobalt.chat.http.ClientConnection;
import com.cobalt.chat.stream.ClientFormat;
import com.cobalt.chat.stream.LiveStreams;
import com.cobalt.chat.stream.RelaySession;
import com.cobalt.chat.stream.RelaySettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * A real {@link RelaySession} for the routes that only read what it answered (chat-record): a whole answer replayed
 * from SSE bytes, as UpstreamClient makes one for a provider that sent JSON. Its client is a response that takes
 * everything and sends nothing (a JDK proxy of Vert.x's interface); nothing is relayed in these tests.
 */
final class Relays {

    private Relays() {
    }

    /** A client response that records what is written to it (on the Vert.x context of {@code vertx}). */
    static final class Client {
        final StringBuffer written = new StringBuffer();
        final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        final ClientConnection connection;

        Client(io.vertx.core.Vertx vertx) {
            HttpServerResponse out = (HttpServerResponse) Proxy.newProxyInstance(Relays.class.getClassLoader(),
                    new Class<?>[] {HttpServerResponse.class}, (proxy, method, args) -> {
                        String name = method.getName();
                        if ((name.equals("write") || name.equals("end")) && args != null && args.length > 0) {
                            written.append(args[0].toString());
                        }
                        if (name.equals("end")) {
                            ended.countDown();
                        }
                        if (name.equals("headWritten")) {
                            return written.length() > 0;
                        }
                        Class<?> type = method.getReturnType();
                        if (type.isInstance(proxy)) {
                            return proxy;
                        }
                        if (type == io.vertx.core.Future.class) {
                            return io.vertx.core.Future.succeededFuture();
                        }
                        return type == boolean.class ? false : type == int.class || type == long.class ? 0 : null;
                    });
            connection = new ClientConnection(null, out, vertx.getOrCreateContext(), System.nanoTime(), "route-test");
        }
    }

    static RelaySession replayed(String provider, String upstreamName, String sse, ClientConnection client,
                                 io.vertx.core.Vertx vertx) {
        ProviderSettings settings = new ProviderSettings(provider, ProviderKind.OPENAI,
                "http://127.0.0.1:9/v1/chat/completions", null, null, null, upstreamName, upstreamName, true, null,
                null);
        return RelaySession.replay(settings, settings.target(upstreamName), upstreamName, Buffer.buffer(sse), client, vertx,
                new RelaySettings(60_000, 15_000, 5_000, 1_048_576), new LiveStreams(), ClientFormat.SESSION);
    }

    static RelaySession replayed(String provider, String upstreamName, String sse) {
        ProviderSettings settings = new ProviderSettings(provider, ProviderKind.OPENAI,
                "http://127.0.0.1:9/v1/chat/completions", null, null, null, upstreamName, upstreamName, true, null,
                null);
        HttpServerResponse out = (HttpServerResponse) Proxy.newProxyInstance(Relays.class.getClassLoader(),
                new Class<?>[] {HttpServerResponse.class}, (proxy, method, args) -> {
                    Class<?> type = method.getReturnType();
                    if (type.isInstance(proxy)) {
                        return proxy;
                    }
                    return type == boolean.class ? false : type == int.class || type == long.class ? 0 : null;
                });
        ClientConnection client = new ClientConnection(null, out, null, System.nanoTime(), "route-test");
        return RelaySession.replay(settings, settings.target(upstreamName), upstreamName, Buffer.buffer(sse), client, null,
                new RelaySettings(60_000, 15_000, 5_000, 1_048_576), new LiveStreams(), ClientFormat.SESSION);
    }
}
