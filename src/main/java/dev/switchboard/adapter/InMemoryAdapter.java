package dev.switchboard.adapter;

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
 * small immutable sets, replaced whole inside {@code compute}, while they are small (a socket's
 * own room, a socket's few rooms: one each per connection, so their size is the server's
 * footprint); a room's members become a concurrent set once they are many, so that joining a
 * large room does not copy it.
 */
public final class InMemoryAdapter implements Adapter {
    /** Up to this many members a room's set is copied on change; past it, it is a concurrent set. */
    private static final int SMALL_ROOM = 8;

    private final LocalNamespace namespace;
    /** room to socket ids */
    private final Map<String, Set<String>> rooms = new ConcurrentHashMap<>();
    /** socket id to rooms */
    private final Map<String, Set<String>> socketRooms = new ConcurrentHashMap<>();
    /** The presence entries of rooms that have some; guarded by {@code this}. */
    private final Map<String, RoomLedger> ledgers = new HashMap<>();
    /** The last version given to a ledger; guarded by {@code this}. */
    private long ledgerVersion;

    public InMemoryAdapter(LocalNamespace namespace) {
        this.namespace = namespace;
    }

    @Override
    public void addAll(String socketId, Set<String> newRooms) {
        socketRooms.compute(socketId, (id, current) -> with(current, newRooms));
        for (String room : newRooms) {
            rooms.compute(room, (name, members) -> withMember(members, socketId));
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

    private static Set<String> withMember(Set<String> members, String socketId) {
        if (members == null || members.size() < SMALL_ROOM) {
            return with(members, Set.of(socketId));
        }
        if (!(members instanceof ConcurrentHashMap.KeySetView<?, ?>)) {
            Set<String> concurrent = ConcurrentHashMap.newKeySet();
            concurrent.addAll(members);
            members = concurrent;
        }
        members.add(socketId);
        return members;
    }

    @Override
    public void del(String socketId, String room) {
        socketRooms.computeIfPresent(socketId, (id, set) -> without(set, room));
        removeMember(room, socketId);
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
            Set<String> left = members;
            if (members instanceof ConcurrentHashMap.KeySetView<?, ?>) {
                members.remove(socketId);
            } else {
                left = without(members, socketId);
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
        forEachMatch(new BroadcastOptions(inRooms, Set.of(), false), ids::add);
        return ids;
    }

    @Override
    public CompletableFuture<Set<String>> rooms() {
        return CompletableFuture.completedFuture(Set.copyOf(rooms.keySet()));
    }

    @Override
    public void broadcast(Frame frame, BroadcastOptions options) {
        forEachMatch(options, id -> namespace.deliver(id, frame, options.droppable()));
    }

    @Override
    public void broadcastWithAck(Frame frame, BroadcastOptions options, AckCollector collector) {
        int[] reached = {0};
        forEachMatch(options, id -> {
            if (namespace.deliverWithAck(id, frame, collector)) {
                reached[0]++;
            }
        });
        collector.expect(reached[0]);
    }

    @Override
    public CompletableFuture<List<RemoteSocket>> fetchSockets(BroadcastOptions options) {
        List<RemoteSocket> found = new ArrayList<>();
        forEachMatch(options, id -> {
            RemoteSocket socket = namespace.socket(id);
            if (socket != null) {
                found.add(socket);
            }
        });
        return CompletableFuture.completedFuture(found);
    }

    @Override
    public CompletableFuture<Void> addSockets(BroadcastOptions options, Set<String> newRooms) {
        for (String id : matching(options)) {
            addAll(id, newRooms);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> delSockets(BroadcastOptions options, Set<String> oldRooms) {
        for (String id : matching(options)) {
            for (String room : oldRooms) {
                del(id, room);
            }
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
        forEachMatch(options, ids::add);
        return ids;
    }

    private void forEachMatch(BroadcastOptions options, Consumer<String> action) {
        Set<String> excluded = excludedIds(options.except());
        if (options.rooms().isEmpty()) {
            for (String id : socketRooms.keySet()) {
                if (!excluded.contains(id)) {
                    action.accept(id);
                }
            }
            return;
        }
        Set<String> seen = options.rooms().size() > 1 ? new HashSet<>() : null;
        for (String room : options.rooms()) {
            Set<String> members = rooms.get(room);
            if (members == null) {
                continue;
            }
            for (String id : members) {
                if (!excluded.contains(id) && (seen == null || seen.add(id))) {
                    action.accept(id);
                }
            }
        }
    }

    private Set<String> excludedIds(Set<String> exceptRooms) {
        if (exceptRooms.isEmpty()) {
            return Set.of();
        }
        Set<String> ids = new HashSet<>();
        for (String room : exceptRooms) {
            Set<String> members = rooms.get(room);
            if (members != null) {
                ids.addAll(members);
            }
        }
        return ids;
    }
}
