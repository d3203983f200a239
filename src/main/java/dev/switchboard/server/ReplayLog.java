package dev.switchboard.server;

import dev.switchboard.protocol.Frame;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The event frames a socket may still need, in the order they were queued to it: those its
 * client has not confirmed (pong offsets) while connected, and those it missed while away.
 * Bounded in count and bytes; what falls out of the bounds makes recovery from before it
 * impossible, never silently partial.
 *
 * <p>Guarded by the owning socket's lock ({@code synchronized (log)}), which also orders queueing.
 */
final class ReplayLog {
    /** The longest offset a fresh socket keeps from its client's lost session ({@link #heldFromBefore}). */
    static final int MAX_HELD_OFFSET_LENGTH = 256;

    private final int maxEvents;
    private final long maxBytes;
    /** Small at first: an idle socket's log stays empty, and there is one per socket. */
    private final ArrayDeque<Frame> entries = new ArrayDeque<>(2);
    private long bytes;
    /**
     * The offset of the newest event known to come before the first entry: the last one the
     * client confirmed or the last one dropped for the bounds, whichever came later; null while
     * the log still holds every event since the socket started. Recovery from any other offset
     * outside the entries would skip what lies between, so it is refused.
     */
    private String precedingOffset;
    /** Whether the entries start with the socket's first event (nothing confirmed or dropped yet). */
    private boolean fromStart = true;
    /**
     * The socket connected under this log's id, or null while none is (its session waits): what a
     * room's route delivers to without looking the id up. Written under the log's lock, read without.
     */
    private volatile Socket owner;
    /** Values the client may hold for an offset that are none (see {@link OffsetAliases}); null until one is sent. */
    private OffsetAliases aliases;
    /**
     * The offset of the newest event that went to the connected client without an offset it could
     * see (over Socket.IO, one that asks for an ack), which is therefore not logged; null when none.
     */
    private String unnamedThrough;

    ReplayLog(int maxEvents, long maxBytes) {
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    /**
     * Appends an event frame; drops the oldest entries past the bounds.
     *
     * @return whether something was dropped
     */
    boolean append(Frame frame) {
        entries.addLast(frame);
        bytes += frame.bytes();
        boolean dropped = false;
        while (entries.size() > maxEvents || bytes > maxBytes) {
            Frame oldest = entries.removeFirst();
            bytes -= oldest.bytes();
            precede(oldest.packet().offset());
            dropped = true;
        }
        return dropped;
    }

    /** Appends an event frame that goes to the connected client now. */
    void appendSent(Frame frame) {
        append(frame);
        if (aliases != null) {
            aliases.loggedSent();
        }
    }

    /**
     * An event of the namespace's shared log went to the connected client under {@code offset},
     * which it cannot see: not logged, as it cannot say it had it. A node that recovers the
     * session from the shared log must know that it had everything of that kind up to here,
     * though the offset it holds is older.
     */
    void unnamedSent(String offset) {
        unnamedThrough = offset;
    }

    String unnamedThrough() {
        return unnamedThrough;
    }

    /** A frame without an offset went to the connected client, after which it holds {@code value} for one. */
    void aliasSent(String value) {
        if (aliases == null) {
            aliases = new OffsetAliases();
        }
        aliases.aliasSent(value, newestOffset());
    }

    /** What {@link #pingAnswered} takes when the client answers a ping sent now; -1 when nothing is counted. */
    long sentCount() {
        return aliases == null ? -1 : aliases.sentCount();
    }

    /** The client answered a ping sent when {@link #sentCount} was {@code count}. */
    void pingAnswered(long count) {
        if (aliases != null && count >= 0) {
            aliases.answered(count);
        }
    }

    /** The client came back holding {@code offset}, which {@link #after} could place, and is replayed what followed. */
    void resumedFrom(String offset) {
        if (aliases != null) {
            aliases.resumed(offset);
        }
    }

    /**
     * A fresh socket whose client came with {@code offset} from a session it could not recover
     * (socket.io-client keeps it until an event changes it): presented again, it means the client
     * has nothing of this session yet. Only one that could be such a value: an offset of ours, or
     * what socket.io-client takes from an event for one, is far shorter than the client's choice
     * of up to a message, which its session would keep for the whole recovery window.
     */
    void heldFromBefore(String offset) {
        if (offset == null || offset.length() > MAX_HELD_OFFSET_LENGTH) {
            return;
        }
        if (aliases == null) {
            aliases = new OffsetAliases();
        }
        aliases.heldFromBefore(offset);
    }

    /**
     * An empty log whose client has everything up to {@code offset} (null: nothing yet), and every
     * event it could not name up to {@code unnamed} (see {@link #unnamedSent}). The client holds
     * {@code held} for its last offset: {@code offset} itself, or a value that stands after it
     * (see {@link OffsetAliases}), which it may present again.
     */
    void startAfter(String offset, String held, String unnamed) {
        if (offset != null) {
            precede(offset);
        }
        if (held != null && !held.equals(offset)) {
            if (aliases == null) {
                aliases = new OffsetAliases();
            }
            aliases.heldAt(held, offset);
        }
        unnamedThrough = unnamed;
    }

    /** The client has everything up to and including {@code offset}, if that offset is ours. */
    void confirm(String offset) {
        if (offset == null || !contains(offset)) {
            return;
        }
        while (!entries.isEmpty()) {
            Frame first = entries.removeFirst();
            bytes -= first.bytes();
            if (offset.equals(first.packet().offset())) {
                break;
            }
        }
        precede(offset);
    }

    /**
     * Events meant for this log's client never reached it (the cluster's log lost them before this
     * node read them): a recovery from any offset logged so far would skip them, so it is refused,
     * as for what falls out of the bounds. What comes after is logged as before.
     */
    void lose() {
        entries.clear();
        bytes = 0;
        precedingOffset = null;
        fromStart = false;
    }

    private void precede(String offset) {
        precedingOffset = offset;
        fromStart = false;
    }

    /**
     * The frames after {@code offset}, or {@code null} when this log cannot tell what the client
     * missed (the offset fell out of the bounds, or is unknown).
     */
    List<Frame> after(String offset) {
        Iterator<Frame> from = positionAfter(offset);
        return from == null ? null : frames(from);
    }

    /** Whether {@link #after} can tell what a client that last saw {@code offset} missed. */
    boolean covers(String offset) {
        return positionAfter(offset) != null;
    }

    private Iterator<Frame> positionAfter(String offset) {
        if (offset != null && aliases != null && aliases.held(offset)) {
            // Also one of our offsets (an application's string can look like one): which the
            // client means cannot be told.
            if (offset.equals(precedingOffset) || contains(offset) || !aliases.resolves(offset)) {
                return null;
            }
            return positionAfterOffset(aliases.position(offset));
        }
        return positionAfterOffset(offset);
    }

    private Iterator<Frame> positionAfterOffset(String offset) {
        if (offset == null) {
            return fromStart ? entries.iterator() : null;
        }
        if (offset.equals(precedingOffset)) {
            return entries.iterator();
        }
        Iterator<Frame> it = entries.iterator();
        while (it.hasNext()) {
            if (offset.equals(it.next().packet().offset())) {
                return it;
            }
        }
        return null;
    }

    /**
     * What the client may hold in place of an offset and the offset each stands after ({@code start}
     * when before every event of this log), for the values {@link #after} would place: a node
     * that recovers the session from its record, without this log, places them the same way.
     */
    Map<String, String> aliasPositions(String start) {
        Map<String, String> positions = new HashMap<>();
        if (aliases != null) {
            for (String value : aliases.resolvable()) {
                String position = aliases.position(value);
                // Within the bound of heldFromBefore: the record lives in the shared store.
                if (value.length() <= MAX_HELD_OFFSET_LENGTH && !value.equals(precedingOffset) && !contains(value)
                        && (position != null || start != null)) {
                    positions.put(value, position != null ? position : start);
                }
            }
        }
        return positions;
    }

    /** The offset of the newest event logged or confirmed, or null when there was none. */
    String newestOffset() {
        return entries.isEmpty() ? precedingOffset : entries.getLast().packet().offset();
    }

    Socket owner() {
        return owner;
    }

    /** Caller holds the log's lock. */
    void owner(Socket socket) {
        owner = socket;
    }

    /** Caller holds the log's lock: the socket ends, unless another took the log over already. */
    void release(Socket socket) {
        if (owner == socket) {
            owner = null;
        }
    }

    int size() {
        return entries.size();
    }

    long bytes() {
        return bytes;
    }

    private boolean contains(String offset) {
        for (Frame frame : entries) {
            if (offset.equals(frame.packet().offset())) {
                return true;
            }
        }
        return false;
    }

    private static List<Frame> frames(Iterator<Frame> from) {
        List<Frame> list = new java.util.ArrayList<>();
        from.forEachRemaining(list::add);
        return list;
    }
}
