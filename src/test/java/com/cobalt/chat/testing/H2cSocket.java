package com.cobalt.chat.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * Cleartext HTTP/2 with prior knowledge over a plain socket, frame by frame, for what an HTTP/2 client library will
 * not send: a request without :authority, a header block that stops half way, a preface and then nothing. Headers are
 * (de)compressed with Netty's HPACK coder; frames are written and read by hand (RFC 9113 4.1).
 */
public final class H2cSocket implements AutoCloseable {

    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int GOAWAY = 7;
    public static final int END_STREAM = 0x1;
    public static final int END_HEADERS = 0x4;

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

    public H2cSocket(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** One frame read off the socket. */
    public record Frame(int type, int flags, int streamId, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** A GOAWAY's error code. */
        public long errorCode() {
            return ((payload[4] & 0xffL) << 24) | ((payload[5] & 0xff) << 16) | ((payload[6] & 0xff) << 8)
                    | (payload[7] & 0xff);
        }

        /** A GOAWAY's debug data, as text. */
        public String debugData() {
            return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
        }
    }

    public H2cSocket send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** The connection preface and an empty SETTINGS frame: what a client sends first. */
    public H2cSocket start() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(PREFACE);
        b.writeBytes(frame(SETTINGS, 0, 0, new byte[0]));
        return send(b.toByteArray());
    }

    public static byte[] frame(int type, int flags, int streamId, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (streamId >>> 24);
        f[6] = (byte) (streamId >>> 16);
        f[7] = (byte) (streamId >>> 8);
        f[8] = (byte) streamId;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A header block, HPACK-compressed on this connection's encoder. */
    public byte[] block(int streamId, Http2Headers headers) throws Http2Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(streamId, headers, buf);
            byte[] b = new byte[buf.readableBytes()];
            buf.readBytes(b);
            return b;
        } finally {
            buf.release();
        }
    }

    /** A whole HEADERS frame (END_HEADERS) for {@code headers}. */
    public byte[] headers(int streamId, Http2Headers headers, boolean endStream) throws Http2Exception {
        return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, block(streamId, headers));
    }

    /** One line of an HTTP/1.1 head (an h2c upgrade's 101), without its CRLF. */
    public String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /** The next frame; null once the server has closed the connection. */
    public Frame read() throws IOException {
        byte[] head = in.readNBytes(9);
        if (head.length < 9) {
            return null;
        }
        int length = ((head[0] & 0xff) << 16) | ((head[1] & 0xff) << 8) | (head[2] & 0xff);
        int stream = ((head[5] & 0x7f) << 24) | ((head[6] & 0xff) << 16) | ((head[7] & 0xff) << 8) | (head[8] & 0xff);
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            return null;
        }
        return new Frame(head[3] & 0xff, head[4] & 0xff, stream, payload);
    }

    /** The next frame of this type, skipping others; null once the connection has closed. */
    public Frame next(int type) throws IOException {
        for (Frame f = read(); f != null; f = read()) {
            if (f.type() == type) {
                return f;
            }
        }
        return null;
    }

    /** A response's headers, decoded on this connection's decoder (in order: HPACK's table is the connection's). */
    public Http2Headers decode(Frame headers) throws Http2Exception {
        byte[] p = headers.payload();
        int from = (headers.flags() & 0x8) != 0 ? 1 : 0; // PADDED: a pad length, the padding at the end
        int padding = from == 1 ? p[0] & 0xff : 0;
        if ((headers.flags() & 0x20) != 0) {
            from += 5; // PRIORITY: a stream dependency and a weight before the block
        }
        ByteBuf buf = Unpooled.wrappedBuffer(p, from, p.length - from - padding);
        try {
            return decoder.decodeHeaders(headers.streamId(), buf);
        } finally {
            buf.release();
        }
    }

    /** Everything up to the server's close, frame by frame; fails the test if it does not close within 10 s. */
    public java.util.List<Frame> readToClose() throws IOException {
        java.util.List<Frame> frames = new java.util.ArrayList<>();
        try {
            for (Frame f = read(); f != null; f = read()) {
                frames.add(f);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection is still open after 10 s; frames: " + frames);
        }
        return frames;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
