package dev.switchboard.presence;

import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.server.DetachedSession;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Who is in a room, each user once however many tabs or devices it has, and the changes pushed to
 * the room's members as diffs. Opt-in per room: only rooms that {@code tracked} accepts get events.
 *
 * <p>A socket that enters a tracked room gets {@code presence:list} ({@link PresenceList}) once,
 * then only diffs ({@link PresenceChange}): {@code presence:join} when a user's first socket
 * enters, {@code presence:leave} when its last one leaves for good (a dropped client's after its
 * recovery window), {@code presence:away} when its only sockets there dropped and wait for
 * recovery, {@code presence:back} when one recovers or connects again, {@code presence:update}
 * when its info changes. A user with three tabs who closes one causes no event.
 *
 * <pre>{@code
 * Presence presence = Presence.install(chat, room -> room.startsWith("#"));
 * chat.onConnection(socket -> {
 *     presence.info(socket, Map.of("color", "teal"));
 *     socket.join("#general");                      // its tab gets the list, the others a join
 * });
 * presence.list("#general").thenAccept(here -> ...);
 * }</pre>
 *
 * <p>Built on the namespace's public hooks only. Every change is turned into diffs by comparing
 * the room's members as the namespace reports them now ({@code in(room).fetchSockets()} and the
 * waiting sessions) with what the room was last told, so concurrent changes settle on the truth.
 * Threads: the hooks' threads, or the adapter's where its queries answer later (a cluster's);
 * the room states are guarded by {@code this}, and the diffs are emitted under it so that they
 * reach everyone in the order they were computed. On one node queueing a broadcast never blocks;
 * on a cluster an emit waits for Redis to take it (at most the publish timeout), and so does
 * this lock.
 */
public final class Presence {
    private static final System.Logger LOG = System.getLogger(Presence.class.getName());
    /** The whole list, to a socket that enters a room. */
    public static final String LIST = "presence:list";
    /** A user's first socket entered. */
    public static final String JOIN = "presence:join";
    /** A user's last socket left for good. */
    public static final String LEAVE = "presence:leave";
    /** A user's only sockets dropped and wait for recovery. */
    public static final String AWAY = "presence:away";
    /** An away user has a connected socket again. */
    public static final String BACK = "presence:back";
    /** A user's info changed. */
    public static final String UPDATE = "presence:update";
    /** The most a user's info may take as JSON, in characters. */
    public static final int MAX_INFO_CHARS = 1024;

    /** Where a socket's info lives: its data, so that it outlives a drop and travels with the socket. */
    private static final String INFO_KEY = "presence.info";

    private final Namespace namespace;
    private final Predicate<String> tracked;
    /** Info set per user, which wins over the sockets' own. */
    private final Map<String, Map<String, Object>> userInfo = new ConcurrentHashMap<>();
    /** What each tracked room with members was last told; guarded by {@code this}. */
    private final Map<String, RoomState> rooms = new HashMap<>();
    /** Numbers the reads of a room's members as they start. */
    private final AtomicLong reads = new AtomicLong();

    /** A room's users as last told, and the sockets (connected or waiting) that have been told. */
    private static final class RoomState {
        Map<String, PresentUser> users = Map.of();
        Set<String> told = Set.of();
        /** When the read last applied started, in the order of {@link #reads}. */
        long readStarted;
    }

    /** A room's members as the namespace reports them now. */
    private record Members(Map<String, PresentUser> users, Set<String> connected, Set<String> waiting) {
    }

    private Presence(Namespace namespace, Predicate<String> tracked) {
        this.namespace = namespace;
        this.tracked = tracked;
    }

    /**
     * Tracks presence in the rooms of {@code namespace} that {@code tracked} accepts.
     *
     * <pre>{@code
     * Presence presence = Presence.install(chat, Set.of("lobby", "support")::contains);
     * }</pre>
     */
    public static Presence install(Namespace namespace, Predicate<String> tracked) {
        Presence presence = new Presence(namespace, Objects.requireNonNull(tracked, "tracked"));
        namespace.onRoomsChanged(presence::refresh);
        namespace.onConnection(socket -> {
            presence.refresh(socket.rooms());
            socket.onDisconnect(reason -> presence.refreshRoomsTold(socket.id()));
        });
        namespace.onSessionExpired(session -> presence.refreshRoomsTold(session.id()));
        return presence;
    }

    /**
     * The users present in any of {@code rooms}, each once, sorted by id; away only when away in
     * every one of them. Read from the namespace now, tracked room or not.
     */
    public CompletableFuture<List<PresentUser>> list(String... rooms) {
        List<CompletableFuture<Members>> queries = new ArrayList<>();
        for (String room : rooms) {
            queries.add(members(room));
        }
        return CompletableFuture.allOf(queries.toArray(CompletableFuture[]::new)).thenApply(done -> {
            Map<String, PresentUser> users = new TreeMap<>();
            for (CompletableFuture<Members> query : queries) {
                query.join().users().forEach((id, user) -> users.merge(id, user,
                        (one, other) -> one.asAway(one.away() && other.away())));
            }
            return List.copyOf(users.values());
        });
    }

    /**
     * Sets a socket's public info, a small JSON object shown with its user (unless the user has
     * info of its own, see {@link #userInfo}); the rooms it is in hear {@code presence:update}.
     *
     * @throws IllegalArgumentException when the info takes more than {@link #MAX_INFO_CHARS} as JSON
     */
    public void info(Socket socket, Map<String, ?> info) {
        socket.data().put(INFO_KEY, checked(info));
        refresh(socket.rooms());
    }

    /**
     * Sets a user's public info, for all its sockets; {@code null} goes back to the sockets' own.
     *
     * @throws IllegalArgumentException when the info takes more than {@link #MAX_INFO_CHARS} as JSON
     */
    public void userInfo(String userId, Map<String, ?> info) {
        if (info == null) {
            userInfo.remove(userId);
        } else {
            userInfo.put(userId, checked(info));
        }
        refresh(roomsWhere(state -> state.users.containsKey(userId)));
    }

    private static Map<String, Object> checked(Map<String, ?> info) {
        int length = JsonMapper.toRaw(info).text().length();
        if (length > MAX_INFO_CHARS) {
            throw new IllegalArgumentException("presence info takes " + length + " characters as JSON, at most "
                    + MAX_INFO_CHARS);
        }
        return Map.copyOf(info);
    }

    /** A socket or session ended: the rooms it had been told about change. */
    private void refreshRoomsTold(String socketId) {
        refresh(roomsWhere(state -> state.told.contains(socketId)));
    }

    private synchronized Set<String> roomsWhere(Predicate<RoomState> test) {
        Set<String> found = new HashSet<>();
        rooms.forEach((room, state) -> {
            if (test.test(state)) {
                found.add(room);
            }
        });
        return found;
    }

    private void refresh(Set<String> changed) {
        for (String room : changed) {
            if (tracked.test(room)) {
                refresh(room);
            }
        }
    }

    private void refresh(String room) {
        // Reads may complete out of order (a cluster's answers come when every node has spoken):
        // a read that started before the last one applied is older news and is dropped.
        long started = reads.incrementAndGet();
        members(room).whenComplete((now, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, "presence of room " + room + " not refreshed", failure);
            } else {
                tell(room, now, started);
            }
        });
    }

    /** Tells a room what changed since it was last told, and its newcomers the whole list. */
    private synchronized void tell(String room, Members now, long started) {
        RoomState state = rooms.computeIfAbsent(room, key -> new RoomState());
        if (started < state.readStarted) {
            return;
        }
        state.readStarted = started;
        Set<String> newcomers = new HashSet<>(now.connected());
        newcomers.removeAll(state.told);
        List<Diff> diffs = diffs(state.users, now.users());
        // Newcomers get the list, which has these changes already; waiting sockets get them logged for replay.
        String[] skipped = newcomers.toArray(String[]::new);
        for (Diff diff : diffs) {
            namespace.to(room).except(skipped).emit(diff.event(), new PresenceChange(room, diff.user()));
        }
        if (!newcomers.isEmpty()) {
            namespace.to(newcomers.toArray(String[]::new))
                    .emit(LIST, new PresenceList(room, List.copyOf(now.users().values())));
        }
        if (now.users().isEmpty() && now.connected().isEmpty() && now.waiting().isEmpty()) {
            rooms.remove(room);
            return;
        }
        state.users = now.users();
        Set<String> told = new HashSet<>(now.connected());
        told.addAll(now.waiting());
        told.retainAll(union(state.told, now.connected()));
        state.told = told;
    }

    private static Set<String> union(Set<String> one, Set<String> other) {
        Set<String> union = new HashSet<>(one);
        union.addAll(other);
        return union;
    }

    private record Diff(String event, PresentUser user) {
    }

    private static List<Diff> diffs(Map<String, PresentUser> before, Map<String, PresentUser> after) {
        List<Diff> diffs = new ArrayList<>();
        before.forEach((id, user) -> {
            if (!after.containsKey(id)) {
                diffs.add(new Diff(LEAVE, user));
            }
        });
        after.forEach((id, user) -> {
            PresentUser was = before.get(id);
            if (was == null) {
                diffs.add(new Diff(JOIN, user));
            } else {
                if (!was.info().equals(user.info())) {
                    diffs.add(new Diff(UPDATE, user));
                }
                if (was.away() != user.away()) {
                    diffs.add(new Diff(user.away() ? AWAY : BACK, user));
                }
            }
        });
        return diffs;
    }

    /**
     * The room's members now: the connected sockets the operators find (every node's, with a
     * cluster adapter) and the sessions waiting here for their clients.
     */
    private CompletableFuture<Members> members(String room) {
        return namespace.in(room).fetchSockets().thenApply(found -> members(room, found));
    }

    private Members members(String room, List<RemoteSocket> found) {
        Map<String, List<RemoteSocket>> byUser = new TreeMap<>();
        Set<String> connected = new HashSet<>();
        Set<String> waiting = new HashSet<>();
        for (RemoteSocket socket : found) {
            connected.add(socket.id());
            if (socket.userId() != null) {
                byUser.computeIfAbsent(socket.userId(), id -> new ArrayList<>()).add(socket);
            }
        }
        for (DetachedSession session : namespace.detachedSessions().values()) {
            if (!connected.contains(session.id()) && session.rooms().contains(room)) {
                waiting.add(session.id());
                if (session.userId() != null) {
                    byUser.computeIfAbsent(session.userId(), id -> new ArrayList<>()).add(session);
                }
            }
        }
        Map<String, PresentUser> users = new LinkedHashMap<>();
        byUser.forEach((userId, sockets) -> {
            boolean away = sockets.stream().allMatch(socket -> waiting.contains(socket.id()));
            users.put(userId, new PresentUser(userId, infoOf(userId, sockets), away));
        });
        return new Members(users, connected, waiting);
    }

    /** The user's own info, else that of its socket with the smallest id that has some. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> infoOf(String userId, List<RemoteSocket> sockets) {
        Map<String, Object> own = userInfo.get(userId);
        if (own != null) {
            return own;
        }
        return sockets.stream()
                .filter(socket -> socket.data().get(INFO_KEY) instanceof Map)
                .min((one, other) -> one.id().compareTo(other.id()))
                .map(socket -> (Map<String, Object>) socket.data().get(INFO_KEY))
                .orElse(Map.of());
    }
}
