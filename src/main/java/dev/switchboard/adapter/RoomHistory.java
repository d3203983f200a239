package dev.switchboard.adapter;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where in an adapter's shared log a socket's rooms changed, so that another node replaying that
 * log to the socket matches each entry against the rooms the socket had when the entry went out,
 * not those it has now. Positions are the adapter's log positions ({@link Adapter#position}).
 * Immutable; the newest {@value #MAX_CHANGES} changes are kept.
 *
 * <pre>{@code
 * RoomHistory.Replay replay = record.roomHistory().replay(record.rooms(), offset, logOrder);
 * Boolean reached = replay.reaches(entryId, Set.of("lobby"), Set.of());   // null: unknown
 * }</pre>
 *
 * @param after   every change that took effect later than this position is listed; null when
 *                every change since the socket joined is
 * @param changes oldest first
 */
public record RoomHistory(String after, List<RoomChange> changes) {
    /** Changes kept per socket: a few rooms joined at connect, then the odd move. */
    public static final int MAX_CHANGES = 16;
    /** A socket whose rooms have not changed. */
    public static final RoomHistory NONE = new RoomHistory(null, List.of());

    public RoomHistory {
        changes = List.copyOf(changes);
    }

    /**
     * One change of a socket's rooms. The adapter delivers its log's entries one at a time, and
     * a change may come while one is being delivered, so it is placed between two positions:
     * entries up to {@code from} went out before it, entries after {@code to} after it; those
     * between (rarely any) may have gone either way.
     *
     * @param from   the last entry delivered before the change began
     * @param to     the last entry whose delivery began before the change ended; null when the
     *               adapter did not know where its log stood
     * @param joined rooms the socket was put in
     * @param left   rooms it was taken out of
     */
    public record RoomChange(String from, String to, Set<String> joined, Set<String> left) {
        public RoomChange {
            joined = Set.copyOf(joined);
            left = Set.copyOf(left);
        }

        private boolean touches(Set<String> rooms) {
            return rooms.stream().anyMatch(room -> joined.contains(room) || left.contains(room));
        }
    }

    /** This history and one more change; the oldest goes past {@value #MAX_CHANGES}. */
    public RoomHistory with(RoomChange change, Comparator<String> order) {
        List<RoomChange> next = new ArrayList<>(changes);
        next.add(change);
        String complete = after;
        while (next.size() > MAX_CHANGES) {
            String dropped = next.remove(0).to();
            if (dropped == null) {
                // Made before the adapter knew where its log stood, so before every later change:
                // exact from where the next known one took effect (while an unknown one is still
                // listed, no replay is exact anyway).
                dropped = next.stream().map(RoomChange::to).filter(Objects::nonNull).findFirst().orElse(complete);
            }
            complete = complete == null || (dropped != null && order.compare(dropped, complete) > 0) ? dropped : complete;
        }
        return new RoomHistory(complete, next);
    }

    /**
     * Follows the socket's rooms through the log's entries after {@code start}; null when this
     * history cannot tell them (a change it no longer lists, or one at an unknown position).
     *
     * @param roomsNow the rooms the socket has after every listed change
     */
    public Replay replay(Set<String> roomsNow, String start, Comparator<String> order) {
        Objects.requireNonNull(start, "start");
        if (after != null && order.compare(start, after) < 0) {
            return null;
        }
        List<RoomChange> pending = new ArrayList<>();
        for (RoomChange change : changes) {
            if (change.to() == null || change.from() == null) {
                return null;
            }
            // One that took effect at or before the start holds for every entry after it.
            if (order.compare(change.to(), start) > 0) {
                pending.add(change);
            }
        }
        Set<String> rooms = new HashSet<>(roomsNow);
        for (int i = pending.size() - 1; i >= 0; i--) {
            rooms.removeAll(pending.get(i).joined());
            rooms.addAll(pending.get(i).left());
        }
        return new Replay(rooms, pending, order);
    }

    /**
     * The socket's rooms as the log's entries went out, one entry after the other.
     * Not thread-safe: one replay, on one thread.
     */
    public static final class Replay {
        private final Set<String> rooms;
        private final List<RoomChange> pending;
        private final Comparator<String> order;
        private int next;

        private Replay(Set<String> rooms, List<RoomChange> pending, Comparator<String> order) {
            this.rooms = rooms;
            this.pending = pending;
            this.order = order;
        }

        /**
         * Whether the entry {@code id}, sent to {@code to} (every socket when empty) but not to
         * {@code except}, reached the socket; null when a change to one of those rooms came while
         * it was being delivered. Entries must come in the log's order.
         */
        public Boolean reaches(String id, Set<String> to, Set<String> except) {
            while (next < pending.size() && order.compare(pending.get(next).to(), id) < 0) {
                RoomChange change = pending.get(next++);
                rooms.removeAll(change.left());
                rooms.addAll(change.joined());
            }
            for (int i = next; i < pending.size() && order.compare(pending.get(i).from(), id) < 0; i++) {
                if (mayDecide(pending.get(i), to, except)) {
                    return null;
                }
            }
            // A socket in no room is in no adapter: not even an entry to everyone reaches it.
            return !rooms.isEmpty() && (to.isEmpty() || to.stream().anyMatch(rooms::contains))
                    && except.stream().noneMatch(rooms::contains);
        }

        /**
         * Whether a change that may or may not have come before an entry decides if it reached
         * the socket: it changed one of the entry's rooms, or (an entry to everyone) it may have
         * taken the socket from no room to some or back.
         */
        private boolean mayDecide(RoomChange change, Set<String> to, Set<String> except) {
            return change.touches(to) || change.touches(except)
                    || (to.isEmpty() && (rooms.isEmpty() || !change.left().isEmpty()));
        }
    }
}
