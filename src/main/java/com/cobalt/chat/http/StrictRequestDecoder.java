package com.cobalt.chat.http;

import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpUtil;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.HostAndPort;

/**
 * Vert.x's HTTP/1.x request decoder with message framing that leaves no room for request smuggling (RFC 9112 6.1,
 * 6.3). Netty accepts a request with both Content-Length and Transfer-Encoding by dropping the Content-Length and
 * keeping the connection open, and reads {@code Transfer-Encoding: gzip, chunked} or {@code identity} as if the
 * caller had said chunked or nothing. Here both are a decoding failure, which the server answers 400 and closes the
 * connection ({@link AsyncPlatformHttpEngine}). The check runs once the headers are read and before Netty acts on
 * them.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

    static final String PIPELINE_NAME = "httpDecoder";

    /** Told of each read of raw bytes (half a request header decodes into nothing); null for none. */
    private final RequestTimeouts timeouts;

    StrictRequestDecoder(HttpServerOptions options, RequestTimeouts timeouts) {
        super(options);
        this.timeouts = timeouts;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (timeouts != null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            timeouts.bytesRead();
        }
        super.channelRead(ctx, msg);
    }

    /**
     * Obsolete line folding (RFC 9112 5.2): a header line that starts with a space or a tab continues the one before
     * it. Netty joins the two into one value; a server may instead reject the request with 400, and this one does:
     * a folded header is read differently by different parsers (a proxy in front may see another value), and no
     * client the gateway serves sends one. Netty's decoder has no hook on its header lines, so the head's raw bytes
     * are looked at before it decodes them: {@link #decode} scans each message's head (never its body) as it comes,
     * and the request is refused once its head is read ({@link #isContentAlwaysEmpty}).
     */
    private static final class FoldScan {
        /** The request line has ended: the lines from here are header lines. */
        boolean pastRequestLine;
        /** Bytes of the current line so far, CR aside. */
        int lineLength;
        /** The head has ended (its empty line): the body is not looked at. */
        boolean headEnded;
        boolean folded;

        /** Reads bytes of the head from where this scan stands. */
        void scan(ByteBuf bytes, int from, int to) {
            for (int i = from; i < to && !headEnded; i++) {
                byte b = bytes.getByte(i);
                if (b == '\n') {
                    if (pastRequestLine && lineLength == 0) {
                        headEnded = true;
                    } else if (lineLength > 0) {
                        pastRequestLine = true;
                    }
                    lineLength = 0;
                } else if (b != '\r') {
                    if (pastRequestLine && lineLength == 0 && (b == ' ' || b == '\t')) {
                        folded = true;
                    }
                    int c = b & 0xff;
                    if (pastRequestLine || (c > ' ' && (c < 0x7f || c > 0x9f))) {
                        lineLength++; // before the request line, Netty skips control characters and whitespace
                    }
                }
            }
        }

        FoldScan copy() {
            FoldScan c = new FoldScan();
            c.pastRequestLine = pastRequestLine;
            c.lineLength = lineLength;
            c.headEnded = headEnded;
            c.folded = folded;
            return c;
        }
    }

    /**
     * Obsolete line folding in a chunked body's trailer section (RFC 9112 7.1.2: trailer fields are header lines):
     * refused as in the head. Netty has no hook on trailer lines either, and mishandled a fold there - the connection
     * closed without an answer, with a NullPointerException logged inside Vert.x (black-box probe, 2026-12-05). A chunked
     * body's framing is followed from its head's end on, its chunk data skipped by length (never looked at), so only
     * the size lines and the trailer lines are read byte by byte.
     *
     * <p>And a chunk size past {@link Integer#MAX_VALUE}: Netty (4.1.130) reads a size into an int and checks only for
     * a negative result, so {@code 100000000d} (2^36 + 13) wrapped to 13 - the 13 bytes after it were the chunk and
     * what followed was read as the next request, where a proxy in front that reads the size as written forwards it
     * all as one body (request smuggling; black-box probe, 2026-12-05). No body the gateway takes comes near 2 GiB: such
     * a size ends the request as broken framing, what the decoder made of it dropped, as a folded trailer line does.
     */
    private static final class ChunkScan {
        private static final int SIZE = 0;
        private static final int DATA = 1;
        private static final int DATA_END = 2;
        private static final int TRAILER = 3;
        private static final int DONE = 4;

        int state = SIZE;
        long size;
        /** A hex digit of the size has been read (blanks before the first are skipped, as the decoder does). */
        boolean sizeStarted;
        /** The size's hex digits have ended (a chunk extension, whitespace): the rest of the line is skipped. */
        boolean sizeEnded;
        /** A size line past Integer.MAX_VALUE, which the decoder would have read wrapped. */
        boolean oversized;
        long remaining;
        /** Bytes of the current trailer line so far, CR aside. */
        int lineLength;
        boolean folded;

        /** Reads the body's bytes the decoder has consumed, from where this scan stands. */
        void scan(ByteBuf bytes, int from, int to) {
            int i = from;
            while (i < to && state != DONE && !folded && !oversized) {
                if (state == DATA) {
                    int n = (int) Math.min(remaining, to - i);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        state = DATA_END;
                    }
                    continue;
                }
                byte b = bytes.getByte(i++);
                if (state == SIZE) {
                    if (b == '\n') {
                        oversized = size > Integer.MAX_VALUE;
                        state = size == 0 ? TRAILER : DATA;
                        remaining = size;
                        lineLength = 0;
                        size = 0;
                        sizeStarted = false;
                        sizeEnded = false;
                    } else if (!sizeEnded) {
                        int digit = Character.digit(b, 16);
                        if (digit >= 0) {
                            sizeStarted = true;
                            if (size <= Integer.MAX_VALUE) {
                                size = size * 16 + digit; // no further once past an int: the long cannot wrap
                            }
                        } else if (sizeStarted || (b != ' ' && b != '\t')) {
                            sizeEnded = true;
                        }
                    }
                } else if (state == DATA_END) {
                    if (b == '\n') {
                        state = SIZE;
                    }
                } else if (b == '\n') { // TRAILER
                    if (lineLength == 0) {
                        state = DONE;
                    }
                    lineLength = 0;
                } else if (b != '\r') {
                    if (lineLength == 0 && (b == ' ' || b == '\t')) {
                        folded = true;
                    }
                    lineLength++;
                }
            }
        }
    }

    static final String FOLDED_TRAILER = "A trailer line may not be folded onto the next (obs-fold)";
    /** As the decoder's own refusal of a chunk size it cannot read. */
    static final String OVERSIZED_CHUNK = "The request body's chunked framing is not valid HTTP";

    /** The current request's chunked body, from its head's end to its trailer section's; null otherwise. */
    private ChunkScan chunks;
    /** A request was refused inside its body: the connection closes, nothing more is decoded. */
    private boolean discarding;

    /** The scan of the current message's head, as of the decoder's read position; null in a body. */
    private FoldScan head = new FoldScan();
    /** The current message's head, read to where the bytes end, holds a folded line. */
    private boolean folded;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (discarding) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        int from = buffer.readerIndex();
        if (head != null) {
            FoldScan ahead = head.copy();
            ahead.scan(buffer, from, buffer.writerIndex());
            folded = ahead.folded;
        }
        int before = out.size();
        super.decode(ctx, buffer, out);
        boolean headRead = false;
        boolean ended = false;
        boolean chunked = false;
        for (int i = before; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof io.netty.handler.codec.http.HttpRequest request) {
                headRead = true;
                chunked = HttpUtil.isTransferEncodingChunked(request) && request.decoderResult().isSuccess();
            } else if (o instanceof io.netty.handler.codec.http.HttpContent) {
                chunked = false; // the body came with the head in this call: not followed (the decoder splits them)
            }
            if (o instanceof io.netty.handler.codec.http.LastHttpContent) {
                ended = true;
            }
        }
        if (chunks != null) {
            chunks.scan(buffer, from, buffer.readerIndex());
            if (chunks.folded || chunks.oversized) {
                refuseInBody(out, before, chunks.folded ? FOLDED_TRAILER : OVERSIZED_CHUNK);
                return;
            }
        }
        if (ended) {
            chunks = null;
            head = new FoldScan(); // the next message's head starts here
            folded = false;
        } else if (headRead) {
            head = null; // its body: not looked at
            chunks = chunked ? new ChunkScan() : null;
        } else if (head != null) {
            head.scan(buffer, from, buffer.readerIndex()); // as of where the decoder stands now
        }
    }

    /**
     * Ends the request being read with a failed last piece, which {@link RequestTimeouts} answers with the JSON 400 (or
     * closes the connection, when an answer was begun): what the decoder made of this read's body is dropped, and
     * nothing after it is decoded.
     */
    private void refuseInBody(List<Object> out, int before, String message) {
        for (int i = out.size() - 1; i >= before; i--) {
            if (out.get(i) instanceof io.netty.handler.codec.http.HttpContent content) {
                content.release();
                out.remove(i);
            }
        }
        io.netty.handler.codec.http.LastHttpContent failed = new io.netty.handler.codec.http.DefaultLastHttpContent();
        failed.setDecoderResult(io.netty.handler.codec.DecoderResult.failure(new Refused(message)));
        out.add(failed);
        chunks = null;
        head = null;
        discarding = true;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        if (folded) {
            throw new Refused("A header line may not be folded onto the next (obs-fold)");
        }
        HttpVersion version = msg.protocolVersion();
        if (version.majorVersion() != 1 || version.minorVersion() > 1) {
            // RFC 9110 15.6.6: a 505 for a version the server does not speak; Vert.x answered HTTP/2.0 (the h2 preface
            // with cleartext HTTP/2 off) and HTTP/1.2 request lines with a bare 501, no request id, no JSON
            // (black-box probe, 2026-12-05)
            throw new Refused(505, "http_version_not_supported", "The gateway speaks HTTP/1.1 and HTTP/1.0");
        }
        if (version.minorVersion() == 0 && msg.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            // RFC 9112 6.1: HTTP/1.0 has no transfer codings, so a 1.0 message with Transfer-Encoding has faulty
            // framing and its connection must close. Netty read it as chunked and kept a keep-alive connection open,
            // where a proxy that frames a 1.0 request by HTTP/1.0's rules reads that body as the next request
            // (request smuggling; black-box probe, 2026-12-05)
            throw new Refused("An HTTP/1.0 request may not have Transfer-Encoding");
        }
        check(msg.headers());
        if (msg.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && msg.headers().getAll(HttpHeaderNames.HOST).size() != 1) {
            // RFC 9112 3.2: a 400 for an HTTP/1.1 request without Host or with several; Vert.x answered the first
            // with a plain-text "Bad Request" and logged an error, and took the second (black-box probe, 2026-12-05)
            throw new Refused("An HTTP/1.1 request must have exactly one Host header");
        }
        String host = msg.headers().get(HttpHeaderNames.HOST);
        if (host != null && !host.isEmpty() && !validHost(host)) {
            // a Host that is no host[:port] failed the request inside Vert.x's router: a plain-text "Bad Request" and
            // an ERROR logged per request, and one with a '%' ("a%41b") threw on the event loop and was never
            // answered, its connection held (black-box probe, 2026-12-05)
            throw new Refused("The Host header is not a valid host and port");
        }
        if (msg.headers().getAll(HttpHeaderNames.AUTHORIZATION).size() > 1) {
            // RFC 9110 11.6.2: one credential; two were joined and refused as "must use the Bearer scheme"
            throw new Refused("A request may carry one Authorization header");
        }
        return super.isContentAlwaysEmpty(msg);
    }

    /**
     * Whether Vert.x reads the Host as an authority (RFC 3986 3.2: host and an optional port). A '%' is refused
     * before Vert.x's parser sees it: it reads past the end of a name holding one (4.5.24, StringIndexOutOfBounds).
     */
    static boolean validHost(String host) {
        if (host.indexOf('%') >= 0) {
            return false;
        }
        try {
            return HostAndPort.parseAuthority(host, -1) != null;
        } catch (RuntimeException e) {
            return false;
        }
    }

    static void check(HttpHeaders headers) {
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (codings.isEmpty()) {
            return;
        }
        if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            throw new Refused("A request may not have both Content-Length and Transfer-Encoding");
        }
        if (codings.size() != 1 || !"chunked".equalsIgnoreCase(codings.get(0).trim())) {
            throw new Refused("Transfer-Encoding must be chunked");
        }
    }

    /** Why a request's framing was refused; the message is the gateway's own, never the request's. */
    static final class Refused extends RuntimeException {
        private final int status;
        private final String code;

        Refused(String message) {
            this(400, "invalid_request", message);
        }

        Refused(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }

        int status() {
            return status;
        }

        String code() {
            return code;
        }
    }
}
