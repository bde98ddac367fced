package com.cobalt.chat.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream whose answers the test releases: request number {@code i} (0-based, in order of arrival of the whole
 * request) is held until the test calls {@link #respond}{@code (i, ...)}, so a test can look at the gateway while
 * a request is in flight without guessing how long that takes. A response given before its request arrives is sent
 * at once on arrival. Each response has a Content-Length body and {@code Connection: close}. Binds 127.0.0.1 on
 * the given port (0 for any free port).
 */
public final class HeldUpstream implements AutoCloseable {

    private final ServerSocket server;
    private final Map<Integer, CompletableFuture<byte[]>> responses = new ConcurrentHashMap<>();
    private final Map<Integer, String> bodies = new ConcurrentHashMap<>();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger arrived = new AtomicInteger();
    private final Object lock = new Object();
    private volatile boolean closed;
    private Thread acceptor;

    private HeldUpstream(ServerSocket server) {
        this.server = server;
    }

    public static HeldUpstream start(int port) {
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
            throw new UncheckedIOException("cannot bind held upstream on port " + port, e);
        }
        HeldUpstream up = new HeldUpstream(ss);
        up.acceptor = new Thread(up::acceptLoop, "held-upstream-" + ss.getLocalPort());
        up.acceptor.setDaemon(true);
        up.acceptor.start();
        return up;
    }

    public int port() {
        return server.getLocalPort();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** The body of the {@code index}th request to arrive (0 the first), or null if it has not arrived. */
    public String body(int index) {
        return bodies.get(index);
    }

    /** Whole requests received so far. */
    public int requestCount() {
        return arrived.get();
    }

    /** Blocks until at least {@code n} whole requests arrived; AssertionError on timeout. */
    public void awaitRequests(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (arrived.get() < n) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new AssertionError(arrived.get() + " request(s) at the held upstream, expected " + n
                            + " within " + timeout);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /**
     * Answers request number {@code index} (now, or on arrival) with this status, a Content-Type, the extra headers
     * as name, value pairs, and the body.
     */
    public void respond(int index, int status, String contentType, String body, String... headerNameValues) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status))
                .append("\r\nContent-Type: ").append(contentType)
                .append("\r\nContent-Length: ").append(bytes.length)
                .append("\r\nConnection: close");
        for (int i = 0; i + 1 < headerNameValues.length; i += 2) {
            head.append("\r\n").append(headerNameValues[i]).append(": ").append(headerNameValues[i + 1]);
        }
        head.append("\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(bytes);
        if (!response(index).complete(out.toByteArray())) {
            throw new IllegalStateException("request " + index + " was already answered");
        }
    }

    /** Stops listening (the port can be bound again at once) and closes every held connection. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // nothing to do
        }
        try {
            // a thread blocked in accept() releases the listening socket only as it returns
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        responses.values().forEach(f -> f.cancel(false));
    }

    private CompletableFuture<byte[]> response(int index) {
        return responses.computeIfAbsent(index, i -> new CompletableFuture<>());
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(s);
            Thread t = new Thread(() -> serve(s), "held-upstream-conn-" + server.getLocalPort());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            String body = readRequest(s.getInputStream());
            if (body == null) {
                return;
            }
            int index;
            synchronized (lock) {
                index = arrived.getAndIncrement();
                bodies.put(index, body);
                lock.notifyAll();
            }
            byte[] answer = response(index).get();
            OutputStream out = s.getOutputStream();
            out.write(answer);
            out.flush();
            s.shutdownOutput();
        } catch (IOException | InterruptedException | ExecutionException | RuntimeException ignored) {
            // the client went away, or the upstream was closed
        } finally {
            sockets.remove(s);
        }
    }

    /** Reads the request head and its Content-Length body, returned as UTF-8 text; null if the client closed first. */
    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
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
        byte[] body = in.readNBytes((int) length);
        return body.length < length ? null : new String(body, StandardCharsets.UTF_8);
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }
}
