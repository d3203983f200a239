package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.adapter.AckCollector;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Payload;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.RawJson;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One client's presence in one namespace: it receives the client's events, emits to it, joins
 * rooms and reports how it ended.
 *
 * <pre>{@code
 * chat.onConnection(socket -> {
 *     String name = socket.handshake().auth(Login.class).name();
 *     socket.emit("welcome", "Welcome, " + name);
 *     socket.broadcast().emit("joined", name);
 *     socket.on("message", String.class, (text, event) -> socket.to("lobby").emit("message", name, text));
 *     socket.onDisconnect(reason -> chat.emit("left", name, reason.text()));
 * });
 * }</pre>
 *
 * <p>Threads: events are dispatched on the connection's reading thread, one at a time; emits,
 * joins and queries may come from any thread. Disconnect listeners run on the thread that ends
 * the socket (the reading thread, the application's), or on a callback thread when a timer ends
 * it (a ping timeout, a slow consumer); never on the timer thread. Listener lists are copy-on-write.
 */
public final class Socket implements RemoteSocket {
    private static final System.Logger LOG = System.getLogger(Socket.class.getName());

    private enum State { CONNECTING, CONNECTED, DISCONNECTING, DISCONNECTED }

    private final String id;
    /**
     * The private id a client presents to recover this session; changes with each connect answer,
     * unless the client's wire format keeps it across a recovery.
     */
    private final String pid;
    private final Namespace namespace;
    private final Connection connection;
    private final Handshake handshake;
    private final Map<String, Object> data;
    /** Event frames the client may still need; its lock also orders logging with queueing. */
    private final ReplayLog log;
    private final SeenMessages seenMessages;
    /** Written before the socket connects, read after. */
    private volatile boolean recovered;
    /** Set once when the socket ends, before its disconnect listeners run. */
    private volatile DisconnectReason endReason;
    private final AtomicReference<State> state = new AtomicReference<>(State.CONNECTING);
    /** Set once by end() just before it leaves every room for good (no session keeps them). */
    private volatile boolean roomsReleased;
    /** Written by middleware before the socket connects, or by the application later. */
    private volatile String userId;
    private final Map<String, ListenerList<EventListener>> listeners = new ConcurrentHashMap<>();
    private final ListenerList<AnyListener> anyListeners = new ListenerList<>();
    private final ListenerList<AnyListener> anyOutgoingListeners = new ListenerList<>();
    private final ListenerList<Consumer<DisconnectReason>> disconnectingListeners = new ListenerList<>();
    private final ListenerList<Consumer<DisconnectReason>> disconnectListeners = new ListenerList<>();
    private final AckTable acks;
    /**
     * {@link ReplayLog#sentCount} when this connection's last unanswered ping went out, -1 when
     * none did since this socket connected; guarded by the log lock.
     */
    private long pingSentCount = -1;
    /** Whether the last ping went out after this socket's connect answer; guarded by the log lock. */
    private boolean pingAfterAnswer;
    /**
     * The private id the client recovered with, which it still holds if the connect answer naming
     * the new one never reached it; null once a pong shows it read the answer, or when it is the
     * same. Guarded by the log lock.
     */
    private String formerPid;
    /** Where the socket joined the adapter's log; written before it connects, read after. */
    private volatile String since;
    /**
     * The ends of the windows of this socket's records that a shared store may hold, oldest first:
     * a node that claims one names it when it tells the others, while a record of a socket this
     * one replaced under the same ids (a socket.io-client keeps its pid) is never among them.
     * Those before a save the store answered go: that save replaced them, or a claim's mark
     * stopped it, and then the claim's word may come after and miss this socket, which stays
     * until the heartbeat catches its connection. Guarded by itself; any thread saves.
     */
    private final List<Instant> stored = new ArrayList<>();

    /** A new socket; with {@code session}, one that takes over a dropped session's id, user, data and log. */
    Socket(Namespace namespace, Connection connection, Handshake handshake, DetachedSession session) {
        this.namespace = namespace;
        this.connection = connection;
        this.handshake = handshake;
        this.pid = session == null || connection.codec().rotatesPrivateId() ? Ids.next() : session.pid();
        if (session == null) {
            SwitchboardOptions options = namespace.switchboard().options();
            this.id = Ids.next();
            this.data = new ConcurrentHashMap<>();
            this.log = new ReplayLog(options.recoveryMaxEvents(), options.recoveryMaxBytes());
            this.seenMessages = new SeenMessages();
        } else {
            this.id = session.id();
            this.data = session.data();
            this.log = session.log();
            this.seenMessages = session.seenMessages();
            this.userId = session.userId();
            this.since = session.since();
            this.formerPid = pid.equals(session.presentedPid()) ? null : session.presentedPid();
        }
        this.acks = new AckTable(namespace.switchboard(), namespace.name(), id);
    }

    /** The socket id, public and stable; also the name of a room holding only this socket. */
    @Override
    public String id() {
        return id;
    }

    /** The namespace it belongs to. */
    public Namespace namespace() {
        return namespace;
    }

    @Override
    public Handshake handshake() {
        return handshake;
    }

    /**
     * Free-form data the application keeps with the socket (thread-safe map). With a shared
     * session store (a cluster's) it reaches the store with each room or user change and at a
     * drop; after a change to the map alone, {@link #saveData()} saves it at once.
     */
    @Override
    public Map<String, Object> data() {
        return data;
    }

    /**
     * Saves this connected socket's session record, its {@link #data()} as it is now included, in
     * a shared session store: a client that recovers on another node after this one died gets
     * this data back. Nothing to do with the in-memory store, whose records die with the node.
     *
     * <pre>{@code
     * socket.data().put("cart", cart);
     * socket.saveData();
     * }</pre>
     */
    public Socket saveData() {
        if (connected()) {
            namespace.recovery().saveConnected(this);
        }
        return this;
    }

    @Override
    public String userId() {
        return userId;
    }

    /**
     * Sets the user this socket belongs to, usually in middleware. Every socket of a user is in
     * the room {@code "user:" + userId}, which {@link BroadcastOperator#toUser} targets.
     */
    public Socket userId(String newUserId) {
        String previous = userId;
        userId = newUserId;
        if (state.get() == State.CONNECTED) {
            namespace.moveUserRoom(id, previous, newUserId);
            namespace.recovery().saveConnected(this);
            // Its tracked rooms list it under its user: they must hear of the change as well.
            PresenceKeeper keeper = namespace.presenceKeeper();
            if (keeper != null && !Objects.equals(previous, newUserId)) {
                keeper.userChanged(this);
            }
        }
        return this;
    }

    /** Whether the socket is connected. */
    public boolean connected() {
        return state.get() == State.CONNECTED;
    }

    /**
     * Sets this socket's public info in presence, a small JSON object shown with its user (unless
     * the user has info of its own, {@link Namespace#presenceInfo}); it travels with the socket's
     * data, and the tracked rooms it is in hear {@code presence:update}.
     *
     * <pre>{@code
     * socket.presenceInfo(Map.of("avatar", "/a/maciel.png"));
     * }</pre>
     *
     * @throws IllegalArgumentException when the info takes more than
     *         {@link dev.switchboard.api.PresenceEvents#MAX_INFO_CHARS} as JSON
     * @throws IllegalStateException when presence is not tracked ({@link Namespace#trackPresence})
     */
    public Socket presenceInfo(Map<String, ?> info) {
        namespace.keeper().socketInfo(this, info);
        return this;
    }

    /**
     * Whether this socket took over a session its client dropped: same id, rooms, data and user,
     * and the events missed meanwhile were replayed before anything new.
     */
    public boolean recovered() {
        return recovered;
    }

    @Override
    public Set<String> rooms() {
        return namespace.adapter().socketRooms(id);
    }

    /** Joins rooms; a socket that has disconnected joins nothing. */
    public Socket join(String... rooms) {
        if (state.get() == State.DISCONNECTED) {
            return this;
        }
        namespace.adapter().addAll(id, Set.of(rooms));
        if (roomsReleased) {
            // Raced with end(), which had already left every room: leave nothing behind.
            namespace.adapter().delAll(id);
        } else {
            namespace.roomsChanged(Set.of(rooms));
            namespace.recovery().saveConnected(this);
        }
        return this;
    }

    /** Leaves a room; the room vanishes when its last member leaves. */
    public Socket leave(String room) {
        namespace.adapter().del(id, room);
        namespace.roomsChanged(Set.of(room));
        namespace.recovery().saveConnected(this);
        return this;
    }

    /** Listens to an event; several listeners run in the order they were added. */
    public Socket on(String event, EventListener listener) {
        listeners.computeIfAbsent(event, name -> new ListenerList<>()).add(listener);
        return this;
    }

    /** Listens to an event, mapping its first argument to {@code type}. */
    public <T> Socket on(String event, Class<T> type, PayloadListener<T> listener) {
        return on(event, e -> listener.onEvent(e.arg(0, type), e));
    }

    /** Listens to the next occurrence of an event only. */
    public Socket once(String event, EventListener listener) {
        EventListener[] self = new EventListener[1];
        self[0] = e -> {
            off(event, self[0]);
            listener.onEvent(e);
        };
        return on(event, self[0]);
    }

    /** Removes one listener. */
    public Socket off(String event, EventListener listener) {
        ListenerList<EventListener> list = listeners.get(event);
        if (list != null) {
            list.remove(listener);
        }
        return this;
    }

    /** Removes every listener of an event. */
    public Socket off(String event) {
        listeners.remove(event);
        return this;
    }

    /** Sees every incoming event before its listeners do. */
    public Socket onAny(AnyListener listener) {
        anyListeners.add(listener);
        return this;
    }

    /**
     * Sees every event sent to this socket, broadcasts included, on the emitting thread. One that
     * throws is logged and counted; the event is sent all the same, the broadcast goes on.
     */
    public Socket onAnyOutgoing(AnyListener listener) {
        anyOutgoingListeners.add(listener);
        return this;
    }

    /** Runs when the socket is about to disconnect, while {@link #rooms()} still answers. */
    public Socket onDisconnecting(Consumer<DisconnectReason> listener) {
        disconnectingListeners.add(listener);
        return this;
    }

    /**
     * Runs once the socket has disconnected, with the reason; at once if it already has (a
     * connection can drop while the connection listener that adds this is still running).
     */
    public Socket onDisconnect(Consumer<DisconnectReason> listener) {
        disconnectListeners.add(listener);
        DisconnectReason reason = endReason;
        if (reason != null) {
            notifyOnce(disconnectListeners, listener, reason);
        }
        return this;
    }

    /** Emits an event to this socket. */
    public Socket emit(String event, Object... args) {
        namespace.emitTo(this, event, args);
        return this;
    }

    /** Emits with acknowledgements, waiting {@code timeout} for the answer. */
    public Acknowledged timeout(Duration timeout) {
        return new Acknowledged(this, timeout);
    }

    /** Emits an event and waits for the client's answer for the default ack timeout. */
    public CompletableFuture<Arguments> emitWithAck(String event, Object... args) {
        return timeout(namespace.switchboard().options().ackTimeout()).emitWithAck(event, args);
    }

    /** Everyone in the namespace but this socket. */
    public BroadcastOperator broadcast() {
        return namespace.operator().except(id);
    }

    /** Sockets in these rooms, this one excluded. */
    public BroadcastOperator to(String... rooms) {
        return broadcast().to(rooms);
    }

    /** Same as {@link #to}. */
    public BroadcastOperator in(String... rooms) {
        return to(rooms);
    }

    /** Everyone but this socket and these rooms. */
    public BroadcastOperator except(String... rooms) {
        return broadcast().except(rooms);
    }

    /** Every socket of a user, this one excluded. */
    public BroadcastOperator toUser(String user) {
        return broadcast().toUser(user);
    }

    /** Emits to this socket only if it is not behind: dropped rather than queued (Socket.IO's {@code volatile}). */
    public BroadcastOperator asVolatile() {
        return namespace.operator().to(id).asVolatile();
    }

    /** Disconnects this socket from its namespace; the connection stays open for others. */
    public void disconnect() {
        disconnect(false);
    }

    /**
     * Disconnects this socket; with {@code close}, closes the client's whole connection, after
     * telling the client of each of its sockets {@code server disconnect}: it does not reconnect
     * by itself, as after socket.io's {@code disconnect(true)}.
     */
    public void disconnect(boolean close) {
        if (close) {
            connection.kick();
        } else {
            disconnect(DisconnectReason.SERVER_DISCONNECT);
        }
    }

    /**
     * Disconnects this socket, telling its client why; the connection stays open for others.
     *
     * <pre>{@code
     * socket.disconnect(DisconnectReason.TOKEN_EXPIRED);
     * }</pre>
     */
    public void disconnect(DisconnectReason reason) {
        if (connected()) {
            end(reason, codec().disconnect(namespace.name(), reason));
        }
    }

    @Override
    public String toString() {
        return "Socket[" + namespace.name() + " " + id + "]";
    }

    // ---- inside the server ----

    Connection connection() {
        return connection;
    }

    String pid() {
        return pid;
    }

    String since() {
        return since;
    }

    /** See {@link #formerPid}; caller holds the log lock. */
    String formerPid() {
        return formerPid;
    }

    void since(String offset) {
        since = offset;
    }

    /** What a shared store keeps of this socket while it is connected. */
    SessionRecord record(Instant expiresAt) {
        return namespace.record(id, pid, userId, data, log, expiresAt, since, false);
    }

    /** The record that ends at {@code expiresAt} is about to be saved: the store may hold it from now on. */
    void recordSaving(Instant expiresAt) {
        synchronized (stored) {
            stored.add(expiresAt);
        }
    }

    /** The store answered the save of the record that ends at {@code expiresAt}: it replaced those before. */
    void recordSaved(Instant expiresAt) {
        synchronized (stored) {
            stored.subList(0, Math.max(0, stored.indexOf(expiresAt))).clear();
        }
    }

    /** Whether the record of a session that ends at {@code expiresAt} may be one of this socket's. */
    boolean mayHaveSaved(Instant expiresAt) {
        synchronized (stored) {
            return stored.contains(expiresAt);
        }
    }

    ReplayLog log() {
        return log;
    }

    SeenMessages seenMessages() {
        return seenMessages;
    }

    /**
     * Whether this socket is connected, waiting for its connect answer if that is going out now:
     * the socket is found among the namespace's sockets from the moment its answer is sent, under
     * the log lock, which the connect holds until the socket is connected (see
     * {@link Namespace#connect}). So a socket found there is never "not connected" for a moment.
     */
    private boolean connectedOnceAnswered() {
        if (state.get() == State.CONNECTING) {
            synchronized (log) {
                return connected();
            }
        }
        return connected();
    }

    void markConnected(boolean wasRecovered) {
        recovered = wasRecovered;
        synchronized (log) {
            state.set(State.CONNECTED);
            log.owner(this);
        }
    }

    /** Queues a packet meant for this socket alone (acks, connect answers); never buffered for recovery. */
    void sendDirect(Packet packet) {
        connection.send(Frame.encode(codec(), packet), false);
    }

    /** Answers an event the client sent with an ack id. */
    void sendAck(long ackId, Payload values) {
        sendDirect(Packet.ack(namespace.name(), ackId, values));
    }

    /** Answers an event the client sent with an ack id with an error: its listener failed. */
    void sendAckError(long ackId, String message) {
        sendDirect(codec().ackError(namespace.name(), ackId, message));
    }

    /**
     * Queues an event frame. Frames with an offset are logged for replay first, in the order they
     * are queued, under the log's lock.
     *
     * @return false when the socket is not connected (the namespace then routes to its session)
     */
    boolean deliver(Frame frame, boolean droppable) {
        return deliver(frame, droppable, true);
    }

    /**
     * @param shared whether the frame came through the adapter, and so has its place in the
     *               namespace's log that another node replays from; one to this socket alone does not
     */
    private boolean deliver(Frame frame, boolean droppable, boolean shared) {
        boolean logged = !droppable && frame.packet().offset() != null
                && namespace.switchboard().options().recoveryEnabled();
        if (!logged) {
            String alias = frame.packet().offset() == null && namespace.switchboard().options().recoveryEnabled()
                    ? codec().offsetTakenFrom(frame.packet()) : null;
            if (alias != null) {
                return deliverAliased(frame, droppable, alias);
            }
            // Under the log lock too, where the socket's end queues its disconnect packet: no
            // event may follow that packet (a Socket.IO client would hand it to its next connect).
            synchronized (log) {
                if (!connected()) {
                    return false;
                }
                connection.send(frame, droppable);
            }
            notifyOutgoing(frame);
            return true;
        }
        // Checked under the log lock that detach and resume hold (the protocol is on Recovery), so
        // a frame never falls between the socket and the session that replaces it.
        synchronized (log) {
            if (!connected()) {
                return false;
            }
            // A client that cannot see the offset (a Socket.IO client asked for an ack) cannot say
            // it had the event: logged, it would be replayed to one that had it. Its ack fails at
            // a drop, as every owed ack does. Logged while away (route), it was never sent.
            if (codec().showsOffset(frame.packet())) {
                log.appendSent(frame);
            } else if (shared) {
                log.unnamedSent(frame.packet().offset());
            }
            connection.send(frame, false);
        }
        notifyOutgoing(frame);
        return true;
    }

    /**
     * A frame without an offset after which the client holds {@code alias} in place of one: noted
     * as it is queued, under the log lock, so that it stands where it was queued among the logged
     * frames. Not noted when it is dropped (the client is behind): the client never has it.
     */
    private boolean deliverAliased(Frame frame, boolean droppable, String alias) {
        synchronized (log) {
            if (!connected()) {
                return false;
            }
            if (connection.send(frame, droppable)) {
                log.aliasSent(alias);
            }
        }
        notifyOutgoing(frame);
        return true;
    }

    /** A ping goes out to the client now. */
    void pinging() {
        synchronized (log) {
            pingSentCount = log.sentCount();
            pingAfterAnswer = connected();
        }
    }

    /** The client answered the last ping: it has every frame queued before it. */
    void pingAnswered() {
        synchronized (log) {
            log.pingAnswered(pingSentCount);
            pingSentCount = -1;
            if (pingAfterAnswer) {
                // It read the connect answer: the private id it holds is the new one.
                formerPid = null;
            }
        }
    }

    /** On the emitting thread, in the middle of a broadcast maybe: one that throws must not stop it. */
    private void notifyOutgoing(Frame frame) {
        if (anyOutgoingListeners.isEmpty()) {
            return;
        }
        String event = frame.packet().event();
        Arguments args = Arguments.from(frame.packet());
        for (AnyListener listener : anyOutgoingListeners) {
            hooks().run(() -> "onAnyOutgoing listener on " + namespace.name() + " failed", id, event,
                    () -> listener.onEvent(event, args));
        }
    }

    private Hooks hooks() {
        return namespace.switchboard().hooks();
    }

    private Codec codec() {
        return connection.codec();
    }

    /** The client has every event up to {@code offset}. */
    void confirm(String offset) {
        synchronized (log) {
            log.confirm(offset);
        }
    }

    /**
     * Sends a broadcast's frame whose answer {@code collector} waits for.
     *
     * @return whether {@code collector} counts this socket: it will answer, or its end already told
     *         the collector it will not; false when the frame did not go (route it elsewhere)
     */
    boolean deliverWithAck(Frame frame, AckCollector collector) {
        if (!connected() || acks.full()) {
            return false;
        }
        // Awaited before it goes: the answer may come back before deliver returns.
        acks.await(frame.packet().ackId(), collector::accept, collector::lost);
        if (deliver(frame, false)) {
            return true;
        }
        if (acks.forget(frame.packet().ackId())) {
            return false;
        }
        // The socket ended between the two and its end told the collector this answer is lost:
        // counted as a recipient too, or the collector would stop waiting one answer early. The
        // event still goes where the id leads now (the session kept for the client's return).
        namespace.route(id, frame, false);
        return true;
    }

    /** Acks this socket's client still owes. */
    int pendingAckCount() {
        return acks.size();
    }

    /** Drops a broadcast's pending ack once its collector has given up. */
    void forgetAck(long ackId) {
        acks.forget(ackId);
    }

    CompletableFuture<Arguments> emitWithAck(Duration timeout, String event, Object... args) {
        CompletableFuture<Arguments> reply = new CompletableFuture<>();
        if (!connectedOnceAnswered()) {
            reply.completeExceptionally(new AckFailedException("socket " + id + " is not connected"));
            return reply;
        }
        if (acks.full()) {
            reply.completeExceptionally(new AckFailedException("too many pending acks on socket " + id));
            return reply;
        }
        long ackId = namespace.switchboard().nextAckId();
        // Encoded before it is awaited: arguments with no JSON throw here, and an ack awaited for
        // an event that never went would hold one of the socket's maxPendingAcks places, and then
        // count a timeout, until its timeout ran.
        Frame frame = namespace.encodeEvent(event, args, ackId);
        acks.await(ackId, timeout, reply::complete, reply::completeExceptionally, () -> {
            namespace.switchboard().metrics().ackTimeouts.increment();
            return new AckTimeoutException(
                    "no ack for '" + event + "' from socket " + id + " within " + timeout.toMillis() + " ms", List.of());
        });
        if (!deliver(frame, false, false) && acks.forget(ackId)) {
            reply.completeExceptionally(new AckFailedException("socket " + id + " could not be sent '" + event + "'"));
        }
        return reply;
    }

    /** An {@code ack} packet from the client. */
    void onAck(Packet packet) {
        RawJson error = codec().readAckError(packet);
        RuntimeException failure = error == null ? null : new AckFailedException("client answered with an error: " + error);
        if (!acks.answer(packet.ackId(), Arguments.from(packet), failure)) {
            namespace.switchboard().metrics().unknownAcks.increment();
        }
    }

    /** An {@code event} packet from the client, already checked and rate-limited. */
    void dispatch(Packet packet) {
        String msgId = codec().messageId(packet);
        if (msgId != null && !seenMessages.firstSeen(msgId, this, packet.ackId())) {
            return;
        }
        Event event = new Event(this, packet.event(), Arguments.from(packet), packet.ackId(), msgId);
        connection.handling(event);
        try {
            runListeners(event);
        } finally {
            connection.handled();
        }
    }

    /** A listener that throws fails the event, and the listeners after it do not run. */
    private void runListeners(Event event) {
        for (AnyListener listener : anyListeners) {
            // One kind for every event name: the client chooses those freely.
            if (!hooks().runListener(() -> "onAny listener on " + namespace.name() + " failed", event,
                    () -> listener.onEvent(event.name(), event.args()))) {
                return;
            }
        }
        ListenerList<EventListener> list = listeners.get(event.name());
        if (list == null || list.isEmpty()) {
            namespace.switchboard().metrics().unhandledEvents.increment();
            LOG.log(System.Logger.Level.DEBUG, "no listener for event ''{0}'' on {1}", event.name(), this);
            event.ack();
            return;
        }
        for (EventListener listener : list) {
            // A name the application listens to, so one of a bounded few.
            if (!hooks().runListener(() -> "listener of '" + event.name() + "' on " + namespace.name() + " failed", event,
                    () -> listener.onEvent(event))) {
                return;
            }
        }
    }

    /**
     * Ends the socket once, whatever asked first: the client, the application or the connection.
     * Runs the disconnecting listeners while the rooms are intact, then leaves every room.
     */
    void end(DisconnectReason reason) {
        end(reason, null);
    }

    /**
     * @param goodbye the {@code disconnect} packet telling the client, or null: queued under the
     *                log lock as the socket stops being connected, so that no event delivered to
     *                the socket comes after it (a delivery that held the lock before is queued
     *                first; one after finds the socket ending)
     */
    private void end(DisconnectReason reason, Packet goodbye) {
        boolean keepSession = reason.recoverable() && namespace.switchboard().options().recoveryEnabled();
        DetachedSession session = null;
        synchronized (log) {
            if (!state.compareAndSet(State.CONNECTED, State.DISCONNECTING)) {
                state.compareAndSet(State.CONNECTING, State.DISCONNECTED);
                return;
            }
            if (goodbye != null) {
                sendDirect(goodbye);
            }
            log.release(this);
            if (keepSession) {
                // Under the log's lock, so no delivery falls between this socket and its session.
                session = namespace.recovery().detach(this, reason);
            }
        }
        if (session != null) {
            namespace.recovery().keep(session, this);
        }
        notifyAll(disconnectingListeners, "disconnecting", reason);
        acks.failAll("socket " + id + " disconnected: " + reason.text());
        roomsReleased = !keepSession;
        namespace.removeSocket(this, keepSession);
        connection.removeSocket(this);
        state.set(State.DISCONNECTED);
        endReason = reason;
        for (Consumer<DisconnectReason> listener : disconnectListeners) {
            notifyOnce(disconnectListeners, listener, reason);
        }
    }

    /** Removing the listener claims it, so a listener added while the socket ends runs exactly once. */
    private void notifyOnce(ListenerList<Consumer<DisconnectReason>> list, Consumer<DisconnectReason> listener,
                            DisconnectReason reason) {
        if (list.remove(listener)) {
            notifyAll(List.of(listener), "disconnect", reason);
        }
    }

    private void notifyAll(Iterable<Consumer<DisconnectReason>> list, String kind, DisconnectReason reason) {
        for (Consumer<DisconnectReason> listener : list) {
            hooks().run(() -> kind + " listener on " + namespace.name() + " failed", id, null, () -> listener.accept(reason));
        }
    }

    /**
     * Emits with acknowledgement and a timeout; made by {@link Socket#timeout(Duration)}.
     *
     * <pre>{@code
     * socket.timeout(Duration.ofSeconds(5)).emitWithAck("confirm", order)
     *       .thenAccept(reply -> log(reply.get(0, String.class)));
     * }</pre>
     */
    public static final class Acknowledged {
        private final Socket socket;
        private final Duration timeout;

        private Acknowledged(Socket socket, Duration timeout) {
            this.socket = socket;
            this.timeout = timeout;
        }

        /**
         * Emits and completes with the client's answer; fails with {@link AckTimeoutException}
         * after the timeout (on a callback thread, where the stages chained on it then run), or
         * {@link AckFailedException} when the socket disconnects first.
         *
         * @throws IllegalArgumentException if an argument cannot be mapped to JSON; nothing is
         *                                  sent and no answer awaited
         */
        public CompletableFuture<Arguments> emitWithAck(String event, Object... args) {
            return socket.emitWithAck(timeout, event, args);
        }
    }
}
