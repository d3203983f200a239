package dev.switchboard.server;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code msgId}s a client sent lately with the answers they got, so that a client retrying
 * until acked has each message handled once and every send answered with the handler's answer.
 * Bounded in count and in the size of the answers: the oldest ids are forgotten first.
 *
 * <p>Guarded by {@code this}: the reading thread records, any thread may answer. Acks are sent
 * outside the lock.
 */
final class SeenMessages {
    /** Where an answer must go: a socket and the ack id it asked with. */
    private record Asker(Socket socket, long ackId) {
    }

    /** How a message was answered: with values, or with an error. Sent again to each retry. */
    interface Answer {
        void sendTo(Socket socket, long ackId);
    }

    /**
     * One message id: who sent it first and the latest retry waiting, until its answer comes;
     * then only the answer, so that dead sockets are not kept for the retries to come.
     */
    private static final class Seen {
        Asker first;
        Answer answer;
        /** The answer's size, counted in {@link #answerSize} once it came. */
        long size;
        Asker waiting;

        Seen(Asker first) {
            this.first = first;
        }
    }

    /**
     * How many ids a session remembers, as docs/PROTOCOL.md promises: not tied to the replay log's
     * bound, which an application may set far lower without meaning to forget retried messages.
     */
    static final int REMEMBERED = 1000;
    /**
     * The size of the answers kept, in all (characters of JSON and bytes of binaries): a listener
     * may answer with what the client sent (an echo), and 1000 answers of a message's size each
     * would be a gigabyte per socket. Past it the oldest answered ids go, but the newest answer
     * stays, whatever its size.
     */
    static final long REMEMBERED_SIZE = 1L << 20;

    /** The sizes of the answers kept, in all; guarded by {@code this}, as the map. */
    private long answerSize;
    private final Map<String, Seen> seen = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
            if (size() <= REMEMBERED) {
                return false;
            }
            answerSize -= eldest.getValue().size;
            return true;
        }
    };

    /**
     * Records a new id and returns true: the caller handles the message. A repeat returns false;
     * it is answered with the earlier answer now, or when the handler gives it. A retry over the
     * same socket with the same ack id needs nothing: the handler's answer goes there anyway.
     */
    boolean firstSeen(String msgId, Socket from, long ackId) {
        Asker asker = new Asker(from, ackId);
        Answer answer;
        synchronized (this) {
            Seen entry = seen.get(msgId);
            if (entry == null) {
                seen.put(msgId, new Seen(asker));
                return true;
            }
            if (entry.answer == null) {
                if (ackId > 0 && !asker.equals(entry.first)) {
                    // A client retries over its newest connection: the answer goes there.
                    entry.waiting = asker;
                }
                return false;
            }
            answer = entry.answer;
        }
        if (ackId > 0) {
            answer.sendTo(from, ackId);
        }
        return false;
    }

    /**
     * The handler answered, or failed (it threw, or ran past its timeout): keeps the answer for
     * later retries and gives it to the waiting one.
     *
     * @param size what keeping the answer costs: the characters of its JSON and bytes of its binaries
     */
    void answered(String msgId, Answer answer, long size) {
        Asker waiting;
        synchronized (this) {
            Seen entry = seen.get(msgId);
            if (entry == null) {
                return;
            }
            entry.answer = answer;
            // A retry handled again after its id was forgotten answers a second time: counted once.
            answerSize += size - entry.size;
            entry.size = size;
            forgetOldAnswers(entry);
            waiting = entry.waiting;
            entry.waiting = null;
            entry.first = null;
        }
        if (waiting != null) {
            answer.sendTo(waiting.socket(), waiting.ackId());
        }
    }

    /** Forgets the oldest answered ids, but {@code newest}, until the answers kept fit {@link #REMEMBERED_SIZE}. */
    private void forgetOldAnswers(Seen newest) {
        for (Iterator<Seen> it = seen.values().iterator(); answerSize > REMEMBERED_SIZE && it.hasNext(); ) {
            Seen entry = it.next();
            // One still being handled keeps its place: it costs nothing yet, and a retry must not run it twice.
            if (entry != newest && entry.answer != null) {
                answerSize -= entry.size;
                it.remove();
            }
        }
    }
}
