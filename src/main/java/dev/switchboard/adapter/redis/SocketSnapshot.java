package dev.switchboard.adapter.redis;

import dev.switchboard.api.Handshake;
import dev.switchboard.api.RemoteSocket;
import java.util.Map;
import java.util.Set;

/**
 * A socket on another node as {@code fetchSockets()} sees it: what it was when that node answered.
 * The handshake stays on its node (headers may hold credentials), so {@link #handshake()} is null.
 *
 * <pre>{@code
 * chat.in("lobby").fetchSockets().thenAccept(all -> all.forEach(s -> System.out.println(s.userId())));
 * }</pre>
 *
 * @param node the node that holds the socket
 */
public record SocketSnapshot(String id, String userId, Set<String> rooms, Map<String, Object> data, String node)
        implements RemoteSocket {
    public SocketSnapshot {
        rooms = rooms == null ? Set.of() : Set.copyOf(rooms);
        data = data == null ? Map.of() : data;
    }

    static SocketSnapshot of(RemoteSocket socket, String node) {
        return new SocketSnapshot(socket.id(), socket.userId(), socket.rooms(), Map.copyOf(socket.data()), node);
    }

    @Override
    public Handshake handshake() {
        return null;
    }
}
