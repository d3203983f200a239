package dev.switchboard.server;

import dev.switchboard.protocol.RawJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code msgId}s a client sent lately with the answers they got, so that a client retrying
 * until acked has each message handled once and every send answered with the handler's answer.
 * Bounded: the oldest ids are forgotten first.
 *
 * <p>Guarded by {@code this}: the reading thread records, any thread may answer. Acks are sent
 * outside the lock.
 */
final class SeenMessages {
    /** Where an answer must go: a socket and the ack id it asked with. */
    private record Asker(Socket socket, long ackId) {
    }

    /** One message id: who sent it first, its answer once given, and the latest retry waiting for it. */
    private static final class Seen {
        final Asker first;
        List<RawJson> answer;
        Asker waiting;

        Seen(Asker first) {
            this.first = first;
        }
    }

    private final Map<String, Seen> seen;

    SeenMessages(int capacity) {
        this.seen = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Records a new id and returns true: the caller handles the message. A repeat returns false;
     * it is answered with the earlier answer now, or when the handler gives it. A retry over the
     * same socket with the same ack id needs nothing: the handler's answer goes there anyway.
     */
    boolean firstSeen(String msgId, Socket from, long ackId) {
        Asker asker = new Asker(from, ackId);
        List<RawJson> answer;
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
            from.sendAck(ackId, answer);
        }
        return false;
    }

    /** The handler answered: keeps the answer for later retries and gives it to the waiting one. */
    void answered(String msgId, List<RawJson> answer) {
        Asker waiting;
        synchronized (this) {
            Seen entry = seen.get(msgId);
            if (entry == null) {
                return;
            }
            entry.answer = answer;
            waiting = entry.waiting;
            entry.waiting = null;
        }
        if (waiting != null) {
            waiting.socket().sendAck(waiting.ackId(), answer);
        }
    }
}
