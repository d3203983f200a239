package dev.switchboard.server;

import dev.switchboard.adapter.Adapter;
import dev.switchboard.api.PresentUser;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.adapter.BroadcastOptions;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Frame;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * An immutable description of who receives an emit: rooms, exclusions, flags. Each call returns
 * a new operator, so operators can be kept and reused. The frame is encoded once whatever the
 * number of recipients.
 *
 * <pre>{@code
 * chat.to("room-1", "room-2").except("muted").emit("message", from, text);
 * socket.broadcast().emit("joined", name);                 // everyone but the sender
 * chat.toUser("maciel").emit("private", from, text);       // all of Maciel's tabs
 * chat.asVolatile().emit("cursor", x, y);                  // dropped for clients that lag
 * chat.timeout(Duration.ofSeconds(2)).emitWithAck("poll")  // one answer per recipient
 *     .thenAccept(answers -> tally(answers));
 * }</pre>
 */
public final class BroadcastOperator {
    private final Namespace namespace;
    private final Set<String> rooms;
    private final Set<String> except;
    private final boolean droppable;
    private final Duration ackTimeout;

    BroadcastOperator(Namespace namespace, Set<String> rooms, Set<String> except, boolean droppable,
                      Duration ackTimeout) {
        this.namespace = namespace;
        this.rooms = rooms;
        this.except = except;
        this.droppable = droppable;
        this.ackTimeout = ackTimeout;
    }

    /** Also targets these rooms. */
    public BroadcastOperator to(String... moreRooms) {
        return new BroadcastOperator(namespace, plus(rooms, moreRooms), except, droppable, ackTimeout);
    }

    /** Same as {@link #to}. */
    public BroadcastOperator in(String... moreRooms) {
        return to(moreRooms);
    }

    /** Leaves out the sockets in these rooms (a socket id works as a room). */
    public BroadcastOperator except(String... excludedRooms) {
        return new BroadcastOperator(namespace, rooms, plus(except, excludedRooms), droppable, ackTimeout);
    }

    /** Also targets every socket of a user: each tab and device the user has open. */
    public BroadcastOperator toUser(String userId) {
        return to(Namespace.userRoom(userId));
    }

    /** Drops the emit, rather than queueing it, for recipients that are behind. */
    public BroadcastOperator asVolatile() {
        return new BroadcastOperator(namespace, rooms, except, true, ackTimeout);
    }

    /** Sets how long {@link #emitWithAck} waits for the answers. */
    public BroadcastOperator timeout(Duration timeout) {
        return new BroadcastOperator(namespace, rooms, except, droppable, timeout);
    }

    /**
     * Emits to every target.
     *
     * @return the event's offset, under which a recovering client asks for what it missed, or
     *         {@code null} for a volatile emit, which is never replayed
     */
    public String emit(String event, Object... args) {
        Frame frame = droppable ? namespace.encodeVolatileEvent(event, args) : namespace.encodeEvent(event, args, 0);
        namespace.broadcast(frame, options());
        return frame.packet().offset();
    }

    /**
     * Emits to the targets connected to this node only, leaving the other nodes of a cluster and
     * its shared log out (Socket.IO's {@code local}): for what is this node's own, its figures say,
     * and what must reach them while the cluster's engine is away. The event is volatile: it
     * carries no offset and is never replayed. On one node it is {@code asVolatile().emit(...)}.
     *
     * <pre>{@code
     * dashboard.to("viewers").emitLocally("stats", figuresOfThisNode);
     * }</pre>
     */
    public void emitLocally(String event, Object... args) {
        namespace.broadcastLocally(namespace.encodeVolatileEvent(event, args), new BroadcastOptions(rooms, except, true));
    }

    /**
     * Emits to every target and completes with one answer per recipient; fails with
     * {@link AckTimeoutException}, which carries the answers that came, when some are late. A
     * target that cannot answer now (away with its session waiting, ending, or owing {@code
     * maxPendingAcks} acks) gets the event like any other but is not a recipient, and one whose
     * socket ends before it answers is no longer waited for.
     */
    public CompletableFuture<List<Arguments>> emitWithAck(String event, Object... args) {
        Duration timeout = ackTimeout != null ? ackTimeout : namespace.switchboard().options().ackTimeout();
        return namespace.broadcastWithAck(event, args, options(), timeout);
    }

    /**
     * The targeted sockets, on every node: {@code chat.in("lobby").fetchSockets().thenAccept(list -> ...)}.
     * In one process it completes at once; with a cluster adapter, when every node answered.
     */
    public CompletableFuture<List<RemoteSocket>> fetchSockets() {
        return namespace.adapter().fetchSockets(options());
    }

    /**
     * The users present in the targeted tracked rooms (every tracked room when none is named), on
     * every node, each once, sorted by id, leaving out those present in the excepted rooms; away
     * only when away in every targeted room. With a cluster adapter it reads Redis.
     *
     * <pre>{@code
     * chat.to("#general", "#random").except("#muted").presence()
     *     .thenAccept(users -> users.forEach(user -> show(user.userId(), user.info(), user.away())));
     * }</pre>
     */
    public CompletableFuture<List<PresentUser>> presence() {
        PresenceKeeper keeper = namespace.presenceKeeper();
        if (keeper == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        Adapter adapter = namespace.adapter();
        CompletableFuture<Set<String>> targets = rooms.isEmpty() ? adapter.ledgerRooms()
                : CompletableFuture.completedFuture(rooms);
        return targets.thenCompose(named -> {
            Map<String, PresentUser> users = new TreeMap<>();
            Set<String> excluded = new HashSet<>();
            CompletableFuture<Void> read = CompletableFuture.completedFuture(null);
            for (String room : named) {
                if (keeper.tracks(room)) {
                    read = read.thenCombine(adapter.ledger(room), (done, ledger) -> {
                        ledger.users().forEach((id, entry) -> users.merge(id, entry.present(id),
                                (one, other) -> one.asAway(one.away() && other.away())));
                        return null;
                    });
                }
            }
            for (String room : except) {
                read = read.thenCombine(adapter.ledger(room), (done, ledger) -> {
                    excluded.addAll(ledger.users().keySet());
                    return null;
                });
            }
            return read.thenApply(done -> {
                users.keySet().removeAll(excluded);
                return List.copyOf(users.values());
            });
        });
    }

    /** How many sockets are targeted: {@code chat.in("lobby").count()} completes with the size of the lobby. */
    public CompletableFuture<Integer> count() {
        return fetchSockets().thenApply(List::size);
    }

    /** Puts the targeted sockets in rooms; completes once every node applied it. */
    public CompletableFuture<Void> socketsJoin(String... newRooms) {
        Set<String> rooms = Set.of(newRooms);
        return namespace.adapter().addSockets(options(), rooms).thenRun(() -> namespace.roomsChanged(rooms));
    }

    /** Takes the targeted sockets out of rooms; completes once every node applied it. */
    public CompletableFuture<Void> socketsLeave(String... oldRooms) {
        Set<String> rooms = Set.of(oldRooms);
        return namespace.adapter().delSockets(options(), rooms).thenRun(() -> namespace.roomsChanged(rooms));
    }

    /** Disconnects the targeted sockets; {@code close} closes their connections too. */
    public CompletableFuture<Void> disconnectSockets(boolean close) {
        return namespace.adapter().disconnectSockets(options(), close);
    }

    private BroadcastOptions options() {
        return new BroadcastOptions(rooms, except, droppable);
    }

    private static Set<String> plus(Set<String> set, String[] more) {
        Set<String> union = new HashSet<>(set);
        union.addAll(List.of(more));
        return union;
    }
}
