package com.cobalt.chat.stream;

/**
 * The text of one answer as it streams. The relay appends on its event loop; the checkpoint thread reads its length
 * and a copy of it now and then. An uncontended lock per appended token is a few nanoseconds, and it lets the
 * checkpoint write exactly what the client had been sent at that moment.
 */
public final class AnswerText {

    private final StringBuilder text = new StringBuilder();

    synchronized void append(String s) {
        text.append(s);
    }

    public synchronized int length() {
        return text.length();
    }

    @Override
    public synchronized String toString() {
        return text.toString();
    }
}
