package dev.switchboard.server;

import dev.switchboard.adapter.Adapter;
import dev.switchboard.adapter.BroadcastOptions;
import dev.switchboard.adapter.RoomLedger;
import dev.switchboard.api.PresenceChange;
import dev.switchboard.api.PresenceEvents;
import dev.switchboard.api.PresenceList;
import dev.switchboard.api.PresentUser;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.RawJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Keeps the presence of a namespace's tracked rooms in its adapter's {@link RoomLedger}s and tells
 * the rooms what changed ({@link Namespace#trackPresence}). Each node writes the entries of its own
 * sockets, connected or waiting for their client; the node that learns of a node's death turns
 * the dead node's connected sockets into waiting ones, then removes them when their window ends. A room is brought up to date
 * by comparing its ledger with what this node knows now, and committing the difference with the
 * diffs and lists that tell it, only if nobody changed the room meanwhile (else it starts again):
 * so every member on every node hears each change once, in one order, whichever node made it.
 *
 * <p>Threads: the hooks only mark rooms; one worker thread at a time brings them up to date, and
 * waits there for the adapter (Redis, on a cluster). {@code dirty}, {@code working} and
 * {@code lostNodes} are guarded by {@code this}; {@code userInfo} is concurrent; {@code expiredElsewhere}
 * is touched by the worker only.
 */
final class PresenceKeeper {
    private static final System.Logger LOG = System.getLogger(PresenceKeeper.class.getName());
    /** Where a socket's info lives: its data, so that it outlives a drop and travels with the socket. */
    static final String INFO_KEY = "presence.info";
    /** More tries than concurrent writers of one room would ever need, short of a bug. */
    private static final int MAX_TRIES = 100;
    /** How long a room whose update failed waits before the next try. */
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final Namespace namespace;
    private final Adapter adapter;
    private final Predicate<String> tracked;
    /** Info set per user, which wins over the sockets' own, in the rooms it enters through this node. */
    private final Map<String, Map<String, Object>> userInfo = new ConcurrentHashMap<>();
    /**
     * The rooms of this node's sessions waiting for their client, which their expiry no longer
     * knows; those that ended otherwise (recovered elsewhere) are forgotten once the worker is idle.
     */
    private final Map<String, Set<String>> waitingIn = new ConcurrentHashMap<>();
    /**
     * Sessions of other nodes whose expiry was told here, each until when its entries could still
     * wait in the ledger. When such a node lives on (this node claimed the session and could not
     * recover it, and that node let it go without a word) nobody else removes them. The worker's.
     */
    private final Map<String, Long> expiredElsewhere = new HashMap<>();
    /** Rooms to bring up to date, each with whether this node's sockets there all get the list again. */
    private final Map<String, Boolean> dirty = new LinkedHashMap<>();
    /** Whether the worker is on its way through {@code dirty}. */
    private boolean working;
    /** Nodes the cluster counted dead whose sockets' window may not have ended yet. */
    private final Set<String> lostNodes = new HashSet<>();
    /** One thread at a time, gone when idle. */
    private final ExecutorService worker = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "switchboard-presence");
                thread.setDaemon(true);
                return thread;
            });

    PresenceKeeper(Namespace namespace, Predicate<String> tracked) {
        this.namespace = namespace;
        this.adapter = namespace.adapter();
        this.tracked = tracked;
        namespace.onRoomsChanged(rooms -> mark(rooms, false));
        namespace.onConnection(socket -> {
            mark(socket.rooms(), false);
            waitingIn.remove(socket.id());
            // Its rooms are gone by the time it ended: keep them from before.
            socket.onDisconnecting(reason -> {
                Set<String> rooms = Set.copyOf(socket.rooms());
                socket.onDisconnect(ended -> {
                    if (namespace.detachedSessions().containsKey(socket.id())) {
                        waitingIn.put(socket.id(), rooms);
                    }
                    mark(rooms, false);
                });
            });
        });
        namespace.onSessionExpired(session -> {
            Set<String> rooms = waitingIn.remove(session.id());
            if (rooms != null) {
                mark(rooms, false);
            } else {
                // Another node's (it died, or a recovery claimed it here and failed), or forgotten: look everywhere.
                long until = namespace.switchboard().options().clock().millis()
                        + namespace.switchboard().options().recoveryWindow().toMillis();
                worker.execute(() -> {
                    expiredElsewhere.put(session.id(), until);
                    mark(adapter.ledgerRooms().join(), false);
                });
            }
        });
        adapter.onNodeLost(this::nodeLost);
        adapter.onReset(() -> mark(localRooms(), true));
    }

    boolean tracks(String room) {
        return tracked.test(room);
    }

    void socketInfo(Socket socket, Map<String, ?> info) {
        socket.data().put(INFO_KEY, checked(info));
        mark(socket.rooms(), false);
    }

    /** A connected socket now belongs to another user: its rooms list it under the new one. */
    void userChanged(Socket socket) {
        mark(socket.rooms(), false);
    }

    void userInfo(String userId, Map<String, ?> info) {
        if (info == null) {
            userInfo.remove(userId);
        } else {
            userInfo.put(userId, checked(info));
        }
        worker.execute(() -> mark(roomsOf(userId), false));
    }

    /** The info as it reads back from JSON, so that it compares equal with what the ledger holds. */
    private static Map<String, Object> checked(Map<String, ?> info) {
        RawJson json = JsonMapper.toRaw(info);
        if (json.text().length() > PresenceEvents.MAX_INFO_CHARS) {
            throw new IllegalArgumentException("presence info takes " + json.text().length()
                    + " characters as JSON, at most " + PresenceEvents.MAX_INFO_CHARS);
        }
        return Map.copyOf(JsonMapper.<Map<String, Object>>fromJson(json, Map.class));
    }

    private Set<String> roomsOf(String userId) {
        Set<String> rooms = new HashSet<>();
        for (String room : adapter.ledgerRooms().join()) {
            if (adapter.ledger(room).join().users().containsKey(userId)) {
                rooms.add(room);
            }
        }
        return rooms;
    }

    /** The rooms of this node's sockets, connected or waiting. */
    private Set<String> localRooms() {
        Set<String> rooms = new HashSet<>();
        namespace.sockets().values().forEach(socket -> rooms.addAll(socket.rooms()));
        namespace.detachedSessions().values().forEach(session -> rooms.addAll(session.rooms()));
        return rooms;
    }

    /**
     * A dead node's connected sockets wait now; once their window ended, whoever looks first
     * removes them (the window is the same on every node).
     */
    private void nodeLost(String node) {
        synchronized (this) {
            lostNodes.add(node);
        }
        worker.execute(() -> mark(adapter.ledgerRooms().join(), false));
        Duration window = namespace.switchboard().options().recoveryWindow();
        namespace.switchboard().later(() -> worker.execute(() -> {
            mark(adapter.ledgerRooms().join(), false);
            synchronized (this) {
                lostNodes.remove(node);
            }
        }), window.plusSeconds(1));
    }

    private void mark(Collection<String> rooms, boolean relist) {
        boolean start = false;
        synchronized (this) {
            for (String room : rooms) {
                if (tracked.test(room)) {
                    dirty.merge(room, relist, Boolean::logicalOr);
                }
            }
            if (!dirty.isEmpty() && !working) {
                working = true;
                start = true;
            }
        }
        if (start) {
            worker.execute(this::work);
        }
    }

    private void work() {
        while (true) {
            Map.Entry<String, Boolean> next;
            synchronized (this) {
                Iterator<Map.Entry<String, Boolean>> rooms = dirty.entrySet().iterator();
                if (!rooms.hasNext()) {
                    working = false;
                    waitingIn.keySet().retainAll(namespace.detachedSessions().keySet());
                    long now = namespace.switchboard().options().clock().millis();
                    expiredElsewhere.values().removeIf(until -> until <= now);
                    return;
                }
                next = rooms.next();
                rooms.remove();
            }
            try {
                settle(next.getKey(), next.getValue());
            } catch (RuntimeException e) {
                // Redis frozen or away, most likely: nothing else would mark the room again, and
                // the change would never be told. Tried again until Redis answers.
                Switchboard switchboard = namespace.switchboard();
                switchboard.warnings().warn(LOG, "presence of a room of " + namespace.name()
                        + " not brought up to date; trying again", next.getKey(), e);
                String room = next.getKey();
                boolean relist = next.getValue();
                if (!switchboard.closing()) {
                    switchboard.later(() -> mark(Set.of(room), relist), RETRY);
                }
            }
        }
    }

    /** Commits what changed in {@code room}, as one step with the events that tell it; again if the room moved. */
    private void settle(String room, boolean relist) {
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            RoomLedger before = adapter.ledger(room).join();
            Update update = update(room, before, relist);
            if (update.changes().isEmpty() && update.emits().isEmpty()) {
                return;
            }
            if (adapter.commit(room, before.version(), update.changes(), update.emits()).join()) {
                return;
            }
        }
        throw new IllegalStateException("room " + room + " kept changing under " + MAX_TRIES + " tries");
    }

    private record Update(Map<String, RoomLedger.UserEntry> changes, List<RoomLedger.Emit> emits) {
    }

    private Update update(String room, RoomLedger before, boolean relist) {
        String me = adapter.nodeId();
        long now = namespace.switchboard().options().clock().millis();
        Map<String, Map<String, RoomLedger.SocketEntry>> sockets = new TreeMap<>();
        Map<String, String> ownerOf = new HashMap<>();
        Set<String> known = new HashSet<>();
        before.users().forEach((userId, entry) -> entry.sockets().forEach((id, socket) -> {
            known.add(id);
            if (keeps(socket, me, now) && !letGoByItsNode(id, socket)) {
                sockets.computeIfAbsent(userId, key -> new TreeMap<>()).put(id, lost(socket, now));
                ownerOf.put(id, userId);
            }
        }));
        Set<String> elsewhere = Set.copyOf(ownerOf.keySet());
        Set<String> newcomers = new HashSet<>();
        for (String id : adapter.sockets(Set.of(room))) {
            Socket socket = namespace.sockets().get(id);
            if (socket != null && socket.userId() != null) {
                if (!known.contains(id) || relist) {
                    newcomers.add(id);
                }
                put(sockets, ownerOf, socket, new RoomLedger.SocketEntry(me, 0, infoOf(socket)));
            }
        }
        for (DetachedSession session : namespace.detachedSessions().values()) {
            // A session another node took over is that node's now; one past its window is gone.
            if (session.userId() != null && session.rooms().contains(room) && !elsewhere.contains(session.id())
                    && !namespace.sockets().containsKey(session.id()) && session.expiresAt().toEpochMilli() > now) {
                put(sockets, ownerOf, session,
                        new RoomLedger.SocketEntry(me, session.expiresAt().toEpochMilli(), infoOf(session)));
            }
        }
        Map<String, RoomLedger.UserEntry> after = new TreeMap<>();
        sockets.forEach((userId, mine) -> {
            if (!mine.isEmpty()) {
                RoomLedger.UserEntry was = before.users().get(userId);
                Map<String, Object> own = userInfo.getOrDefault(userId, was == null ? Map.of() : was.info());
                after.put(userId, new RoomLedger.UserEntry(own, mine));
            }
        });
        Map<String, RoomLedger.UserEntry> changes = new HashMap<>();
        Set<String> users = new HashSet<>(before.users().keySet());
        users.addAll(after.keySet());
        for (String userId : users) {
            if (!Objects.equals(before.users().get(userId), after.get(userId))) {
                changes.put(userId, after.get(userId));
            }
        }
        return new Update(changes, emits(room, before, after, newcomers));
    }

    /**
     * Whether an entry stays as it is before this node's own sockets are put back: not if it is
     * this node's (they are put back from what the node knows), nor waiting past its window.
     */
    private static boolean keeps(RoomLedger.SocketEntry socket, String me, long now) {
        return !me.equals(socket.node()) && !(socket.waiting() && socket.waitingUntil() <= now);
    }

    /**
     * Whether an entry is of a session whose end was told here while the node that wrote it lives
     * on: that node let the session go without a word. (A dead node's entries wait out their
     * window, as {@link #lost} has them.)
     */
    private boolean letGoByItsNode(String id, RoomLedger.SocketEntry socket) {
        if (!expiredElsewhere.containsKey(id)) {
            return false;
        }
        synchronized (this) {
            return !lostNodes.contains(socket.node());
        }
    }

    /**
     * A dead node's connected socket waits for its client from now on, for one recovery window.
     * Not once that node beats again: it was cut off, fenced itself, and what it writes since
     * (its clients back there) is true.
     */
    private RoomLedger.SocketEntry lost(RoomLedger.SocketEntry socket, long now) {
        synchronized (this) {
            if (socket.waiting() || !lostNodes.contains(socket.node())) {
                return socket;
            }
        }
        if (adapter.alive(socket.node())) {
            return socket;
        }
        Duration window = namespace.switchboard().options().recoveryWindow();
        return new RoomLedger.SocketEntry(socket.node(), now + Math.max(1, window.toMillis()), socket.info());
    }

    /** Puts a socket of this node under its user, wherever the ledger had it. */
    private static void put(Map<String, Map<String, RoomLedger.SocketEntry>> sockets, Map<String, String> ownerOf,
                            RemoteSocket socket, RoomLedger.SocketEntry entry) {
        String owner = ownerOf.put(socket.id(), socket.userId());
        if (owner != null) {
            sockets.get(owner).remove(socket.id());
        }
        sockets.computeIfAbsent(socket.userId(), key -> new TreeMap<>()).put(socket.id(), entry);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> infoOf(RemoteSocket socket) {
        return socket.data().get(INFO_KEY) instanceof Map<?, ?> info ? (Map<String, Object>) info : Map.of();
    }

    /** The diffs, to the room but its newcomers, then the list, to the newcomers. */
    private List<RoomLedger.Emit> emits(String room, RoomLedger before, Map<String, RoomLedger.UserEntry> after,
                                        Set<String> newcomers) {
        List<RoomLedger.Emit> emits = new ArrayList<>();
        BroadcastOptions toOthers = new BroadcastOptions(Set.of(room), newcomers, false);
        Set<String> users = new HashSet<>(before.users().keySet());
        users.addAll(after.keySet());
        for (String userId : users.stream().sorted().toList()) {
            RoomLedger.UserEntry was = before.users().get(userId);
            RoomLedger.UserEntry is = after.get(userId);
            PresentUser old = was == null ? null : was.present(userId);
            PresentUser now = is == null ? null : is.present(userId);
            for (String event : diffs(old, now)) {
                emits.add(new RoomLedger.Emit(namespace.encodeEvent(event,
                        new Object[] {new PresenceChange(room, now != null ? now : old)}, 0), toOthers));
            }
        }
        if (!newcomers.isEmpty()) {
            List<PresentUser> list = after.entrySet().stream().map(user -> user.getValue().present(user.getKey())).toList();
            emits.add(new RoomLedger.Emit(namespace.encodeEvent(PresenceEvents.LIST,
                    new Object[] {new PresenceList(room, list)}, 0), new BroadcastOptions(newcomers, Set.of(), false)));
        }
        return emits;
    }

    private static List<String> diffs(PresentUser old, PresentUser now) {
        if (old == null) {
            return now == null ? List.of() : List.of(PresenceEvents.JOIN);
        }
        if (now == null) {
            return List.of(PresenceEvents.LEAVE);
        }
        List<String> events = new ArrayList<>();
        if (!old.info().equals(now.info())) {
            events.add(PresenceEvents.UPDATE);
        }
        if (old.away() != now.away()) {
            events.add(now.away() ? PresenceEvents.AWAY : PresenceEvents.BACK);
        }
        return events;
    }
}
