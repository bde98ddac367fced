package com.cobalt.chat.routes;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import com.cobalt.chat.provider.ProviderFailure;
import com.cobalt.chat.provider.ProviderRejection;
import com.cobalt.chat.store.ContextMessage;
import org.apache.camel.Exchange;
import org.apache.camel.Variable;

/**
 * Bound as {@code upstreamClient}: the step inside each provider route's breaker, without a network. Per provider it
 * answers a {@link Marker} (the stand-in for a primed stream), returns a {@link ProviderRejection}, or throws a given
 * {@link ProviderFailure}; every call is recorded with the inputs the route bound.
 */
public final class StubUpstream {

    /** What a provider "answered": the stand-in for a primed RelaySession. */
    public record Marker(String provider, String upstreamModel) {
    }

    /** One call of {@link #open}, as the route bound it. */
    public record Call(String provider, String upstreamModel, List<ContextMessage> messages) {
    }

    /** The route each call was made from (the unit of work's current route). */
    final List<String> routes = new CopyOnWriteArrayList<>();

    private final Map<String, Supplier<Object>> behaviour = new ConcurrentHashMap<>();
    final List<Call> calls = new CopyOnWriteArrayList<>();

    void fail(String provider, ProviderFailure failure) {
        behaviour.put(provider, () -> {
            throw failure;
        });
    }

    /** The provider answers later: open returns this stage, which the test completes (as the event loop would). */
    void answerLater(String provider, java.util.concurrent.CompletableFuture<Object> answer) {
        behaviour.put(provider, () -> answer);
    }

    void reject(String provider, boolean contentFilter) {
        behaviour.put(provider, () -> new ProviderRejection(provider, contentFilter));
    }

    List<String> providersCalled() {
        return calls.stream().map(Call::provider).toList();
    }

    @SuppressWarnings("unchecked")
    public java.util.concurrent.CompletionStage<Object> open(@Variable("provider") String provider, @Variable("upstreamModel") String upstreamModel,
                       @Variable("upstreamMessages") List<ContextMessage> messages, Exchange exchange) {
        routes.add(exchange.getUnitOfWork().getRoute().getRouteId());
        calls.add(new Call(provider, upstreamModel, messages));
        Supplier<Object> b = behaviour.get(provider);
        // like UpstreamClient.open: a stage the route waits on without a thread (a failure may also be thrown at once)
        Object answer = b == null ? new Marker(provider, upstreamModel) : b.get();
        return answer instanceof java.util.concurrent.CompletionStage<?> later
                ? (java.util.concurrent.CompletionStage<Object>) later
                : java.util.concurrent.CompletableFuture.completedFuture(answer);
    }
}
