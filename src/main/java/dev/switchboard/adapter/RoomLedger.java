package dev.switchboard.adapter;

import dev.switchboard.api.PresentUser;
import dev.switchboard.protocol.Frame;
import java.util.Map;
import java.util.Objects;

/**
 * Who is in a room for presence, as every node of a cluster sees it: each user's sockets there,
 * on which node, connected or waiting for their client, with their public info. The node that
 * holds a socket writes its entry; a change is committed only if the room's {@link #version} is
 * still the one it was computed from, together with the events that tell it, so that every member
 * hears the changes of a room in the order they were made.
 *
 * <pre>{@code
 * adapter.ledger("lobby").thenAccept(ledger -> ledger.users().keySet().forEach(System.out::println));
 * }</pre>
 *
 * @param version changes with every commit; 0 when the room has nobody
 * @param users   by user id
 */
public record RoomLedger(long version, Map<String, UserEntry> users) {
    /** A room nobody is in. */
    public static final RoomLedger EMPTY = new RoomLedger(0, Map.of());

    public RoomLedger {
        users = Map.copyOf(users);
    }

    /**
     * One user's sockets in a room.
     *
     * @param info    the info set for the user itself, which wins over its sockets'; empty if none
     * @param sockets by socket id
     */
    public record UserEntry(Map<String, Object> info, Map<String, SocketEntry> sockets) {
        public UserEntry {
            info = info == null ? Map.of() : Map.copyOf(info);
            sockets = Map.copyOf(sockets);
        }

        /**
         * The user as the room shows it: away when all its sockets wait, with its own info or else
         * that of its socket with the smallest id that has some.
         */
        public PresentUser present(String userId) {
            boolean away = sockets.values().stream().allMatch(SocketEntry::waiting);
            Map<String, Object> shown = !info.isEmpty() ? info : sockets.entrySet().stream()
                    .filter(socket -> !socket.getValue().info().isEmpty())
                    .min(Map.Entry.comparingByKey())
                    .map(socket -> socket.getValue().info())
                    .orElse(Map.of());
            return new PresentUser(userId, shown, away);
        }
    }

    /**
     * One socket of a user in a room.
     *
     * @param node         the node that holds it (or held it, for a waiting one)
     * @param waitingUntil 0 while connected; once dropped, when its recovery window ends (epoch ms)
     * @param info         the socket's public info; empty if none
     */
    public record SocketEntry(String node, long waitingUntil, Map<String, Object> info) {
        public SocketEntry {
            Objects.requireNonNull(node, "node");
            info = info == null ? Map.of() : Map.copyOf(info);
        }

        /** Whether the socket dropped and its session waits for the client to come back. */
        public boolean waiting() {
            return waitingUntil > 0;
        }
    }

    /** An event to emit with a commit, to the recipients {@code options} names. */
    public record Emit(Frame frame, BroadcastOptions options) {
    }
}
