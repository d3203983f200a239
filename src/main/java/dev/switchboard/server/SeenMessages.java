package dev.switchboard.server;

import dev.switchboard.protocol.RawJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code msgId}s a client sent lately with the answers they got, so that a client retrying
 * until acked has each message handled once. Bounded: the oldest ids are forgotten first.
 *
 * <p>Guarded by {@code this}: the reading thread records, any thread may answer.
 */
final class SeenMessages {
    /** Recorded before the handler answers: a repeat gets an empty ack rather than a second run. */
    private static final List<RawJson> PENDING = List.of();

    private final Map<String, List<RawJson>> answers;

    SeenMessages(int capacity) {
        this.answers = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, List<RawJson>> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Records a new id; returns the earlier answer when the id was seen before, else null. */
    synchronized List<RawJson> firstSeen(String msgId) {
        List<RawJson> earlier = answers.get(msgId);
        if (earlier != null) {
            return earlier;
        }
        answers.put(msgId, PENDING);
        return null;
    }

    synchronized void answered(String msgId, List<RawJson> answer) {
        answers.replace(msgId, answer);
    }
}
