package dev.switchboard.adapter;

import dev.switchboard.adapter.LocalNamespace.Recipient;
import dev.switchboard.protocol.Frame;
import dev.switchboard.api.RemoteSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The embedded default: rooms in two concurrent maps, fan-out on the calling thread.
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create(SwitchboardOptions.builder().adapter(InMemoryAdapter::new).build());
 * }</pre>
 *
 * <p>Ownership: both maps are concurrent and change one key at a time with {@code compute}, so a
 * room is created by its first member and removed atomically with its last. Their values are
 * small immutable sets and maps, replaced whole inside {@code compute}, while they are small (a
 * socket's own room, a socket's few rooms: one each per connection, so their size is the server's
 * footprint); a room's members become a concurrent map once they are many, so that joining a
 * large room does not copy it. A room keeps each member as the namespace's {@link Recipient}, so
 * that a broadcast hands each frame over without looking the socket up by id.
 */
public final class InMemoryAdapter implements Adapter {
    /** Up to this many members a room's set is copied on change; past it, it is a concurrent set. */
    private static final int SMALL_ROOM = 8;

    private final LocalNamespace namespace;
    private final ChangeWatch watch;
    /** room to its members, by socket id */
    private final Map<String, Map<String, Recipient>> rooms = new ConcurrentHashMap<>();
    /** socket id to rooms */
    private final Map<String, Set<String>> socketRooms = new ConcurrentHashMap<>();
    /** The presence entries of rooms that have some; guarded by {@code this}. */
    private final Map<String, RoomLedger> ledgers = new HashMap<>();
    /** The last version given to a ledger; guarded by {@code this}. */
    private long ledgerVersion;

    public InMemoryAdapter(LocalNamespace namespace) {
        this(namespace, (socketId, change) -> change.run());
    }

    /** An adapter whose changes to a socket's rooms (joins and leaves, not its end) run through {@code watch}. */
    public InMemoryAdapter(LocalNamespace namespace, ChangeWatch watch) {
        this.namespace = namespace;
        this.watch = watch;
    }

    /**
     * Runs each change of one socket's rooms, which it must run once: a clustered adapter keeping
     * where in its log a socket's rooms changed ({@link RoomHistory}) looks before and after it.
     */
    @FunctionalInterface
    public interface ChangeWatch {
        void around(String socketId, Runnable change);
    }

    @Override
    public void addAll(String socketId, Set<String> newRooms) {
        watch.around(socketId, () -> join(socketId, newRooms));
    }

    private void join(String socketId, Set<String> newRooms) {
        socketRooms.compute(socketId, (id, current) -> with(current, newRooms));
        Recipient recipient = namespace.recipient(socketId);
        for (String room : newRooms) {
            rooms.compute(room, (name, members) -> withMember(members, recipient));
        }
    }

    private static Set<String> with(Set<String> current, Set<String> added) {
        if (current == null) {
            return Set.copyOf(added);
        }
        if (current.containsAll(added)) {
            return current;
        }
        Set<String> next = new HashSet<>(current);
        next.addAll(added);
        return Set.copyOf(next);
    }

    private static Set<String> without(Set<String> current, String removed) {
        if (!current.contains(removed)) {
            return current;
        }
        Set<String> next = new HashSet<>(current);
        next.remove(removed);
        return Set.copyOf(next);
    }

    private static Map<String, Recipient> withMember(Map<String, Recipient> members, Recipient recipient) {
        if (members == null) {
            return Map.of(recipient.id(), recipient);
        }
        if (members.containsKey(recipient.id())) {
            return members;
        }
        if (!(members instanceof ConcurrentHashMap<?, ?>) && members.size() < SMALL_ROOM) {
            Map<String, Recipient> next = new HashMap<>(members);
            next.put(recipient.id(), recipient);
            return Map.copyOf(next);
        }
        if (!(members instanceof ConcurrentHashMap<?, ?>)) {
            members = new ConcurrentHashMap<>(members);
        }
        members.put(recipient.id(), recipient);
        return members;
    }

    @Override
    public void del(String socketId, String room) {
        watch.around(socketId, () -> {
            socketRooms.computeIfPresent(socketId, (id, set) -> without(set, room));
            removeMember(room, socketId);
        });
    }

    @Override
    public void delAll(String socketId) {
        Set<String> left = socketRooms.remove(socketId);
        if (left != null) {
            for (String room : left) {
                removeMember(room, socketId);
            }
        }
    }

    private void removeMember(String room, String socketId) {
        rooms.computeIfPresent(room, (name, members) -> {
            Map<String, Recipient> left = members;
            if (members instanceof ConcurrentHashMap<?, ?>) {
                members.remove(socketId);
            } else if (members.containsKey(socketId)) {
                Map<String, Recipient> next = new HashMap<>(members);
                next.remove(socketId);
                left = Map.copyOf(next);
            }
            return left.isEmpty() ? null : left;
        });
    }

    @Override
    public Set<String> socketRooms(String socketId) {
        Set<String> set = socketRooms.get(socketId);
        return set == null ? Set.of() : set;
    }

    @Override
    public Set<String> sockets(Set<String> inRooms) {
        Set<String> ids = new HashSet<>();
        forEachMatch(new BroadcastOptions(inRooms, Set.of(), false), recipient -> ids.add(recipient.id()));
        return ids;
    }

    @Override
    public CompletableFuture<Set<String>> rooms() {
        return CompletableFuture.completedFuture(Set.copyOf(rooms.keySet()));
    }

    @Override
    public void broadcast(Frame frame, BroadcastOptions options) {
        boolean droppable = options.droppable();
        forEachMatch(options, recipient -> recipient.deliver(frame, droppable));
    }

    @Override
    public void broadcastWithAck(Frame frame, BroadcastOptions options, AckCollector collector) {
        int[] reached = {0};
        forEachMatch(options, recipient -> {
            if (namespace.deliverWithAck(recipient.id(), frame, collector)) {
                reached[0]++;
            }
        });
        collector.expect(reached[0]);
    }

    @Override
    public CompletableFuture<List<RemoteSocket>> fetchSockets(BroadcastOptions options) {
        List<RemoteSocket> found = new ArrayList<>();
        forEachMatch(options, recipient -> {
            RemoteSocket socket = namespace.socket(recipient.id());
            if (socket != null) {
                found.add(socket);
            }
        });
        return CompletableFuture.completedFuture(found);
    }

    @Override
    public CompletableFuture<Void> addSockets(BroadcastOptions options, Set<String> newRooms) {
        for (String id : matching(options)) {
            watch.around(id, () -> {
                // One that left every room since the snapshot (it ended) joins none: they would outlive it.
                if (socketRooms.containsKey(id)) {
                    join(id, newRooms);
                }
            });
            namespace.membershipChanged(id);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> delSockets(BroadcastOptions options, Set<String> oldRooms) {
        for (String id : matching(options)) {
            for (String room : oldRooms) {
                del(id, room);
            }
            namespace.membershipChanged(id);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> disconnectSockets(BroadcastOptions options, boolean close) {
        for (String id : matching(options)) {
            namespace.disconnect(id, close);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<RoomLedger> ledger(String room) {
        return CompletableFuture.completedFuture(ledgers.getOrDefault(room, RoomLedger.EMPTY));
    }

    @Override
    public synchronized CompletableFuture<Set<String>> ledgerRooms() {
        return CompletableFuture.completedFuture(Set.copyOf(ledgers.keySet()));
    }

    /** Emits under the lock, so that the room's members hear its changes in the order they were committed. */
    @Override
    public synchronized CompletableFuture<Boolean> commit(String room, long version,
                                                          Map<String, RoomLedger.UserEntry> changes,
                                                          List<RoomLedger.Emit> emits) {
        RoomLedger ledger = ledgers.getOrDefault(room, RoomLedger.EMPTY);
        if (ledger.version() != version) {
            return CompletableFuture.completedFuture(false);
        }
        if (!changes.isEmpty()) {
            Map<String, RoomLedger.UserEntry> users = new HashMap<>(ledger.users());
            changes.forEach((userId, entry) -> {
                if (entry == null) {
                    users.remove(userId);
                } else {
                    users.put(userId, entry);
                }
            });
            if (users.isEmpty()) {
                ledgers.remove(room);
            } else {
                ledgers.put(room, new RoomLedger(++ledgerVersion, users));
            }
        }
        emits.forEach(emit -> broadcast(emit.frame(), emit.options()));
        return CompletableFuture.completedFuture(true);
    }

    /** A snapshot, for operations that change membership while they walk it. */
    private List<String> matching(BroadcastOptions options) {
        List<String> ids = new ArrayList<>();
        forEachMatch(options, recipient -> ids.add(recipient.id()));
        return ids;
    }

    /** Runs {@code action} once for each matching member; nothing allocated per member for a plain broadcast. */
    private void forEachMatch(BroadcastOptions options, Consumer<Recipient> action) {
        Set<String> excluded = excludedIds(options.except());
        if (options.rooms().isEmpty()) {
            for (String id : socketRooms.keySet()) {
                if (!excluded.contains(id)) {
                    action.accept(ownRecipient(id));
                }
            }
            return;
        }
        Set<String> seen = options.rooms().size() > 1 ? new HashSet<>() : null;
        for (String room : options.rooms()) {
            Map<String, Recipient> members = rooms.get(room);
            if (members == null) {
                continue;
            }
            for (Recipient recipient : members.values()) {
                if ((excluded.isEmpty() || !excluded.contains(recipient.id())) && (seen == null || seen.add(recipient.id()))) {
                    action.accept(recipient);
                }
            }
        }
    }

    /** A socket's member entry in its own room, where every socket is. */
    private Recipient ownRecipient(String socketId) {
        Map<String, Recipient> own = rooms.get(socketId);
        Recipient recipient = own == null ? null : own.get(socketId);
        return recipient != null ? recipient : namespace.recipient(socketId);
    }

    private Set<String> excludedIds(Set<String> exceptRooms) {
        if (exceptRooms.isEmpty()) {
            return Set.of();
        }
        Set<String> ids = new HashSet<>();
        for (String room : exceptRooms) {
            Map<String, Recipient> members = rooms.get(room);
            if (members != null) {
                ids.addAll(members.keySet());
            }
        }
        return ids;
    }
}
