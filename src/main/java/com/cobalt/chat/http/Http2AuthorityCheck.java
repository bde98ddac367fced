package com.cobalt.chat.http;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * An HTTP/2 request's authority checked as an HTTP/1.1 request's Host is ({@link StrictRequestDecoder}), before
 * Vert.x reads it: its {@code :authority} and its Host (one at most), where there, must be a host and an optional
 * port, and a request of the http or https scheme has one of them (RFC 9113 8.3.1). Vert.x
 * reset a stream whose authority it could not read (PROTOCOL_ERROR, no answer), and one holding a '%' threw while
 * it read it: the whole connection went away with a GOAWAY, every other stream on it - a balancer's, carrying other
 * clients' chats - cut with it. Such a request is answered 400 {@code invalid_request} as JSON on its own stream,
 * with a request id; the connection and its other streams go on.
 *
 * <p>Sits in front of Vert.x's frame listener for the connection's life, on its event loop. Only the frames of
 * streams it refused are its own: their request bodies (a client may send one before it reads the answer) are read
 * and dropped.
 */
final class Http2AuthorityCheck extends Http2FrameListenerDecorator {

    static final String NOT_A_HOST = "The Host header is not a valid host and port";
    static final String NO_AUTHORITY = "An HTTP/2 request must have an :authority or a Host header";

    private final Http2ConnectionHandler connection;
    /** Marks a stream refused here whose request body is still coming. */
    private final io.netty.handler.codec.http2.Http2Connection.PropertyKey refusedKey;
    /** Where its refusals are counted, as the engine's own (chat_errors_total by status and code). */
    private final java.util.function.ObjIntConsumer<String> refusals;

    Http2AuthorityCheck(Http2FrameListener vertx, Http2ConnectionHandler connection,
                        java.util.function.ObjIntConsumer<String> refusals) {
        super(vertx);
        this.connection = connection;
        this.refusedKey = connection.connection().newKey();
        this.refusals = refusals;
    }

    /** Why a request's headers name no usable host, or null when they do. */
    static String problem(Http2Headers headers) {
        CharSequence authority = headers.authority();
        List<CharSequence> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (authority != null && !StrictRequestDecoder.validHost(authority.toString())) {
            return NOT_A_HOST;
        }
        if (hosts.size() > 1) {
            return NOT_A_HOST;
        }
        if (authority == null && hosts.isEmpty() && authorityRequired(headers.scheme())) {
            // RFC 9113 8.3.1: a request whose scheme has a mandatory authority (http, https) MUST carry :authority or
            // Host; one with neither was answered, where HTTP/1.1 without Host is a 400 (StrictRequestDecoder)
            return NO_AUTHORITY;
        }
        for (CharSequence host : hosts) {
            if (!StrictRequestDecoder.validHost(host.toString())) {
                return NOT_A_HOST;
            }
        }
        return null;
    }

    /** http and https (RFC 9110 4.2): URIs with a mandatory, non-empty authority. */
    private static boolean authorityRequired(CharSequence scheme) {
        return scheme != null && (io.netty.util.AsciiString.contentEqualsIgnoreCase(scheme, "http")
                || io.netty.util.AsciiString.contentEqualsIgnoreCase(scheme, "https"));
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                              boolean endOfStream) throws Http2Exception {
        if (!refused(ctx, streamId, headers, endOfStream)) {
            super.onHeadersRead(ctx, streamId, headers, padding, endOfStream);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                              short weight, boolean exclusive, int padding, boolean endOfStream)
            throws Http2Exception {
        if (!refused(ctx, streamId, headers, endOfStream)) {
            super.onHeadersRead(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endOfStream);
        }
    }

    /** A refused request's body: consumed here (its flow-control window given back), never seen by Vert.x. */
    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, io.netty.buffer.ByteBuf data, int padding,
                          boolean endOfStream) throws Http2Exception {
        io.netty.handler.codec.http2.Http2Stream stream = connection.connection().stream(streamId);
        if (stream != null && stream.getProperty(refusedKey) != null) {
            return data.readableBytes() + padding;
        }
        return super.onDataRead(ctx, streamId, data, padding, endOfStream);
    }

    /**
     * Answers the stream 400 when its request names no usable host. Only a stream Vert.x has not seen: trailers of
     * a stream it took are its business.
     */
    private boolean refused(ChannelHandlerContext ctx, int streamId, Http2Headers headers, boolean endOfStream) {
        if (headers.method() == null && headers.path() == null) {
            return false; // trailers, not a request's head
        }
        String problem = problem(headers);
        if (problem == null) {
            return false;
        }
        refusals.accept("invalid_request", 400);
        CharSequence path = headers.path();
        byte[] body = ResponseWriter.errorJson(path == null ? "/" : path.toString(), 400, "invalid_request", problem)
                .getBytes(StandardCharsets.UTF_8);
        Http2Headers answer = new DefaultHttp2Headers().status("400")
                .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .set(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(body.length))
                .set(AsyncPlatformHttpConsumer.REQUEST_ID.toLowerCase(java.util.Locale.ROOT),
                        AsyncPlatformHttpConsumer.newRequestId())
                .set(ResponseWriter.CONTENT_TYPE_OPTIONS.toLowerCase(java.util.Locale.ROOT), ResponseWriter.NOSNIFF)
                .set(ResponseWriter.CACHE_CONTROL.toLowerCase(java.util.Locale.ROOT), ResponseWriter.NO_STORE);
        connection.encoder().writeHeaders(ctx, streamId, answer, 0, false, ctx.newPromise());
        connection.encoder().writeData(ctx, streamId, Unpooled.wrappedBuffer(body), 0, true, ctx.newPromise());
        if (!endOfStream) {
            // the rest of the request's body is read and dropped: a RST_STREAM NO_ERROR (RFC 9113 8.1) failed the
            // answer in clients that take any reset as an error (Vert.x's)
            io.netty.handler.codec.http2.Http2Stream stream = connection.connection().stream(streamId);
            if (stream != null) {
                stream.setProperty(refusedKey, Boolean.TRUE);
            }
        }
        ctx.flush();
        return true;
    }

}
