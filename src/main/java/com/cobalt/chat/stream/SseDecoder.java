package com.cobalt.chat.stream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Turns the upstream's bytes, split anywhere by the network, into server-sent events. Lines end in LF, CRLF or CR
 * alone, as the SSE specification allows (a CR and its LF may arrive in different reads; CR-only streams were taken
 * for broken ones, black-box probe); a line is read only once it is whole, so a multi-byte UTF-8 character
 * split across reads survives. Comment lines ({@code :}) are dropped; a blank line ends an event. The data stays
 * bytes: the relay's JSON parser reads them as they are. Only an event with data is handed on - a comment, or an
 * event of only {@code event:}/{@code id:}/{@code retry:} lines, makes none - so the relay's idle timeout counts the
 * time between events with data (RelaySession).
 */
public final class SseDecoder {

    /** A line longer than this is not an SSE stream we can trust; the relay treats it as a broken stream. */
    public static final int MAX_LINE_BYTES = 1 << 20;

    private final Consumer<SseEvent> sink;
    private final long maxLineBytes;
    /** The start of a line whose end has not arrived yet. */
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream(256);
    /**
     * The event's first data line's value, {@code dataBytes[dataFrom, dataFrom + dataLength)}: where it lies in the
     * bytes fed, not copied. A second data line starts {@link #moreData}; most events have one.
     */
    private byte[] dataBytes;
    private int dataFrom;
    private int dataLength;
    private ByteArrayOutputStream moreData;
    private String eventType;
    /** The last byte fed was a CR: it ended a line, and an LF right after it belongs to it. */
    private boolean afterCr;
    /**
     * How many bytes of a leading byte order mark (EF BB BF) the stream began with so far; {@link #BOM_READ} once
     * the stream's start is past (the SSE specification: one leading U+FEFF is ignored).
     */
    private int bomBytes;
    private static final int BOM_READ = -1;
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    public SseDecoder(Consumer<SseEvent> sink) {
        this(sink, MAX_LINE_BYTES);
    }

    /**
     * {@code maxLineBytes}: the longest line taken; a whole answer re-framed as one event ({@link RelaySession#replay})
     * has its own bound, the body read, and a line as long as the answer.
     */
    public SseDecoder(Consumer<SseEvent> sink, long maxLineBytes) {
        this.sink = sink;
        this.maxLineBytes = maxLineBytes;
    }

    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    /**
     * A whole line in {@code bytes} is read where it lies; only a line split across feeds is copied first. An event's
     * data may be handed on as a slice of {@code bytes}, so the caller must not change them afterwards (the relay
     * feeds each network read's own memory: Vert.x copies every read into a fresh buffer before handing it over).
     */
    public void feed(byte[] bytes, int offset, int length) {
        int end = offset + length;
        while (bomBytes != BOM_READ && offset < end) {
            // a stream that begins with a BOM (perhaps split across reads) had its first event's "data" field
            // unrecognised, so that event was lost and the answer stored without it (black-box probe)
            if (bytes[offset] != BOM[bomBytes]) {
                partial.write(BOM, 0, bomBytes); // not a BOM after all: those bytes begin the first line
                bomBytes = BOM_READ;
            } else {
                offset++;
                bomBytes++;
                if (bomBytes == BOM.length) {
                    bomBytes = BOM_READ;
                }
            }
        }
        int start = offset;
        for (int i = offset; i < end; i++) {
            byte b = bytes[i];
            if (b == '\n' && afterCr) {
                // the LF of a CRLF whose CR ended the line already (perhaps in the previous read)
                afterCr = false;
                start = i + 1;
                continue;
            }
            afterCr = b == '\r';
            if (b == '\n' || afterCr) {
                checkLength(i - start);
                if (partial.size() == 0) {
                    onLine(bytes, start, i);
                } else {
                    partial.write(bytes, start, i - start);
                    onPartialLine();
                }
                start = i + 1;
            }
        }
        checkLength(end - start);
        partial.write(bytes, start, end - start);
    }

    private void checkLength(int more) {
        if ((long) partial.size() + more > maxLineBytes) {
            throw new LineTooLongException();
        }
    }

    /** The upstream sent a line no SSE stream of a chat answer needs; the relay treats the stream as broken. */
    public static final class LineTooLongException extends IllegalStateException {
        LineTooLongException() {
            super("SSE line longer than " + MAX_LINE_BYTES + " bytes");
        }
    }

    /** The stream ended: a last event that lacks its blank line is still delivered. */
    public void end() {
        if (bomBytes > 0) {
            partial.write(BOM, 0, bomBytes); // the stream ended inside what could have been a BOM
            bomBytes = BOM_READ;
        }
        if (partial.size() > 0) {
            onPartialLine();
        }
        dispatch();
    }

    private void onPartialLine() {
        byte[] raw = partial.toByteArray();
        partial.reset();
        onLine(raw, 0, raw.length);
    }

    /**
     * One line, {@code bytes[from, to)} without its LF. The field names the relay needs are ASCII, and a line is
     * whole, so no multi-byte character of a value is cut.
     */
    private void onLine(byte[] bytes, int from, int to) {
        if (to > from && bytes[to - 1] == '\r') {
            to--;
        }
        if (to == from) {
            dispatch();
            return;
        }
        if (bytes[from] == ':') {
            return;
        }
        int colon = from;
        while (colon < to && bytes[colon] != ':') {
            colon++;
        }
        int valueFrom = Math.min(colon + 1, to);
        if (valueFrom < to && bytes[valueFrom] == ' ') {
            valueFrom++;
        }
        if (isField(bytes, from, colon, "data")) {
            addData(bytes, valueFrom, to - valueFrom);
        } else if (isField(bytes, from, colon, "event")) {
            eventType = new String(bytes, valueFrom, to - valueFrom, StandardCharsets.UTF_8);
        }
        // id, retry and unknown fields carry nothing the relay needs
    }

    private static boolean isField(byte[] bytes, int from, int to, String name) {
        if (to - from != name.length()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (bytes[from + i] != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void addData(byte[] bytes, int from, int length) {
        if (dataBytes == null) {
            dataBytes = bytes;
            dataFrom = from;
            dataLength = length;
        } else {
            if (moreData == null) {
                moreData = new ByteArrayOutputStream(2 * dataLength + length + 1);
                moreData.write(dataBytes, dataFrom, dataLength);
            }
            moreData.write('\n');
            moreData.write(bytes, from, length);
        }
    }

    private void dispatch() {
        if (moreData != null) {
            byte[] joined = moreData.toByteArray();
            sink.accept(new SseEvent(eventType, joined, 0, joined.length));
        } else if (dataBytes != null) {
            sink.accept(new SseEvent(eventType, dataBytes, dataFrom, dataLength));
        }
        dataBytes = null;
        moreData = null;
        eventType = null;
    }
}
