package com.cobalt.chat.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream that reads each whole HTTP/1.1 request and then resets the connection (TCP RST) without sending a
 * single byte - not even a status line. {@link FakeUpstream}'s scripts always send the status line first, so the
 * "connection reset before headers" failure needs this. Binds 127.0.0.1 on the given port (0 for any free port).
 */
public final class ResetUpstream implements AutoCloseable {

    private final ServerSocket server;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile boolean closed;

    private ResetUpstream(ServerSocket server) {
        this.server = server;
    }

    public static ResetUpstream start(int port) {
        ServerSocket ss = null;
        try {
            ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        } catch (IOException e) {
            if (ss != null) {
                try {
                    ss.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
            throw new UncheckedIOException("cannot bind reset upstream on port " + port, e);
        }
        ResetUpstream up = new ResetUpstream(ss);
        Thread t = new Thread(up::acceptLoop, "reset-upstream-" + ss.getLocalPort());
        t.setDaemon(true);
        t.start();
        return up;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Whole requests read (each was then answered with a reset). */
    public int requestCount() {
        return requests.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> serve(s), "reset-upstream-conn-" + server.getLocalPort());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try {
            if (readRequest(s.getInputStream())) {
                requests.incrementAndGet();
            }
            s.setSoLinger(true, 0); // close() now sends RST
        } catch (IOException ignored) {
            // the client went away first
        } finally {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** Reads the request head and its Content-Length body; false if the client closed first. */
    private static boolean readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        long length = 0;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                length = Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        for (long i = 0; i < length; i++) {
            if (in.read() < 0) {
                return false;
            }
        }
        return true;
    }
}
