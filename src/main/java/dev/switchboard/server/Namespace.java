package dev.switchboard.server;

import dev.switchboard.adapter.AckCollector;
import dev.switchboard.adapter.Adapter;
import dev.switchboard.adapter.LocalNamespace;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.server.Connection.Refusal;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
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
    private static final System.Logger LOG = System.getLogger(Namespace.class.getName());
    private static final String USER_ROOM_PREFIX = "user:";

    private final String name;
    private final Switchboard switchboard;
    private final Adapter adapter;
    /** The sockets connected to this node; rooms live in the adapter. */
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
    /**
     * The same sockets by private id, so that a client back over a new connection before the
     * heartbeat has noticed its old one die (a phone that switched networks) takes its session over.
     */
    private final Map<String, Socket> byPid = new ConcurrentHashMap<>();
    /** Sessions whose client dropped, by socket id; they keep their rooms and log what they miss. */
    private final Map<String, DetachedSession> detached = new ConcurrentHashMap<>();
    private final List<Middleware> middlewares = new CopyOnWriteArrayList<>();
    private final List<Consumer<Socket>> connectionListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<DetachedSession>> expiryListeners = new CopyOnWriteArrayList<>();

    Namespace(String name, Switchboard switchboard) {
        this.name = name;
        this.switchboard = switchboard;
        this.adapter = switchboard.options().adapter().create(new Local());
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

    /** The adapter that owns this namespace's rooms. */
    public Adapter adapter() {
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
     * tell the others that it really left.
     */
    public Namespace onSessionExpired(Consumer<DetachedSession> listener) {
        expiryListeners.add(listener);
        return this;
    }

    /** Sessions waiting for their client to come back, by socket id (a read-only view). */
    public Map<String, DetachedSession> detachedSessions() {
        return Collections.unmodifiableMap(detached);
    }

    /** The sockets connected to this node, by id (a read-only view). */
    public Map<String, Socket> sockets() {
        return Collections.unmodifiableMap(sockets);
    }

    /** The rooms that have members, sockets' own rooms and users' rooms included. */
    public Set<String> rooms() {
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
    public List<RemoteSocket> fetchSockets() {
        return operator().fetchSockets();
    }

    /** Puts every socket in rooms. */
    public void socketsJoin(String... rooms) {
        operator().socketsJoin(rooms);
    }

    /** Takes every socket out of rooms. */
    public void socketsLeave(String... rooms) {
        operator().socketsLeave(rooms);
    }

    /** Disconnects every socket. */
    public void disconnectSockets(boolean close) {
        operator().disconnectSockets(close);
    }

    // ---- inside the server ----

    Frame encodeEvent(String event, Object[] args, long ackId) {
        Packet packet = Packet.event(name, event, JsonMapper.toRawList(args), ackId)
                .withOffset(switchboard.nextOffset());
        return Frame.encode(switchboard.codec(), packet);
    }

    /**
     * A volatile event is never logged, so it carries no offset: a client that reported one on
     * reconnection would name an event the log does not know, and could not be recovered.
     */
    Frame encodeVolatileEvent(String event, Object[] args) {
        return Frame.encode(switchboard.codec(), Packet.event(name, event, JsonMapper.toRawList(args), 0));
    }

    void emitTo(Socket socket, String event, Object[] args) {
        route(socket.id(), encodeEvent(event, args, 0), false);
    }

    /**
     * Delivers to whatever holds a socket id now: the connected socket, or its session while the
     * client is away. Both decide under the log lock that hands one over to the other, so a holder
     * that refuses has already registered its successor, and the next lookup finds it.
     */
    void route(String socketId, Frame frame, boolean droppable) {
        for (int attempt = 0; attempt < 4; attempt++) {
            Socket socket = sockets.get(socketId);
            if (socket != null && socket.deliver(frame, droppable)) {
                return;
            }
            DetachedSession session = detached.get(socketId);
            if (session != null && !droppable && frame.packet().offset() != null && session.append(frame)) {
                return;
            }
            if (socket == null && session == null) {
                return;
            }
        }
    }

    /**
     * The session a returning client may take over, or null. A session that cannot give the
     * client everything it missed since {@code offset} ends here, so that the client starts
     * afresh with a new id rather than inherit part of the old session.
     */
    DetachedSession recoverable(DetachedSession session, String offset) {
        if (session == null) {
            return null;
        }
        if (!session.recoverableFrom(offset)) {
            expire(session);
            return null;
        }
        return session;
    }

    /**
     * Makes the socket for a namespace connect and runs middleware on it. With a session the
     * client may recover, the socket takes over its id, user and data.
     */
    Socket admit(Connection connection, Handshake handshake, DetachedSession session) throws Refusal {
        Socket socket = new Socket(this, connection, handshake, session);
        if (session != null && !switchboard.options().recoveryRunsMiddleware()) {
            return socket;
        }
        for (Middleware middleware : middlewares) {
            try {
                middleware.check(socket);
            } catch (ConnectionRejectedException e) {
                refused(socket, session);
                throw new Refusal(e.getMessage(), e.data());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "middleware of " + name + " failed", e);
                refused(socket, session);
                throw new Refusal("server error", null);
            }
        }
        return socket;
    }

    /** Rooms a refused new socket joined in middleware go with it; a session's rooms go when it ends. */
    private void refused(Socket socket, DetachedSession session) {
        if (session == null) {
            adapter.delAll(socket.id());
        }
    }

    /**
     * Connects an admitted socket: its rooms, the connect answer, the replay of what it missed
     * when it recovers a session, then the application's listeners.
     *
     * @return false, with nothing connected, when the session could no longer be recovered
     */
    boolean open(Socket socket, DetachedSession session, String offset) {
        if (session != null) {
            if (!resume(socket, session, offset)) {
                // Rooms that middleware joined under the session's id after it ended go with it.
                if (!sockets.containsKey(session.id())) {
                    adapter.delAll(session.id());
                }
                return false;
            }
        } else {
            sockets.put(socket.id(), socket);
            byPid.put(socket.pid(), socket);
            adapter.addAll(socket.id(), socket.userId() == null ? Set.of(socket.id())
                    : Set.of(socket.id(), userRoom(socket.userId())));
            socket.markConnected(false);
            sendConnect(socket, false);
        }
        for (Consumer<Socket> listener : connectionListeners) {
            try {
                listener.accept(socket);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "connection listener of " + name + " failed", e);
            }
        }
        return true;
    }

    /** Hands a session to its returning client and replays what it missed, before anything new. */
    private boolean resume(Socket socket, DetachedSession session, String offset) {
        List<Frame> missed;
        synchronized (session.log()) {
            if (!session.claimForRecovery()) {
                return false;
            }
            missed = session.log().after(offset);
            if (missed != null) {
                session.log().confirm(offset);
                detached.remove(socket.id(), session);
                moveUserRoom(socket.id(), session.userId(), socket.userId());
                sockets.put(socket.id(), socket);
                byPid.put(socket.pid(), socket);
                socket.markConnected(true);
                sendConnect(socket, true);
                for (Frame frame : missed) {
                    socket.connection().replay(frame);
                }
            }
        }
        if (missed == null) {
            ended(session);
            return false;
        }
        switchboard.metrics().recoveries.increment();
        return true;
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

    private void sendConnect(Socket socket, boolean recovered) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("id", JsonMapper.toRaw(socket.id()));
        fields.put("pid", JsonMapper.toRaw(socket.pid()));
        fields.put("recovered", JsonMapper.toRaw(recovered));
        socket.sendDirect(Packet.of(PacketType.CONNECT, name, fields));
    }

    /** Keeps a dropped socket's session for the window. Called under the socket's log lock. */
    void detach(Socket socket) {
        SwitchboardOptions options = switchboard.options();
        DetachedSession session = new DetachedSession(socket, socket.log(),
                options.clock().instant().plus(options.recoveryWindow()));
        detached.put(socket.id(), session);
        options.sessionStore().put(session);
        session.expiry(switchboard.later(() -> expire(session), options.recoveryWindow()));
    }

    /** Ends a session's wait: its window ran out, or it overflowed, or its client came back too late. */
    void expire(DetachedSession session) {
        if (session.claimForExpiry()) {
            ended(session);
        }
    }

    /** Frees a session that will not be recovered and tells the application. */
    private void ended(DetachedSession session) {
        detached.remove(session.id(), session);
        switchboard.options().sessionStore().remove(session);
        if (!sockets.containsKey(session.id())) {
            adapter.delAll(session.id());
        }
        for (Consumer<DetachedSession> listener : expiryListeners) {
            try {
                listener.accept(session);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "session expiry listener of " + name + " failed", e);
            }
        }
    }

    /** Forgets a disconnected socket; {@code leaveRooms} is false while its session waits. */
    void removeSocket(Socket socket, boolean leaveRooms) {
        if (leaveRooms) {
            adapter.delAll(socket.id());
        }
        sockets.remove(socket.id(), socket);
        byPid.remove(socket.pid(), socket);
    }

    /**
     * A client presents the private id of a socket still connected here over another connection:
     * that connection is dead, though the heartbeat has not said so yet. Ending it now puts the
     * session where the returning client recovers it.
     */
    void releaseStale(String pid, Connection claimant) {
        Socket stale = pid == null ? null : byPid.get(pid);
        if (stale != null && stale.connection() != claimant) {
            stale.connection().terminate(DisconnectReason.TRANSPORT_CLOSE);
            // Another thread may be ending that connection and not have reached this socket yet:
            // its session must be stored before the claimant looks for it.
            stale.end(DisconnectReason.TRANSPORT_CLOSE);
        }
    }

    void broadcast(Frame frame, dev.switchboard.adapter.BroadcastOptions options) {
        adapter.broadcast(frame, options);
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
        public boolean deliverWithAck(String socketId, Frame frame, AckCollector collector) {
            Socket socket = sockets.get(socketId);
            if (socket == null || !socket.deliverWithAck(frame, collector)) {
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
        public void disconnect(String socketId, boolean close) {
            Socket socket = sockets.get(socketId);
            if (socket != null) {
                socket.disconnect(close);
            }
        }
    }
}
