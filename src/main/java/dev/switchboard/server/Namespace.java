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
    private final List<Middleware> middlewares = new CopyOnWriteArrayList<>();
    private final List<Consumer<Socket>> connectionListeners = new CopyOnWriteArrayList<>();

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

    /** The sockets connected to this node, by id (a read-only view). */
    public Map<String, Socket> sockets() {
        return Collections.unmodifiableMap(sockets);
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

    void emitTo(Socket socket, String event, Object[] args) {
        socket.deliver(encodeEvent(event, args, 0), false);
    }

    /** Runs middleware on a new socket; a refusal becomes the client's connect_error. */
    Socket admit(Connection connection, Handshake handshake) throws Refusal {
        Socket socket = new Socket(Ids.next(), this, connection, handshake);
        for (Middleware middleware : middlewares) {
            try {
                middleware.check(socket);
            } catch (ConnectionRejectedException e) {
                throw new Refusal(e.getMessage(), e.data());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "middleware of " + name + " failed", e);
                throw new Refusal("server error", null);
            }
        }
        return socket;
    }

    /** Connects an admitted socket: rooms, the connect answer, then the application's listeners. */
    void open(Socket socket) {
        sockets.put(socket.id(), socket);
        adapter.addAll(socket.id(), socket.userId() == null ? Set.of(socket.id())
                : Set.of(socket.id(), userRoom(socket.userId())));
        socket.markConnected();
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("id", JsonMapper.toRaw(socket.id()));
        fields.put("pid", JsonMapper.toRaw(Ids.next()));
        fields.put("recovered", JsonMapper.toRaw(false));
        socket.sendDirect(Packet.of(PacketType.CONNECT, name, fields));
        for (Consumer<Socket> listener : connectionListeners) {
            try {
                listener.accept(socket);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "connection listener of " + name + " failed", e);
            }
        }
    }

    void removeSocket(Socket socket) {
        adapter.delAll(socket.id());
        sockets.remove(socket.id());
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
            Socket socket = sockets.get(socketId);
            if (socket != null) {
                socket.deliver(frame, droppable);
            }
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
