package com.cobalt.chat.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.HttpServerRequestInternal;
import io.vertx.core.http.impl.HttpServerRequestWrapper;

/**
 * An HTTP/2 request whose {@code resume()} and {@code fetch()} do nothing once it has been read, as an HTTP/1.x
 * request's do. Camel's body handler resumes every request before it reads the body; for /v1 (and the demo
 * provider's endpoint) the gateway's own body handler, with OPENAI_MAX_BODY_BYTES, has read it already, and Vert.x's
 * HTTP/2 request throws "Request has already been read" there: every /v1 chat over cleartext HTTP/2 was a 500
 * internal_error (found with an h2c client while testing the drain's GOAWAY).
 */
final class ReadHttp2Request extends HttpServerRequestWrapper {

    private ReadHttp2Request(HttpServerRequestInternal delegate) {
        super(delegate);
    }

    /** The request as it came for HTTP/1.x; an HTTP/2 one wrapped. */
    static HttpServerRequest of(HttpServerRequest request) {
        return request.version() == HttpVersion.HTTP_2 && request instanceof HttpServerRequestInternal internal
                ? new ReadHttp2Request(internal) : request;
    }

    @Override
    public HttpServerRequest resume() {
        if (!delegate.isEnded()) {
            delegate.resume();
        }
        return this;
    }

    @Override
    public HttpServerRequest fetch(long amount) {
        if (!delegate.isEnded()) {
            delegate.fetch(amount);
        }
        return this;
    }
}
