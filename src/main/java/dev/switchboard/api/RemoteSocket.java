package dev.switchboard.api;

import java.util.Map;
import java.util.Set;

/**
 * A socket found by {@code BroadcastOperator.fetchSockets()}: what can be read about it. In the
 * embedded default these are the live {@code Socket}s themselves; with a cluster adapter they may
 * be snapshots of sockets on other nodes.
 *
 * <pre>{@code
 * chat.in("lobby").fetchSockets().thenAccept(sockets -> sockets.forEach(s -> names.add((String) s.data().get("name"))));
 * }</pre>
 */
public interface RemoteSocket {
    /** The socket id. */
    String id();

    /** The user the middleware assigned, or {@code null}. */
    String userId();

    /** The handshake. */
    Handshake handshake();

    /** The rooms the socket is in, its own id room included. */
    Set<String> rooms();

    /** The application's data for this socket. */
    Map<String, Object> data();
}
