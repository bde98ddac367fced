package com.cobalt.chat.store;

import com.cobalt.chat.stream.AnswerText;
import com.cobalt.chat.stream.RelaySession;

/**
 * One answer of the session API while it streams, as the checkpoints see it: the row it will be stored as (its id is
 * fixed when the stream begins) and its text so far. The checkpoint thread and the thread that stores the finished
 * answer meet here: {@link #finish()} waits for a checkpoint of this answer that is being written, and no checkpoint
 * starts after it.
 */
public final class LiveAnswer {

    final String messageId;
    final String sessionId;
    final String exchangeId;
    final String userId;
    final String provider;
    final String model;
    final String variant;
    final AnswerText text;
    private final RelaySession stream;

    // guarded by this
    private boolean finished;
    private boolean writing;
    /** A checkpoint tried to insert the row: it may exist. */
    private boolean insertTried;
    /** The row exists (a checkpoint insert committed). */
    private boolean inserted;
    /** Length of the text the last committed checkpoint wrote. */
    private int writtenLength = -1;

    LiveAnswer(String messageId, String sessionId, String exchangeId, String userId, String provider, String model,
               String variant, RelaySession stream) {
        this.messageId = messageId;
        this.sessionId = sessionId;
        this.exchangeId = exchangeId;
        this.userId = userId;
        this.provider = provider;
        this.model = model;
        this.variant = variant;
        this.stream = stream;
        this.text = stream.answerText();
    }

    public String messageId() {
        return messageId;
    }

    /** The kind of write this tick owes the answer, or null (finished; or nothing new and no row to renew). */
    synchronized Checkpoint claim() {
        if (finished) {
            return null;
        }
        int length = text.length();
        Checkpoint.Kind kind;
        if (!inserted) {
            kind = Checkpoint.Kind.INSERT;
            insertTried = true;
        } else {
            kind = length != writtenLength ? Checkpoint.Kind.UPDATE : Checkpoint.Kind.RENEW;
        }
        writing = true;
        return new Checkpoint(this, kind, kind == Checkpoint.Kind.RENEW ? null : text.toString());
    }

    /** The claimed checkpoint was written (committed) or not. */
    synchronized void written(Checkpoint checkpoint, boolean committed) {
        writing = false;
        if (committed) {
            if (checkpoint.kind() == Checkpoint.Kind.INSERT) {
                inserted = true;
            }
            if (checkpoint.content() != null) {
                writtenLength = checkpoint.content().length();
            }
        }
        notifyAll();
    }

    /**
     * No checkpoint of this answer starts after this; one being written is waited for. True when a checkpoint may
     * have written the row, which the final store then updates (or inserts, if it is not there).
     */
    synchronized boolean finish() {
        finished = true;
        boolean interrupted = false;
        while (writing) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return insertTried;
    }

    /** When its stream ended (System.nanoTime()), 0 while it streams. */
    long endedNanos() {
        return stream.endedNanos();
    }

    /** One answer's write of one tick. */
    record Checkpoint(LiveAnswer answer, Kind kind, String content) {
        enum Kind { INSERT, UPDATE, RENEW }
    }
}
