package dev.switchboard.adapter.redis;

import java.util.List;
import java.util.Set;

/**
 * What nodes tell each other, as JSON: a log entry (an emit) on a namespace's stream, or a
 * request, an answer or an ack on the pub/sub channels. Only the fields a kind needs are set; the
 * layout is described in docs/SCALING.md. Public only because JSON-B maps public types.
 *
 * <pre>{@code
 * ClusterMessage fetch = ClusterMessage.request(ClusterMessage.FETCH, requestId, nodeId, "/chat",
 *         Set.of("lobby"), Set.of(), Set.of(), false);
 * }</pre>
 *
 * @param kind      what it is: {@code "emit"}, {@code "fetch"} and the other kinds named below
 * @param request   the request an answer belongs to, or the broadcast an ack belongs to
 * @param from      the node that sent it
 * @param namespace the namespace's name
 * @param rooms     the target rooms (empty: every socket), or the rooms of an answer
 * @param except    the rooms left out
 * @param droppable a volatile emit
 * @param change    the rooms to join or leave
 * @param close     whether a disconnect closes the connections
 * @param packet    an event packet, encoded with the JSON wire codec
 * @param count     how many recipients a node reached
 * @param sockets   the sockets a node found
 * @param error     why a node could not answer
 * @param deadline  for a request, the time (epoch millis, the sender's clock) after which it is
 *                  too late to act on: its sender gave up; for an emit, the time (epoch millis)
 *                  after which Redis taking it is too late: its sender was told it failed, so
 *                  nobody delivers it
 */
public record ClusterMessage(String kind, String request, String from, String namespace, Set<String> rooms,
                             Set<String> except, boolean droppable, Set<String> change, boolean close, String packet,
                             int count, List<SocketSnapshot> sockets, String error, long deadline) {
    static final String EMIT = "emit";
    static final String FETCH = "fetch";
    static final String ROOMS = "rooms";
    static final String JOIN = "join";
    static final String LEAVE = "leave";
    static final String DISCONNECT = "disconnect";
    static final String SERVER_EVENT = "server-event";
    static final String ANSWER = "answer";
    static final String ACK_COUNT = "ack-count";
    static final String ACK = "ack";
    /** A recipient of a broadcast with acks whose socket ended before it answered. */
    static final String ACK_LOST = "ack-lost";
    static final String NODE_UP = "node-up";
    static final String NODE_DOWN = "node-down";
    /**
     * A node claimed a session's record, told to every node, unanswered: {@code rooms} holds the
     * socket id, {@code change} the private id and the end of the window, separated by a space.
     */
    static final String TAKEN_OVER = "taken-over";

    /** A request to every node about the sockets a target matches. */
    static ClusterMessage request(String kind, String request, String from, String namespace, Set<String> rooms,
                                  Set<String> except, Set<String> change, boolean close) {
        return request(kind, request, from, namespace, rooms, except, change, close, 0);
    }

    /** The same, to be acted on until {@code deadline} (epoch millis) only. */
    static ClusterMessage request(String kind, String request, String from, String namespace, Set<String> rooms,
                                  Set<String> except, Set<String> change, boolean close, long deadline) {
        return new ClusterMessage(kind, request, from, namespace, rooms, except, false, change, close, null, 0, null,
                null, deadline);
    }

    /** An answer to a request (or an ack of a broadcast) sent to the node that asked. */
    static ClusterMessage answer(String kind, String request, String from, int count, Set<String> rooms,
                                 List<SocketSnapshot> sockets, String packet) {
        return new ClusterMessage(kind, request, from, null, rooms, null, false, null, false, packet, count, sockets,
                null, 0);
    }
}
