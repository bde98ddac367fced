package com.cobalt.chat.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake OpenAI-compatible upstream: a real HTTP/1.1 server on a random loopback port, written over raw sockets
 * so that it can send exact bytes with delays, cut connections and stall. Requests get the queued
 * {@link Script}s in FIFO order (in order of arrival of the complete request); with an empty queue the answer is a
 * JSON 500.
 *
 * <p>Keep-alive: after a cleanly ended response the connection is kept and the next request is read from it,
 * unless the request said {@code Connection: close}, the script set {@code Connection: close}, or the script is
 * close-delimited.
 *
 * <p>Disconnects: while a script is delaying, stalling or writing, a client closing or resetting the connection
 * (a read returning -1, or an IOException on read/write) is counted once per answer, see {@link #disconnects()}.
 * A client closing an idle keep-alive connection is not counted, nor is anything caused by {@link #close()}.
 */
public final class FakeUpstream implements AutoCloseable {

    static final String NO_SCRIPT_BODY = "{\"error\":{\"message\":\"no script queued\",\"type\":\"fake_upstream\"}}";

    private static final int MAX_LINE = 64 * 1024;
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final ServerSocket server;
    private final int port;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean closed;

    private final Object lock = new Object();
    private final ArrayDeque<Script> scripts = new ArrayDeque<>(); // guarded by lock
    private final List<RecordedRequest> recorded = new ArrayList<>(); // guarded by lock
    private final LinkedBlockingQueue<RecordedRequest> untaken = new LinkedBlockingQueue<>();
    private int disconnects; // guarded by lock
    private long generation; // guarded by lock; bumped by reset() so stale answers do not count

    private FakeUpstream(ServerSocket server) {
        this.server = server;
        this.port = server.getLocalPort();
    }

    /** Binds 127.0.0.1 on a free port and starts accepting (daemon threads, one per connection). */
    public static FakeUpstream start() {
        ServerSocket ss = null;
        try {
            ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        } catch (IOException e) {
            closeQuietly(ss);
            throw new UncheckedIOException("cannot bind fake upstream", e);
        }
        FakeUpstream up = new FakeUpstream(ss);
        Thread t = new Thread(up::acceptLoop, "fake-upstream-" + INSTANCES.incrementAndGet() + "-accept-" + up.port);
        t.setDaemon(true);
        t.start();
        return up;
    }

    public int port() {
        return port;
    }

    /** {@code "http://127.0.0.1:" + port} */
    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The next request gets the next queued script. */
    public FakeUpstream enqueue(Script script) {
        if (script == null) {
            throw new NullPointerException("script");
        }
        synchronized (lock) {
            scripts.addLast(script);
        }
        return this;
    }

    /** Scripts queued and not yet played. */
    public int pendingScripts() {
        synchronized (lock) {
            return scripts.size();
        }
    }

    /** Snapshot of all recorded requests, in arrival order. */
    public List<RecordedRequest> requests() {
        synchronized (lock) {
            return List.copyOf(recorded);
        }
    }

    public int requestCount() {
        synchronized (lock) {
            return recorded.size();
        }
    }

    /** Blocks until the next not-yet-taken request arrives (in arrival order); AssertionError on timeout. */
    public RecordedRequest takeRequest(Duration timeout) {
        try {
            RecordedRequest r = untaken.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw new AssertionError("no request arrived at fake upstream within " + timeout
                        + " (recorded so far: " + requestCount() + ")");
            }
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a request", e);
        }
    }

    /** True as soon as at least one disconnect was counted (since start or the last reset); false on timeout. */
    public boolean awaitDisconnect(Duration timeout) {
        return awaitDisconnects(1, timeout);
    }

    /** True as soon as at least {@code n} disconnects were counted (since start or the last reset). */
    public boolean awaitDisconnects(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (disconnects < n) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return disconnects >= n;
                }
            }
            return true;
        }
    }

    public int disconnects() {
        synchronized (lock) {
            return disconnects;
        }
    }

    /** Number of TCP connections accepted since start (not cleared by reset). */
    public int connections() {
        return connections.get();
    }

    /** Clears the script queue, recorded requests and counters. Open connections stay open (clients pool them);
     * disconnects of answers started before the reset are not counted. */
    public void reset() {
        synchronized (lock) {
            scripts.clear();
            recorded.clear();
            untaken.clear();
            disconnects = 0;
            generation++;
            lock.notifyAll();
        }
    }

    /** Stops accepting and closes every socket. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    @Override
    public String toString() {
        return "FakeUpstream[" + baseUrl() + ", requests=" + requestCount() + ", pending=" + pendingScripts()
                + ", disconnects=" + disconnects() + "]";
    }

    // ------------------------------------------------------------------------------------------ server

    private void acceptLoop() {
        int n = 0;
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (closed) {
                closeQuietly(s);
                return;
            }
            connections.incrementAndGet();
            sockets.add(s);
            if (closed) { // close() may have run between the check and add
                closeQuietly(s);
            }
            Thread t = new Thread(() -> serve(s), "fake-upstream-" + port + "-conn-" + (++n));
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try {
            s.setTcpNoDelay(true);
            Conn c = new Conn(s);
            while (!closed) {
                Request req = readRequest(c);
                if (req == null) {
                    return; // client closed an idle connection
                }
                Script script;
                long gen;
                synchronized (lock) {
                    recorded.add(req.recorded);
                    untaken.add(req.recorded);
                    script = scripts.pollFirst();
                    gen = generation;
                }
                if (script == null) {
                    script = Script.json(500, NO_SCRIPT_BODY);
                }
                if (!play(script, c, req.wantsClose, gen)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // malformed request or the connection ended while idle/reading: just drop the connection
        } finally {
            sockets.remove(s);
            closeQuietly(s);
        }
    }

    private record Request(RecordedRequest recorded, boolean wantsClose) {
    }

    /** Null when the client closed the connection before sending anything. */
    private Request readRequest(Conn c) throws IOException {
        String line = c.readLine(true);
        while (line != null && line.isEmpty()) { // tolerate stray CRLF between requests
            line = c.readLine(true);
        }
        if (line == null) {
            return null;
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !parts[2].startsWith("HTTP/")) {
            throw new IOException("bad request line: " + line);
        }
        String method = parts[0];
        String target = parts[1];
        String version = parts[2];

        Map<String, List<String>> headers = new LinkedHashMap<>();
        String lastName = null;
        for (String h = c.readLine(false); !h.isEmpty(); h = c.readLine(false)) {
            if ((h.charAt(0) == ' ' || h.charAt(0) == '\t') && lastName != null) { // obsolete line folding
                List<String> vs = headers.get(lastName);
                vs.set(vs.size() - 1, vs.get(vs.size() - 1) + " " + h.strip());
                continue;
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new IOException("bad header line: " + h);
            }
            lastName = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            headers.computeIfAbsent(lastName, k -> new ArrayList<>()).add(h.substring(colon + 1).strip());
        }

        // absolute-form target (proxy style): keep only path and query
        if (target.startsWith("http://") || target.startsWith("https://")) {
            int slash = target.indexOf('/', target.indexOf("//") + 2);
            int q = target.indexOf('?', target.indexOf("//") + 2);
            if (slash < 0 || (q >= 0 && q < slash)) {
                target = "/" + (q >= 0 ? target.substring(q) : "");
            } else {
                target = target.substring(slash);
            }
        }
        int hash = target.indexOf('#');
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        int q = target.indexOf('?');
        String path = q >= 0 ? target.substring(0, q) : target;
        String query = q >= 0 ? target.substring(q + 1) : null;

        String te = last(headers, "transfer-encoding");
        String cl = last(headers, "content-length");
        boolean chunked = te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
        long length = 0;
        if (!chunked && cl != null) {
            try {
                length = Long.parseLong(cl.strip());
            } catch (NumberFormatException e) {
                throw new IOException("bad content-length: " + cl);
            }
            if (length < 0 || length > Integer.MAX_VALUE - 16) {
                throw new IOException("bad content-length: " + cl);
            }
        }
        String expect = last(headers, "expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue") && (chunked || length > 0)) {
            c.out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.out.flush();
        }
        byte[] body = chunked ? readChunkedBody(c) : c.readExactly((int) length);

        String connection = String.join(",", headers.getOrDefault("connection", List.of())).toLowerCase(Locale.ROOT);
        boolean wantsClose = connection.contains("close")
                || (version.equals("HTTP/1.0") && !connection.contains("keep-alive"));
        return new Request(new RecordedRequest(method, path, query, headers, new String(body, StandardCharsets.UTF_8)),
                wantsClose);
    }

    private static byte[] readChunkedBody(Conn c) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = c.readLine(false);
            int semi = sizeLine.indexOf(';');
            String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).strip();
            int size;
            try {
                size = Integer.parseInt(hex, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size: " + sizeLine);
            }
            if (size < 0) {
                throw new IOException("bad chunk size: " + sizeLine);
            }
            if (size == 0) {
                for (String t = c.readLine(false); !t.isEmpty(); t = c.readLine(false)) {
                    // trailers are ignored
                }
                return body.toByteArray();
            }
            body.write(c.readExactly(size));
            if (!c.readLine(false).isEmpty()) {
                throw new IOException("missing CRLF after chunk data");
            }
        }
    }

    private static String last(Map<String, List<String>> headers, String name) {
        List<String> vs = headers.get(name);
        return vs == null || vs.isEmpty() ? null : vs.get(vs.size() - 1);
    }

    // ------------------------------------------------------------------------------------------ playback

    private enum Framing { CHUNKED, RAW, CLOSE }

    /** Plays the script; true if the connection may serve another request. */
    private boolean play(Script sc, Conn c, boolean requestWantsClose, long gen) {
        try {
            if (!c.watch(sc.headerDelayNanos)) {
                return gone(gen);
            }
            if (sc.end == Script.End.NO_HEADERS) {
                c.watch(-1);
                return gone(gen);
            }

            List<String[]> headers = new ArrayList<>(sc.headers);
            Framing framing;
            String te = find(headers, "transfer-encoding");
            if (sc.closeDelimited) {
                framing = Framing.CLOSE;
                if (find(headers, "connection") == null) {
                    headers.add(new String[] {"Connection", "close"});
                }
            } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                framing = Framing.CHUNKED;
            } else if (find(headers, "content-length") != null) {
                framing = Framing.RAW;
            } else if (sc.hasBody) {
                framing = Framing.RAW;
                headers.add(new String[] {"Content-Length", String.valueOf(sc.steps.stream()
                        .filter(st -> !st.isDelay()).mapToInt(st -> st.bytes().length).sum())});
            } else if (sc.hasChunks || sc.end != Script.End.CLEAN) {
                framing = Framing.CHUNKED;
                headers.add(new String[] {"Transfer-Encoding", "chunked"});
            } else {
                framing = Framing.RAW;
                if (!(sc.status < 200 || sc.status == 204 || sc.status == 304)) {
                    headers.add(new String[] {"Content-Length", "0"});
                }
            }

            StringBuilder head = new StringBuilder("HTTP/1.1 ").append(sc.status).append(' ')
                    .append(reason(sc.status)).append("\r\n");
            for (String[] h : headers) {
                head.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            head.append("\r\n");
            c.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));

            for (Script.Step st : sc.steps) {
                if (st.isGate()) {
                    while (st.gate().getCount() > 0) {
                        if (!c.watch(TimeUnit.MILLISECONDS.toNanos(10))) {
                            return gone(gen);
                        }
                    }
                } else if (st.isDelay()) {
                    if (!c.watch(st.delayNanos())) {
                        return gone(gen);
                    }
                } else if (st.bytes().length > 0) {
                    c.write(framing == Framing.CHUNKED ? chunkFrame(st.bytes()) : st.bytes());
                }
            }

            switch (sc.end) {
                case CUT:
                    if (framing == Framing.CLOSE) {
                        c.reset(); // a FIN would look like a clean end here
                    } else {
                        c.finClose();
                    }
                    return false;
                case CUT_RESET:
                    c.reset();
                    return false;
                case STALL:
                    c.watch(-1);
                    return gone(gen);
                default: // CLEAN
                    if (framing == Framing.CHUNKED) {
                        c.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    }
                    String conn = find(headers, "connection");
                    if (framing == Framing.CLOSE || requestWantsClose
                            || (conn != null && conn.toLowerCase(Locale.ROOT).contains("close"))) {
                        c.finClose();
                        return false;
                    }
                    return true;
            }
        } catch (IOException e) {
            return gone(gen); // write/read failed: the client went away (or we are closing)
        }
    }

    /** Counts a disconnect unless the server itself is closing; always returns false (drop the connection). */
    private boolean gone(long gen) {
        if (!closed) {
            synchronized (lock) {
                if (gen == generation) {
                    disconnects++;
                    lock.notifyAll();
                }
            }
        }
        return false;
    }

    private static byte[] chunkFrame(byte[] data) {
        byte[] size = (Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] frame = new byte[size.length + data.length + 2];
        System.arraycopy(size, 0, frame, 0, size.length);
        System.arraycopy(data, 0, frame, size.length, data.length);
        frame[frame.length - 2] = '\r';
        frame[frame.length - 1] = '\n';
        return frame;
    }

    private static String find(List<String[]> headers, String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                return h[1];
            }
        }
        return null;
    }

    static String reason(int status) {
        switch (status) {
            case 100: return "Continue";
            case 200: return "OK";
            case 201: return "Created";
            case 202: return "Accepted";
            case 204: return "No Content";
            case 301: return "Moved Permanently";
            case 302: return "Found";
            case 304: return "Not Modified";
            case 400: return "Bad Request";
            case 401: return "Unauthorized";
            case 403: return "Forbidden";
            case 404: return "Not Found";
            case 405: return "Method Not Allowed";
            case 408: return "Request Timeout";
            case 409: return "Conflict";
            case 413: return "Payload Too Large";
            case 415: return "Unsupported Media Type";
            case 422: return "Unprocessable Entity";
            case 429: return "Too Many Requests";
            case 500: return "Internal Server Error";
            case 501: return "Not Implemented";
            case 502: return "Bad Gateway";
            case 503: return "Service Unavailable";
            case 504: return "Gateway Timeout";
            default: return "Status";
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }

    // ------------------------------------------------------------------------------------------ connection I/O

    /** One connection: a pushback-friendly input buffer plus unbuffered output (every write is flushed). */
    private static final class Conn {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private byte[] buf = new byte[8192];
        private int pos;
        private int lim;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** Reads more bytes into the buffer (keeping unread ones); -1 on EOF. */
        private int fill() throws IOException {
            if (pos == lim) {
                pos = 0;
                lim = 0;
            } else if (lim == buf.length) {
                if (pos > 0) {
                    System.arraycopy(buf, pos, buf, 0, lim - pos);
                    lim -= pos;
                    pos = 0;
                } else {
                    buf = java.util.Arrays.copyOf(buf, buf.length * 2);
                }
            }
            int n = in.read(buf, lim, buf.length - lim);
            if (n > 0) {
                lim += n;
            }
            return n;
        }

        /** A line without its CRLF/LF (ISO-8859-1). Null on EOF before any byte if nullOnEof, else EOFException. */
        String readLine(boolean nullOnEof) throws IOException {
            StringBuilder sb = new StringBuilder();
            boolean any = false;
            while (true) {
                if (pos == lim && fill() < 0) {
                    if (!any && nullOnEof) {
                        return null;
                    }
                    throw new EOFException("connection closed in the middle of a line");
                }
                any = true;
                int b = buf[pos++] & 0xff;
                if (b == '\n') {
                    int len = sb.length();
                    if (len > 0 && sb.charAt(len - 1) == '\r') {
                        sb.setLength(len - 1);
                    }
                    return sb.toString();
                }
                if (sb.length() >= MAX_LINE) {
                    throw new IOException("line too long");
                }
                sb.append((char) b);
            }
        }

        byte[] readExactly(int n) throws IOException {
            byte[] out = new byte[n];
            int off = 0;
            while (off < n) {
                if (pos == lim && fill() < 0) {
                    throw new EOFException("connection closed in the middle of a body");
                }
                int k = Math.min(n - off, lim - pos);
                System.arraycopy(buf, pos, out, off, k);
                pos += k;
                off += k;
            }
            return out;
        }

        /**
         * Waits {@code nanos} (forever when negative) while watching the connection: false as soon as the peer
         * closed or reset it (or the socket was closed locally). Bytes the client sends meanwhile are kept for
         * the next request.
         */
        boolean watch(long nanos) throws IOException {
            if (nanos == 0) {
                return true;
            }
            long deadline = System.nanoTime() + nanos;
            try {
                while (true) {
                    int timeoutMs = 0;
                    if (nanos > 0) {
                        long remaining = deadline - System.nanoTime();
                        if (remaining <= 0) {
                            return true;
                        }
                        timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (remaining + 999_999) / 1_000_000));
                    }
                    socket.setSoTimeout(timeoutMs);
                    try {
                        if (fill() < 0) {
                            return false;
                        }
                    } catch (SocketTimeoutException e) {
                        // the delay (or part of it) elapsed; loop re-checks the deadline
                    }
                }
            } catch (IOException e) {
                return false;
            } finally {
                if (!socket.isClosed()) {
                    try {
                        socket.setSoTimeout(0);
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            }
        }

        /** Orderly close: flush, FIN, close. */
        void finClose() {
            try {
                out.flush();
                socket.shutdownOutput();
            } catch (IOException ignored) {
                // closing anyway
            }
            closeQuietly(socket);
        }

        /** Abortive close: the peer sees a TCP RST. */
        void reset() {
            try {
                out.flush();
                socket.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // closing anyway
            }
            closeQuietly(socket);
        }
    }
}
