package dev.switchboard.adapter;

import dev.switchboard.protocol.Frame;
import dev.switchboard.server.RemoteSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * room is created by its first member and removed atomically with its last.
 */
public final class InMemoryAdapter implements Adapter {
    private final LocalNamespace namespace;
    /** room to socket ids */
    private final Map<String, Set<String>> rooms = new ConcurrentHashMap<>();
    /** socket id to rooms */
    private final Map<String, Set<String>> socketRooms = new ConcurrentHashMap<>();

    public InMemoryAdapter(LocalNamespace namespace) {
        this.namespace = namespace;
    }

    @Override
    public void addAll(String socketId, Set<String> newRooms) {
        socketRooms.compute(socketId, (id, current) -> {
            Set<String> set = current != null ? current : ConcurrentHashMap.newKeySet();
            set.addAll(newRooms);
            return set;
        });
        for (String room : newRooms) {
            rooms.compute(room, (name, members) -> {
                Set<String> set = members != null ? members : ConcurrentHashMap.newKeySet();
                set.add(socketId);
                return set;
            });
        }
    }

    @Override
    public void del(String socketId, String room) {
        socketRooms.computeIfPresent(socketId, (id, set) -> {
            set.remove(room);
            return set;
        });
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
            members.remove(socketId);
            return members.isEmpty() ? null : members;
        });
    }

    @Override
    public Set<String> socketRooms(String socketId) {
        Set<String> set = socketRooms.get(socketId);
        return set == null ? Set.of() : Set.copyOf(set);
    }

    @Override
    public Set<String> sockets(Set<String> inRooms) {
        Set<String> ids = new HashSet<>();
        forEachMatch(new BroadcastOptions(inRooms, Set.of(), false), ids::add);
        return ids;
    }

    @Override
    public Set<String> rooms() {
        return Set.copyOf(rooms.keySet());
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
    public List<RemoteSocket> fetchSockets(BroadcastOptions options) {
        List<RemoteSocket> found = new ArrayList<>();
        forEachMatch(options, id -> {
            RemoteSocket socket = namespace.socket(id);
            if (socket != null) {
                found.add(socket);
            }
        });
        return found;
    }

    @Override
    public void addSockets(BroadcastOptions options, Set<String> newRooms) {
        for (String id : matching(options)) {
            addAll(id, newRooms);
        }
    }

    @Override
    public void delSockets(BroadcastOptions options, Set<String> oldRooms) {
        for (String id : matching(options)) {
            for (String room : oldRooms) {
                del(id, room);
            }
        }
    }

    @Override
    public void disconnectSockets(BroadcastOptions options, boolean close) {
        for (String id : matching(options)) {
            namespace.disconnect(id, close);
        }
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
