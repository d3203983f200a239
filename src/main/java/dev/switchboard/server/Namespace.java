package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.adapter.AckCollector;
import dev.switchboard.adapter.Adapter;
import dev.switchboard.adapter.BroadcastOptions;
import dev.switchboard.adapter.LocalNamespace;
import dev.switchboard.protocol.ConnectAnswer;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.Payload;
import dev.switchboard.server.Connection.Refusal;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A named channel of sockets with its own middleware, connection listeners and rooms. Clients
 * open sockets on several namespaces over one connection; namespaces never see each other's
 * sockets or rooms.
 *
 * <pre>{@code
 * Namespace chat = server.of("/chat");
 * chat.use(socket -> socket.userId(authenticate(socket.handshake())));
 * chat.onConnection(socket -> socket.join("lobby"));
 * chat.to("lobby").emit("notice", "maintenance at noon");
 * }</pre>
 */
public final class Namespace {
    private static final String USER_ROOM_PREFIX = "user:";

    private final String name;
    private final Switchboard switchboard;
    private final Adapter adapter;
    /** The sockets connected to this node; rooms live in the adapter. */
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
    /** The sessions of clients that dropped, and everything else recovery needs. */
    private final Recovery recovery = new Recovery(this);
    private final List<Middleware> middlewares = new CopyOnWriteArrayList<>();
    private final List<Consumer<Socket>> connectionListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<Set<String>>> roomListeners = new CopyOnWriteArrayList<>();
    /** Set once by {@link #trackPresence}; {@code null} until then. */
    private volatile PresenceKeeper presence;

    Namespace(String name, Switchboard switchboard) {
        this.name = name;
        this.switchboard = switchboard;
        this.adapter = switchboard.options().adapter().create(new Local());
        adapter.onReset(() -> switchboard.later(recovery::storeLost, Duration.ZERO));
    }

    /** The room holding every socket of a user. */
    public static String userRoom(String userId) {
        return USER_ROOM_PREFIX + userId;
    }

    /** The name, e.g. {@code "/chat"}. */
    public String name() {
        return name;
    }

    /** The server it belongs to. */
    public Switchboard switchboard() {
        return switchboard;
    }

    /** The adapter that owns this namespace's rooms; applications use the operators ({@link #in}, {@link #rooms}). */
    Adapter adapter() {
        return adapter;
    }

    /** Adds middleware; it runs for each socket before it connects, in the order added. */
    public Namespace use(Middleware middleware) {
        middlewares.add(middleware);
        return this;
    }

    /** Runs for every socket that connects. */
    public Namespace onConnection(Consumer<Socket> listener) {
        connectionListeners.add(listener);
        return this;
    }

    /**
     * Runs when a dropped client's recovery window ends without it coming back: the moment to
     * tell the others that it really left. Runs on a callback thread when the window runs out.
     */
    public Namespace onSessionExpired(Consumer<DetachedSession> listener) {
        recovery.onExpired(listener);
        return this;
    }

    /**
     * Runs after the application put sockets in rooms or took them out ({@code socket.join},
     * {@code socket.leave}, {@code socketsJoin}, {@code socketsLeave}), with the rooms named, on
     * the thread that did it. Sockets that end show in {@link Socket#onDisconnecting} and
     * {@link #onSessionExpired} instead. For what follows room membership, such as presence.
     *
     * <pre>{@code
     * chat.onRoomsChanged(rooms -> rooms.forEach(room -> log.info("members of " + room + " changed")));
     * }</pre>
     */
    public Namespace onRoomsChanged(Consumer<Set<String>> listener) {
        roomListeners.add(listener);
        return this;
    }

    /**
     * Tracks who is in the rooms {@code rooms} accepts, each user once however many tabs or
     * devices it has, on every node of a cluster. A socket that enters such a room gets
     * {@code presence:list} ({@link dev.switchboard.api.PresenceList}) once, then only diffs
     * ({@link dev.switchboard.api.PresenceChange}): {@code presence:join} at a user's first socket,
     * {@code presence:leave} when its last one left for good (a dropped client's after its recovery
     * window), {@code presence:away} when its only sockets dropped and wait for recovery,
     * {@code presence:back} when one came back (on any node), {@code presence:update} when its info
     * changed. A user with three tabs who closes one causes no event. Call it once, before clients
     * connect; read the users with {@link #presence}.
     *
     * <pre>{@code
     * chat.trackPresence(room -> room.startsWith("#"));
     * chat.onConnection(socket -> {
     *     socket.presenceInfo(Map.of("color", "teal"));
     *     socket.join("#general");                      // its tab gets the list, the others a join
     * });
     * }</pre>
     *
     * @throws IllegalStateException when presence is tracked already
     */
    public synchronized Namespace trackPresence(java.util.function.Predicate<String> rooms) {
        if (presence != null) {
            throw new IllegalStateException("presence is tracked already in " + name);
        }
        presence = new PresenceKeeper(this, java.util.Objects.requireNonNull(rooms, "rooms"));
        return this;
    }

    /**
     * The users present in any of {@code rooms} (every tracked room when none is named), on every
     * node, each once, sorted by id; away only when away in every one of them. A room whose
     * presence is not tracked has nobody. Same as {@code to(rooms).presence()}.
     *
     * <pre>{@code
     * chat.presence("#general").thenAccept(users -> users.forEach(user -> show(user.userId(), user.away())));
     * }</pre>
     */
    public CompletableFuture<List<dev.switchboard.api.PresentUser>> presence(String... rooms) {
        return to(rooms).presence();
    }

    /**
     * Sets a user's public info, for all its sockets, a small JSON object that wins over theirs
     * ({@link Socket#presenceInfo}); {@code null} goes back to the sockets' own. The rooms the user
     * is in hear {@code presence:update}; so do those it enters later through this node. It is
     * kept, on this node, until set to {@code null}, whether or not the user is connected: set it
     * for users the application knows, and clear it when they leave for good
     * ({@link #onSessionExpired}), or guests named by clients would pile up.
     *
     * <pre>{@code
     * chat.presenceInfo("maciel", Map.of("status", "busy"));
     * }</pre>
     *
     * @throws IllegalArgumentException when the info takes more than
     *         {@link dev.switchboard.api.PresenceEvents#MAX_INFO_CHARS} as JSON
     * @throws IllegalStateException when presence is not tracked ({@link #trackPresence})
     */
    public void presenceInfo(String userId, Map<String, ?> info) {
        keeper().userInfo(userId, info);
    }

    PresenceKeeper keeper() {
        PresenceKeeper keeper = presence;
        if (keeper == null) {
            throw new IllegalStateException("presence is not tracked in " + name + ": call trackPresence first");
        }
        return keeper;
    }

    /** The keeper, or {@code null} when presence is not tracked. */
    PresenceKeeper presenceKeeper() {
        return presence;
    }

    /** Sessions waiting for their client to come back, by socket id (a read-only view). */
    public Map<String, DetachedSession> detachedSessions() {
        return recovery.detachedView();
    }

    /** The sockets connected to this node, by id (a read-only view). */
    public Map<String, Socket> sockets() {
        return Collections.unmodifiableMap(sockets);
    }

    /**
     * The rooms that have members on any node, sockets' own rooms and users' rooms included:
     * {@code chat.rooms().thenAccept(rooms -> ...)}.
     */
    public CompletableFuture<Set<String>> rooms() {
        return adapter.rooms();
    }

    /** Every socket of the namespace. */
    public BroadcastOperator operator() {
        return new BroadcastOperator(this, Set.of(), Set.of(), false, null);
    }

    /** Emits to every socket of the namespace. */
    public void emit(String event, Object... args) {
        operator().emit(event, args);
    }

    /** Sockets in any of these rooms. */
    public BroadcastOperator to(String... rooms) {
        return operator().to(rooms);
    }

    /** Same as {@link #to}. */
    public BroadcastOperator in(String... rooms) {
        return operator().to(rooms);
    }

    /** Everyone but the sockets in these rooms. */
    public BroadcastOperator except(String... rooms) {
        return operator().except(rooms);
    }

    /** Every socket of a user. */
    public BroadcastOperator toUser(String userId) {
        return operator().toUser(userId);
    }

    /** Drops the emit for recipients that are behind. */
    public BroadcastOperator asVolatile() {
        return operator().asVolatile();
    }

    /** Broadcast with acknowledgements collected within {@code timeout}. */
    public BroadcastOperator timeout(Duration timeout) {
        return operator().timeout(timeout);
    }

    /** Every socket of the namespace. */
    public CompletableFuture<List<RemoteSocket>> fetchSockets() {
        return operator().fetchSockets();
    }

    /** Puts every socket in rooms. */
    public CompletableFuture<Void> socketsJoin(String... rooms) {
        return operator().socketsJoin(rooms);
    }

    /** Takes every socket out of rooms. */
    public CompletableFuture<Void> socketsLeave(String... rooms) {
        return operator().socketsLeave(rooms);
    }

    /** Disconnects every socket. */
    public CompletableFuture<Void> disconnectSockets(boolean close) {
        return operator().disconnectSockets(close);
    }

    // ---- inside the server ----

    Recovery recovery() {
        return recovery;
    }

    void roomsChanged(Set<String> rooms) {
        for (Consumer<Set<String>> listener : roomListeners) {
            switchboard.hooks().run(() -> "rooms listener of " + name + " failed", null, null,
                    () -> listener.accept(rooms));
        }
    }

    /** An event frame with the next offset: the name under which recovery logs and replays it. */
    Frame encodeEvent(String event, Object[] args, long ackId) {
        switchboard.metrics().eventsOut.increment();
        Packet packet = Packet.event(name, event, Payload.of(args), ackId)
                .withOffset(switchboard.nextOffset());
        return Frame.encode(switchboard.codec(), packet);
    }

    /**
     * A volatile event frame, without an offset: it is never logged, so an offset of its own
     * would name nothing a returning client could recover from.
     */
    Frame encodeVolatileEvent(String event, Object[] args) {
        switchboard.metrics().eventsOut.increment();
        return Frame.encode(switchboard.codec(), Packet.event(name, event, Payload.of(args), 0));
    }

    /**
     * Through the adapter, as an emit to the socket's own room: on a cluster the event then
     * takes its place in the shared log, so a client that recovers on another node gets it too.
     */
    void emitTo(Socket socket, String event, Object[] args) {
        adapter.broadcast(encodeEvent(event, args, 0),
                new BroadcastOptions(Set.of(socket.id()), Set.of(), false));
    }

    /**
     * Delivers to whatever holds a socket id now: the connected socket, or its session while the
     * client is away. Both decide under the log lock that hands one over to the other (see
     * {@link Recovery}), so a holder that refuses has already registered its successor, and the
     * next lookup finds it.
     */
    Socket route(String socketId, Frame frame, boolean droppable) {
        for (int attempt = 0; attempt < 4; attempt++) {
            Socket socket = sockets.get(socketId);
            if (socket != null && socket.deliver(frame, droppable)) {
                return socket;
            }
            DetachedSession session = recovery.waiting(socketId);
            if (session != null && !droppable && frame.packet().offset() != null && session.append(frame)) {
                return null;
            }
            if (socket == null && session == null) {
                return null;
            }
        }
        return null;
    }

    /**
     * A socket id as the adapter's rooms keep it: delivers to the socket connected under the id
     * without looking the id up. It keeps the id's replay log, which passes from a socket to its
     * session and to the socket that resumes it, and which names the socket connected under the
     * id ({@link ReplayLog#owner}); only when there is none, or it refuses (it is ending), does it
     * route by id as {@link #route} does. So a route never holds on to a socket that ended.
     */
    private final class Route implements LocalNamespace.Recipient {
        private final String id;
        /** Only a hint, read and written by every broadcasting thread: a stale one names nobody or a socket that refuses. */
        private volatile ReplayLog log;

        Route(String id) {
            this.id = id;
            // A socket that joins a room is usually connected already: its first frame need not miss.
            this.log = logOf(sockets.get(id));
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public void deliver(Frame frame, boolean droppable) {
            ReplayLog known = log;
            Socket socket = known == null ? null : known.owner();
            if (socket == null || !socket.deliver(frame, droppable)) {
                log = logOf(route(id, frame, droppable));
            }
        }

        private static ReplayLog logOf(Socket socket) {
            return socket == null ? null : socket.log();
        }
    }

    /**
     * Makes the socket for a namespace connect and runs middleware on it. With a session the
     * client may recover, the socket takes over its id, user and data.
     */
    Socket createSocket(Connection connection, Handshake handshake, DetachedSession session) throws Refusal {
        Socket socket = new Socket(this, connection, handshake, session);
        boolean full = session == null || switchboard.options().recoveryRunsMiddleware();
        for (Middleware middleware : middlewares) {
            Refusal refusal = check(middleware, socket, full);
            if (refusal != null) {
                refused(socket, session);
                throw refusal;
            }
        }
        return socket;
    }

    /**
     * Null when the middleware lets the socket through ({@link Middleware#check}, or only
     * {@link Middleware#checkRecovery} unless {@code full}); its refusal, or "server error" when it failed.
     */
    private Refusal check(Middleware middleware, Socket socket, boolean full) {
        Refusal[] rejected = {null};
        boolean ran = switchboard.hooks().run(() -> "middleware of " + name + " failed", socket.id(), null, () -> {
            try {
                if (full) {
                    middleware.check(socket);
                } else {
                    middleware.checkRecovery(socket);
                }
            } catch (ConnectionRejectedException e) {
                rejected[0] = new Refusal(e.getMessage(), e.data());
            }
        });
        return ran ? rejected[0] : new Refusal("server error", null);
    }

    /**
     * Rooms a refused new socket joined in middleware go with it; a refused client's session ends,
     * and its rooms with it.
     */
    private void refused(Socket socket, DetachedSession session) {
        if (session == null) {
            adapter.delAll(socket.id());
        } else {
            switchboard.metrics().failedRecoveries.increment();
            recovery.expireClaimed(session);
        }
    }

    /**
     * Connects an admitted socket: its rooms, the connect answer, the replay of what it missed
     * when it recovers a session, then the application's listeners. {@code offset} is what the
     * client presented: the last it saw of the session, or of an older one when it starts afresh.
     *
     * @return false, with nothing connected, when the session could no longer be recovered
     */
    boolean open(Socket socket, DetachedSession session, String offset) {
        if (session != null) {
            if (!recovery.resume(socket, session, offset)) {
                switchboard.metrics().failedRecoveries.increment();
                // Rooms that middleware joined under the session's id after it ended go with it.
                if (!sockets.containsKey(session.id())) {
                    adapter.delAll(session.id());
                }
                return false;
            }
        } else {
            synchronized (socket.log()) {
                // A client starting afresh may keep the offset it had of the lost session
                // (socket.io-client does): presented again, it names the start of this one.
                socket.log().heldFromBefore(offset);
            }
            // Read before the socket joins: every event after it reaches the socket.
            socket.since(adapter.position());
            adapter.addAll(socket.id(), socket.userId() == null ? Set.of(socket.id())
                    : Set.of(socket.id(), userRoom(socket.userId())));
            connect(socket, false, List.of());
        }
        for (Consumer<Socket> listener : connectionListeners) {
            switchboard.hooks().run(() -> "connection listener of " + name + " failed", socket.id(), null,
                    () -> listener.accept(socket));
        }
        return true;
    }

    /**
     * What a shared store keeps of a socket or session under {@code id}: everything but its live
     * {@code log}, whose newest offset it names. A session that waits for its client ({@code
     * dropped}) also names what its client may hold in place of an offset: nothing is sent to it
     * any more, so what each such value stands for is settled. A connected socket's would not be.
     */
    SessionRecord record(String id, String pid, String userId, Map<String, Object> data, ReplayLog log,
                         java.time.Instant expiresAt, String since, boolean dropped) {
        String newestOffset;
        Map<String, String> offsetAliases;
        String unnamedThrough;
        synchronized (log) {
            newestOffset = log.newestOffset();
            offsetAliases = dropped ? log.aliasPositions(since) : Map.of();
            unnamedThrough = log.unnamedThrough();
        }
        // The rooms before their history: a change between the two is then in the history, which
        // replays it, rather than in the rooms alone, as if it held for every entry.
        Set<String> rooms = adapter.socketRooms(id);
        return new SessionRecord(name, id, pid, userId, rooms, data, newestOffset, expiresAt, since,
                adapter.roomHistory(id), offsetAliases, unnamedThrough);
    }

    /** Middleware run again on recovery may have named another user (credentials change). */
    void moveUserRoom(String socketId, String before, String after) {
        if (Objects.equals(before, after)) {
            return;
        }
        if (before != null) {
            adapter.del(socketId, userRoom(before));
        }
        if (after != null) {
            adapter.addAll(socketId, Set.of(userRoom(after)));
        }
    }

    /**
     * Registers a socket, sends its connect answer and {@code replay} (a recovered socket's missed
     * events), and only then marks it connected. All under the log lock that logged deliveries
     * take, and before volatile ones see the socket connected (they are dropped until then), so
     * no event reaches the client ahead of its connect answer and its replay. The record is saved
     * first, outside the lock: with a shared store that is a call to Redis, which a broadcast to
     * the socket must not wait for.
     */
    void connect(Socket socket, boolean recovered, List<Frame> replay) {
        recovery.connected(socket);
        synchronized (socket.log()) {
            sockets.put(socket.id(), socket);
            sendConnect(socket, recovered);
            for (Frame frame : replay) {
                socket.connection().replay(frame);
            }
            socket.markConnected(recovered);
        }
    }

    private void sendConnect(Socket socket, boolean recovered) {
        socket.sendDirect(socket.connection().codec().connected(name, new ConnectAnswer(socket.id(), socket.pid(), recovered)));
    }

    /**
     * Forgets a disconnected socket. A socket whose session waits keeps its rooms for the session
     * (unless the session ended meanwhile, see {@link Recovery#releaseRooms}), and its private id
     * until the session's record is saved (see {@link Recovery#keep}).
     */
    void removeSocket(Socket socket, boolean sessionKept) {
        if (!sessionKept) {
            adapter.delAll(socket.id());
            recovery.dropPrivateId(socket);
        }
        sockets.remove(socket.id(), socket);
        if (sessionKept) {
            recovery.releaseRooms(socket.id(), socket.log());
        }
    }

    void broadcast(Frame frame, dev.switchboard.adapter.BroadcastOptions options) {
        adapter.broadcast(frame, options);
    }

    void broadcastLocally(Frame frame, dev.switchboard.adapter.BroadcastOptions options) {
        adapter.broadcastLocally(frame, options);
    }

    CompletableFuture<List<dev.switchboard.protocol.Arguments>> broadcastWithAck(
            String event, Object[] args, dev.switchboard.adapter.BroadcastOptions options, Duration timeout) {
        long ackId = switchboard.nextAckId();
        Frame frame = encodeEvent(event, args, ackId);
        BroadcastAcks collector = new BroadcastAcks(this, ackId, event);
        adapter.broadcastWithAck(frame, options, collector);
        collector.startTimer(timeout);
        return collector.result();
    }

    /** What the adapter may do with this node's sockets. */
    private final class Local implements LocalNamespace {
        @Override
        public String name() {
            return name;
        }

        @Override
        public void deliver(String socketId, Frame frame, boolean droppable) {
            route(socketId, frame, droppable);
        }

        @Override
        public Recipient recipient(String socketId) {
            return new Route(socketId);
        }

        @Override
        public boolean deliverWithAck(String socketId, Frame frame, AckCollector collector) {
            Socket socket = sockets.get(socketId);
            if (socket == null || !socket.deliverWithAck(frame, collector)) {
                // No answer can be awaited (the client is away, ending, or owes as many acks as it
                // may), but the event still reaches it, or its session for the replay, as any emit.
                route(socketId, frame, false);
                return false;
            }
            if (collector instanceof BroadcastAcks acks) {
                acks.recipient(socket);
            }
            return true;
        }

        @Override
        public RemoteSocket socket(String socketId) {
            return sockets.get(socketId);
        }

        @Override
        public Frame encode(Packet packet) {
            return Frame.encode(switchboard.codec(), packet);
        }

        @Override
        public long nextAckId() {
            return switchboard.nextAckId();
        }

        @Override
        public void roomsChanged(Set<String> rooms) {
            Namespace.this.roomsChanged(rooms);
        }

        @Override
        public void sessionTakenOver(String socketId, String pid, java.time.Instant expiresAt) {
            recovery.takenOverElsewhere(socketId, pid, expiresAt);
        }

        @Override
        public void eventsLost() {
            recovery.eventsLost();
        }

        @Override
        public void membershipChanged(String socketId) {
            recovery.roomsChangedFor(socketId);
        }

        @Override
        public void disconnect(String socketId, boolean close) {
            Socket socket = sockets.get(socketId);
            if (socket != null) {
                socket.disconnect(close);
                return;
            }
            // Away, its session waiting: it ends now, or its client would come back to it.
            DetachedSession session = recovery.waiting(socketId);
            if (session != null) {
                recovery.expire(session);
            }
        }

        @Override
        public void abandonAll() {
            for (Socket socket : List.copyOf(sockets.values())) {
                // Recoverable: the clients missed what the others sent while this node could not read the log.
                socket.connection().terminate(DisconnectReason.SERVER_RESTARTING);
            }
        }
    }
}
