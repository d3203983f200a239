package dev.switchboard.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a client may hold for its last offset when that is no offset. socket.io-client takes the
 * last element of every event it is sent without an ack request for its offset when it is a
 * string (the event's name, when it has no arguments), so an event that carries no offset (a
 * volatile one) can leave such a value in place of the offset it had
 * ({@link dev.switchboard.protocol.Codec#offsetTakenFrom}). A client that comes back with it is
 * owed what followed the newest offset logged when that event was sent: its position.
 *
 * <p>One value may be sent again at a later position, after logged events. The client holds the
 * one it got last; it surely got every frame queued before the last ping it answered, so the
 * candidates are the sends of that value from the last offset-changing frame before that ping
 * on. A value is resolved only when its candidates all name one position: else the client could
 * be replayed less or more than it missed, and recovery is refused, as for an unknown offset.
 *
 * <p>A client that starts a fresh session keeps the offset it had of the old one the same way
 * ({@link #heldFromBefore}).
 *
 * <p>Made when the first such event is sent (or such a client connects), so a socket that never
 * gets one pays nothing.
 * Guarded by the lock of the {@link ReplayLog} that holds it.
 */
final class OffsetAliases {
    /** Bounds on what is kept; a send past them blocks every value until the client answered a ping after it. */
    private static final int MAX_VALUES = 32;
    private static final int MAX_POSITIONS = 8;

    /** A position (the offset it stands after; null before the first) and the index of the last send of the value there. */
    private static final class Sent {
        final String position;
        long index;

        Sent(String position, long index) {
            this.position = position;
            this.index = index;
        }
    }

    private final Map<String, List<Sent>> values = new HashMap<>();
    /** Frames sent since this was made that change what the client holds (logged ones and these), counted in order. */
    private long sent;
    /** The index of the last such frame before the last ping the client answered: it had that one. */
    private long answered;
    /** The index of the last send that could not be kept within the bounds; 0 when none. */
    private long overflowThrough;

    /** A logged event went out: the client holds its offset once it has it. */
    void loggedSent() {
        sent++;
    }

    /** An event went out after which the client holds {@code value}, standing after {@code position}. */
    void aliasSent(String value, String position) {
        long index = ++sent;
        List<Sent> positions = values.get(value);
        if (positions == null) {
            if (values.size() >= MAX_VALUES) {
                overflowThrough = index;
                return;
            }
            positions = new ArrayList<>(1);
            values.put(value, positions);
        }
        for (Sent at : positions) {
            if (Objects.equals(at.position, position)) {
                at.index = index;
                return;
            }
        }
        if (positions.size() >= MAX_POSITIONS) {
            overflowThrough = index;
            positions.remove(0);
        }
        positions.add(new Sent(position, index));
    }

    /** How many sends had gone out when a ping did; what {@link #answered} takes once the client answers it. */
    long sentCount() {
        return sent;
    }

    /** The client answered a ping sent after {@code count} sends: it had them all; older candidates go. */
    void answered(long count) {
        answered = Math.max(answered, count);
        for (Iterator<List<Sent>> it = values.values().iterator(); it.hasNext(); ) {
            List<Sent> positions = it.next();
            positions.removeIf(at -> at.index < answered);
            if (positions.isEmpty()) {
                it.remove();
            }
        }
    }

    /**
     * The client came back holding {@code value} (a value of these, or an offset), and was
     * replayed what followed it: that is all it holds now. What was sent over its old connection
     * is settled, and a ping of the new one vouches for nothing sent before.
     */
    void resumed(String value) {
        boolean held = held(value);
        String position = held ? position(value) : null;
        settle();
        if (held) {
            values.put(value, new ArrayList<>(List.of(new Sent(position, answered))));
        }
    }

    /**
     * A client started a fresh session holding {@code value} from one it could not recover.
     * socket.io-client keeps it until an event changes it: it names nothing of this session,
     * so it stands before its first event.
     */
    void heldFromBefore(String value) {
        heldAt(value, null);
    }

    /** The client holds {@code value}, standing after {@code position}, and nothing sent before counts. */
    void heldAt(String value, String position) {
        settle();
        values.put(value, new ArrayList<>(List.of(new Sent(position, answered))));
    }

    /** Only what the client holds now counts: every earlier send is settled. */
    private void settle() {
        values.clear();
        overflowThrough = 0;
        answered = ++sent;
    }

    /** Whether the client may hold {@code value} from such an event now. */
    boolean held(String value) {
        return !candidates(value).isEmpty();
    }

    /**
     * Whether {@code value} names one position: then {@link #position} gives it. False for a
     * value never sent, or whose candidates name several.
     */
    boolean resolves(String value) {
        List<Sent> candidates = candidates(value);
        if (candidates.isEmpty() || overflowThrough > 0 && overflowThrough >= answered) {
            return false;
        }
        String first = candidates.get(0).position;
        return candidates.stream().allMatch(at -> Objects.equals(at.position, first));
    }

    /** The values that each name one position now ({@link #resolves}). */
    List<String> resolvable() {
        return values.keySet().stream().filter(this::resolves).toList();
    }

    /** The position {@code value} names; call only when {@link #resolves} said so. */
    String position(String value) {
        return candidates(value).get(0).position;
    }

    private List<Sent> candidates(String value) {
        List<Sent> positions = values.getOrDefault(value, List.of());
        return positions.stream().filter(at -> at.index >= answered).toList();
    }
}
