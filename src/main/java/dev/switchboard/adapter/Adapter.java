package dev.switchboard.adapter;

import dev.switchboard.protocol.Frame;
import dev.switchboard.api.RemoteSocket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The one owner of room membership and fan-out for a namespace. Nothing else keeps a room or
 * user index, so a clustered implementation (Redis) replaces this without touching the rest.
 * A socket is always in the room named by its id, and in {@code "user:<id>"} when it has a user.
 *
 * <p>Implementations are thread-safe: joins, leaves and broadcasts come from any thread. The
 * queries and the changes to matching sockets answer with a future, since a clustered adapter asks
 * the other nodes; the embedded one completes them at once.
 *
 * <pre>{@code
 * SwitchboardOptions.builder().adapter(namespace -> new InMemoryAdapter(namespace)).build();
 * adapter.addAll(socketId, Set.of("lobby"));
 * adapter.broadcast(frame, new BroadcastOptions(Set.of("lobby"), Set.of(), false));
 * }</pre>
 */
public interface Adapter {
    /** Puts a socket in rooms. */
    void addAll(String socketId, Set<String> rooms);

    /** Takes a socket out of one room; an emptied room vanishes. */
    void del(String socketId, String room);

    /** Takes a socket out of every room. */
    void delAll(String socketId);

    /** The rooms of a socket (empty when unknown). */
    Set<String> socketRooms(String socketId);

    /** The ids of the sockets in any of {@code rooms}, or of every socket when empty. */
    Set<String> sockets(Set<String> rooms);

    /** Every room that has members. */
    CompletableFuture<Set<String>> rooms();

    /** Delivers a frame to every matching socket. */
    void broadcast(Frame frame, BroadcastOptions options);

    /**
     * Delivers a frame to the matching sockets of this node only; a cluster adapter overrides it
     * to leave the others and its shared engine out.
     */
    default void broadcastLocally(Frame frame, BroadcastOptions options) {
        broadcast(frame, options);
    }

    /** Delivers a frame that asks for acks; tells {@code collector} how many recipients it reached. */
    void broadcastWithAck(Frame frame, BroadcastOptions options, AckCollector collector);

    /** The matching sockets. */
    CompletableFuture<List<RemoteSocket>> fetchSockets(BroadcastOptions options);

    /** Puts the matching sockets in rooms. */
    CompletableFuture<Void> addSockets(BroadcastOptions options, Set<String> rooms);

    /** Takes the matching sockets out of rooms. */
    CompletableFuture<Void> delSockets(BroadcastOptions options, Set<String> rooms);

    /** Disconnects the matching sockets; {@code close} closes their connections. */
    CompletableFuture<Void> disconnectSockets(BroadcastOptions options, boolean close);

    /**
     * Where this node is in the cluster's log: the offset of the newest event it delivered, or
     * null for an adapter without a shared log. A socket that joins now gets every event after it.
     */
    default String position() {
        return null;
    }

    /**
     * Where in the shared log a socket's rooms changed lately, for its session's record: a node
     * that takes the session in replays each entry to the rooms of its moment. Null for an
     * adapter without a shared log.
     */
    default RoomHistory roomHistory(String socketId) {
        return null;
    }

    /**
     * Takes in a socket that recovers a session held by another node: puts it in {@code rooms}
     * and delivers to it again, in order and before anything newer, every event of the shared
     * log after {@code offset} that reached it, by the rooms it had at that event ({@code history},
     * null when unknown: by {@code rooms}), and none from before the session began ({@code since},
     * its {@link #position} when it joined, or null): a client that started afresh may present an
     * offset of its session before, and missed only what came after the new one's start. Events
     * that asked for an ack up to {@code unnamedThrough} (null: none) reached the connected client
     * without an offset it could name, so it had them though its offset is older: not again.
     * Completes with false, delivering nothing, when the log cannot tell exactly (no shared log, the offset
     * is unknown or trimmed, the history does not reach back to it).
     *
     * <pre>{@code
     * adapter.resend(socketId, record.rooms(), record.roomHistory(), "1796473541406-0", record.since(),
     *         record.unnamedThrough()).join();
     * }</pre>
     */
    default CompletableFuture<Boolean> resend(String socketId, Set<String> rooms, RoomHistory history, String offset,
                                              String since, String unnamedThrough) {
        return CompletableFuture.completedFuture(false);
    }

    /**
     * Tells the other nodes that this one claimed the record of session {@code socketId} (private
     * id {@code pid}, window ending at {@code expiresAt}) for its returning client: the node that
     * kept that session waiting ends it silently, as it would never come back there, and one that
     * still holds its socket connected ends that connection. Nothing to do without other nodes.
     */
    default void sessionTakenOver(String socketId, String pid, java.time.Instant expiresAt) {
    }

    // ---- presence ----

    /** The name of this node in {@link RoomLedger.SocketEntry#node()}; unique in a cluster. */
    default String nodeId() {
        return "local";
    }

    /** A room's presence entries, of every node, as they are now. */
    CompletableFuture<RoomLedger> ledger(String room);

    /** The rooms that have presence entries, of every node. */
    CompletableFuture<Set<String>> ledgerRooms();

    /**
     * Applies {@code changes} to a room's presence entries (a {@code null} entry removes the user)
     * and emits {@code emits}, in one step and in one order with every other emit, but only if the
     * room's version is still {@code version}; completes with whether it was.
     *
     * <pre>{@code
     * adapter.commit("lobby", ledger.version(), Map.of("ana", entry), List.of(new RoomLedger.Emit(frame, options)));
     * }</pre>
     */
    CompletableFuture<Boolean> commit(String room, long version, Map<String, RoomLedger.UserEntry> changes,
                                      List<RoomLedger.Emit> emits);

    /**
     * Runs {@code listener} with a node's id when the cluster counts that node dead (on the node
     * whose heartbeat counted it; on every node when it left cleanly), so that the entries of its
     * sockets can be turned away. A single node never loses one.
     */
    default void onNodeLost(Consumer<String> listener) {
    }

    /**
     * Whether the cluster counts {@code node} alive now. A node counted dead may come back (it was
     * cut from its cluster, not dead): its sockets are its own again. A single node has no other.
     */
    default boolean alive(String node) {
        return true;
    }

    /**
     * Runs {@code listener} when the shared state was lost (Redis restarted empty), so that each
     * node writes its own sockets' presence again. A single node never loses it.
     */
    default void onReset(Runnable listener) {
    }

    /**
     * Whether the adapter can serve new clients now; a clustered one that lost its shared store
     * cannot, and the server refuses new connections (1013, try again later) until it can.
     */
    default boolean available() {
        return true;
    }

    /**
     * The cluster as this node sees it (the same for every namespace's adapter): what metrics and
     * the dashboard show. An adapter that shares nothing is a {@link ClusterStatus#SINGLE_NODE}.
     */
    default ClusterStatus clusterStatus() {
        return ClusterStatus.SINGLE_NODE;
    }

    /** Releases what the adapter holds. */
    default void close() {
    }
}
