package dev.switchboard.server;

import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.transport.OutboundQueue;
import dev.switchboard.transport.OutboundQueue.Offer;
import dev.switchboard.transport.Transport;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One client connection (one WebSocket) carrying its sockets on several namespaces. Transports
 * feed it what they read and tell it when the connection closed; it owns the send queue, the
 * heartbeat and the single way a connection ends, {@link #terminate}.
 *
 * <pre>{@code
 * // in a transport:
 * Connection connection = server.open(transport, handshake);
 * connection.onText(message);          // for each complete text message
 * connection.onTransportClosed(code);  // when the container reports the close
 * }</pre>
 *
 * <p>Threads: the container's reading thread calls the {@code on...} methods one at a time and
 * alone touches {@code rateLimit} and {@code protocolErrors}; any thread may send; the scheduler
 * runs the heartbeat, whose two timers are guarded by {@code this}, and the handler timeout check,
 * which takes {@code handling} from the reading thread with a compare-and-set.
 */
public final class Connection {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    /** Event names a client may not send: they belong to the lifecycle. */
    private static final Set<String> RESERVED_EVENTS = Set.of("connect", "connect_error", "disconnect",
            "disconnecting", "error", "ping", "pong", "hello", "newListener", "removeListener");

    private final String id = Ids.next();
    private final Switchboard switchboard;
    private final Transport transport;
    private final Handshake handshake;
    private final OutboundQueue queue;
    private final EventRateLimit rateLimit;
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
    private final AtomicReference<DisconnectReason> ended = new AtomicReference<>();
    /** Set by whichever thread first finds this client a slow consumer, so it is evicted (and counted) once. */
    private final AtomicBoolean evicted = new AtomicBoolean();
    private int protocolErrors;
    /** The event whose listeners run now, on the reading thread; watched for the handler timeout. */
    private final AtomicReference<Handling> handling = new AtomicReference<>();
    private ScheduledFuture<?> nextPing;
    private ScheduledFuture<?> pongDeadline;

    Connection(Switchboard switchboard, Transport transport, Handshake handshake) {
        this.switchboard = switchboard;
        this.transport = transport;
        this.handshake = handshake;
        SwitchboardOptions options = switchboard.options();
        this.queue = new OutboundQueue(transport, options.sendQueueBytes(), switchboard.sendBudget(),
                this::onSendFailure);
        this.rateLimit = new EventRateLimit(options.clock(), switchboard.stallWatch(), options.eventsPerSecond(),
                options.eventBurst());
    }

    /** The connection id, sent to the client as {@code hello.sid}. */
    public String id() {
        return id;
    }

    /** The upgrade request. */
    public Handshake handshake() {
        return handshake;
    }

    /** Bytes waiting to be sent to this client. */
    public long queuedBytes() {
        return queue.pendingBytes();
    }

    /** Why the connection ended, or {@code null} while it is open. */
    public DisconnectReason endReason() {
        return ended.get();
    }

    void start() {
        SwitchboardOptions options = switchboard.options();
        Map<String, RawJson> hello = new LinkedHashMap<>();
        hello.put("v", JsonMapper.toRaw(switchboard.codec().version()));
        hello.put("sid", JsonMapper.toRaw(id));
        hello.put("pingInterval", JsonMapper.toRaw(options.pingInterval().toMillis()));
        hello.put("pingTimeout", JsonMapper.toRaw(options.pingTimeout().toMillis()));
        hello.put("maxPayload", JsonMapper.toRaw(options.maxPayloadBytes()));
        send(Frame.encode(switchboard.codec(), Packet.of(PacketType.HELLO, Packet.ROOT_NAMESPACE, hello)), false);
        schedulePing();
    }

    // ---- what the transport reports ----

    /** One complete text message from the client. */
    public void onText(String text) {
        if (ended.get() != null) {
            return;
        }
        Packet packet;
        try {
            packet = switchboard.codec().decode(text);
        } catch (ProtocolException e) {
            refuse(e, null);
            return;
        }
        try {
            handle(packet);
        } catch (ProtocolException e) {
            refuse(e, packet);
        }
    }

    /** A binary message, which protocol version 1 does not use. */
    public void onBinary() {
        refuse(new ProtocolException(ProtocolException.BINARY_UNSUPPORTED, "binary frames are not supported"), null);
    }

    /** A message over the size limit; the transport closes with 1009 after this. */
    public void onMessageTooBig() {
        switchboard.metrics().oversizedMessages.increment();
        terminate(DisconnectReason.POLICY_VIOLATION, 1009);
    }

    /**
     * The container reports the connection closed, with the close code it saw: 1000 is the client
     * leaving, 1001/1005/1006 a connection that went away, anything else a failure.
     */
    public void onTransportClosed(int code) {
        DisconnectReason reason = switch (code) {
            case 1000 -> DisconnectReason.CLIENT_DISCONNECT;
            case 1001, 1005, 1006 -> DisconnectReason.TRANSPORT_CLOSE;
            default -> DisconnectReason.TRANSPORT_ERROR;
        };
        endOutsideSends(() -> {
            terminate(reason);
            switchboard.forget(this);
        });
    }

    /**
     * Runs {@code ending} now, or soon on the scheduler when the container reports from inside
     * one of our own sends (Tyrus reports a failed send's close that way): the sending thread
     * may be in the middle of someone's emit, holding a socket's log lock, and disconnect
     * listeners, which may emit themselves, must not run there.
     */
    private void endOutsideSends(Runnable ending) {
        if (queue.sendingOnThisThread()) {
            switchboard.later(ending, Duration.ZERO);
        } else {
            ending.run();
        }
    }

    /** The container reports an I/O error. */
    public void onTransportError(Throwable error) {
        LOG.log(System.Logger.Level.DEBUG, "transport error on connection " + id, error);
        endOutsideSends(() -> terminate(DisconnectReason.TRANSPORT_ERROR));
    }

    // ---- inside the server ----

    private void handle(Packet packet) throws ProtocolException {
        switch (packet.type()) {
            case CONNECT -> connectNamespace(packet);
            case DISCONNECT -> socketFor(packet).end(DisconnectReason.CLIENT_DISCONNECT);
            case EVENT -> onEvent(packet);
            case ACK -> socketFor(packet).onAck(packet);
            case PONG -> onPong(packet.offset());
            default -> throw new ProtocolException(ProtocolException.BAD_PACKET,
                    "a client may not send '" + packet.type().wireName() + "' packets");
        }
    }

    private Socket socketFor(Packet packet) throws ProtocolException {
        Socket socket = sockets.get(packet.namespace());
        if (socket == null) {
            throw new ProtocolException(ProtocolException.NO_NAMESPACE,
                    "not connected to namespace '" + packet.namespace() + "'");
        }
        return socket;
    }

    private void onEvent(Packet packet) throws ProtocolException {
        Socket socket = socketFor(packet);
        if (RESERVED_EVENTS.contains(packet.event())) {
            throw new ProtocolException(ProtocolException.BAD_EVENT, "'" + packet.event() + "' is a reserved event name");
        }
        if (!rateLimit.tryAcquire()) {
            switchboard.metrics().rateLimited.increment();
            if (rateLimit.flooding()) {
                terminate(DisconnectReason.POLICY_VIOLATION);
                return;
            }
            throw new ProtocolException(ProtocolException.RATE_LIMITED, "too many events; slow down");
        }
        switchboard.metrics().eventsIn.increment();
        socket.dispatch(packet);
    }

    private void connectNamespace(Packet packet) {
        String name = packet.namespace();
        Namespace namespace = switchboard.existingNamespace(name);
        if (namespace == null) {
            sendConnectError(name, "Invalid namespace", null);
            return;
        }
        if (sockets.containsKey(name)) {
            sendConnectError(name, "already connected to " + name, null);
            return;
        }
        if (sockets.size() >= switchboard.options().maxNamespaces()) {
            sendConnectError(name, "too many namespaces on one connection", null);
            return;
        }
        String pid = packet.stringField("pid");
        namespace.releaseStale(pid, this);
        DetachedSession session = switchboard.options().sessionStore().take(pid);
        if (session != null && session.namespace() != namespace) {
            switchboard.options().sessionStore().put(session);
            session = null;
        }
        session = namespace.recoverable(session, packet.offset());
        Handshake socketHandshake = handshake.withAuth(packet.field("auth"));
        Socket socket = admit(namespace, socketHandshake, session);
        if (socket == null) {
            return;
        }
        sockets.put(name, socket);
        if (!namespace.open(socket, session, packet.offset())) {
            // The session ran out between the check above and now (it overflowed or expired): the
            // client starts afresh, as a new client would, with a new id and middleware run again.
            socket = admit(namespace, socketHandshake, null);
            if (socket == null) {
                sockets.remove(name);
                return;
            }
            sockets.put(name, socket);
            namespace.open(socket, null, null);
        }
        if (ended.get() != null) {
            socket.end(ended.get());
        }
    }

    /** Runs the namespace's middleware; a refused socket gets its {@code connect_error} and null. */
    private Socket admit(Namespace namespace, Handshake socketHandshake, DetachedSession session) {
        try {
            return namespace.admit(this, socketHandshake, session);
        } catch (Refusal refusal) {
            if (session != null) {
                namespace.expire(session);
            }
            sendConnectError(namespace.name(), refusal.getMessage(), refusal.data);
            return null;
        }
    }

    private void sendConnectError(String namespace, String message, Object data) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("message", JsonMapper.toRaw(message));
        if (data != null) {
            fields.put("data", JsonMapper.toRaw(data));
        }
        send(Frame.encode(switchboard.codec(), Packet.of(PacketType.CONNECT_ERROR, namespace, fields)), false);
    }

    /** Tells the client what was wrong with its frame; too many such frames end the connection. */
    private void refuse(ProtocolException error, Packet packet) {
        if (ended.get() != null) {
            return;
        }
        switchboard.metrics().protocolErrors.increment();
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("code", JsonMapper.toRaw(error.code()));
        fields.put("message", JsonMapper.toRaw(error.getMessage()));
        if (packet != null && packet.ackId() > 0) {
            fields.put("ack", JsonMapper.toRaw(packet.ackId()));
        }
        String namespace = packet == null ? Packet.ROOT_NAMESPACE : packet.namespace();
        send(Frame.encode(switchboard.codec(), Packet.of(PacketType.ERROR, namespace, fields)), false);
        if (packet != null && packet.type() == PacketType.EVENT && packet.ackId() > 0 && sockets.containsKey(namespace)) {
            new Event(sockets.get(namespace), packet.event(), dev.switchboard.protocol.Arguments.of(null), packet.ackId(),
                    null).fail(error.getMessage());
        }
        boolean countsAsError = !ProtocolException.RATE_LIMITED.equals(error.code());
        if (countsAsError && ++protocolErrors >= switchboard.options().maxProtocolErrors()) {
            terminate(DisconnectReason.POLICY_VIOLATION);
        }
    }

    /**
     * Queues a frame. A full queue evicts the client as a slow consumer; so does a full server-wide
     * budget, once the clients with larger queues than this one have been evicted.
     */
    boolean send(Frame frame, boolean droppable) {
        Offer offer = queue.offer(frame.text(), frame.bytes(), droppable);
        if (offer == Offer.OVER_BUDGET && droppable) {
            // A volatile frame may be lost anyway: not worth cutting anyone off for.
            offer = Offer.DROPPED;
        }
        while (offer == Offer.OVER_BUDGET && switchboard.relieveSendBudget(this, frame.bytes())) {
            offer = queue.offer(frame.text(), frame.bytes(), false);
        }
        switch (offer) {
            case QUEUED -> {
                switchboard.metrics().framesOut.increment();
                return true;
            }
            case DROPPED -> {
                switchboard.metrics().droppedVolatile.increment();
                return false;
            }
            case OVERFLOW, OVER_BUDGET -> {
                evictSlowConsumer();
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    /** Drops the queue at once and ends the connection soon, as a slow consumer. */
    void evictSlowConsumer() {
        if (!evicted.compareAndSet(false, true)) {
            return;
        }
        switchboard.metrics().slowConsumers.increment();
        queue.close();
        // Not on the broadcasting thread: disconnect listeners must not run inside someone's emit.
        switchboard.later(() -> terminate(DisconnectReason.SLOW_CONSUMER), Duration.ZERO);
    }

    /** Queues a frame of a recovery replay, which the replay log already bounds. */
    void replay(Frame frame) {
        if (queue.offerBeyondBound(frame.text(), frame.bytes()) == Offer.QUEUED) {
            switchboard.metrics().framesOut.increment();
        }
    }

    void forget(Socket socket) {
        sockets.remove(socket.namespace().name(), socket);
    }

    // ---- the handler timeout ----

    private record Handling(Event event, long sinceMillis) {
    }

    /** The listeners of {@code event} start running. */
    void handling(Event event) {
        handling.set(new Handling(event, switchboard.options().clock().millis()));
    }

    /** They returned. */
    void handled() {
        handling.set(null);
    }

    /**
     * Fails the event whose listeners have run past the handler timeout, once: they go on (the
     * reading thread cannot be interrupted safely), but the client learns now that its event failed.
     */
    void checkHandler(long nowMillis) {
        Handling current = handling.get();
        Duration timeout = switchboard.options().handlerTimeout();
        if (current != null && nowMillis - current.sinceMillis() >= timeout.toMillis()
                && handling.compareAndSet(current, null)) {
            Event event = current.event();
            LOG.log(System.Logger.Level.WARNING, "listener of ''{0}'' on {1} still running after {2} ms: the event failed",
                    event.name(), event.socket(), timeout.toMillis());
            event.fail("handler timed out");
        }
    }

    // ---- heartbeat ----

    private synchronized void schedulePing() {
        if (ended.get() == null) {
            nextPing = switchboard.later(this::ping, switchboard.options().pingInterval());
        }
    }

    private void ping() {
        synchronized (this) {
            if (ended.get() != null) {
                return;
            }
            // Armed before the ping leaves, so a fast pong always finds it.
            pongDeadline = switchboard.later(() -> terminate(DisconnectReason.PING_TIMEOUT),
                    switchboard.options().pingTimeout());
        }
        send(switchboard.pingFrame(), false);
    }

    private void onPong(String offset) {
        if (offset != null) {
            for (Socket socket : sockets.values()) {
                socket.confirm(offset);
            }
        }
        synchronized (this) {
            if (pongDeadline == null) {
                return;
            }
            pongDeadline.cancel(false);
            pongDeadline = null;
        }
        schedulePing();
    }

    private synchronized void stopHeartbeat() {
        if (nextPing != null) {
            nextPing.cancel(false);
        }
        if (pongDeadline != null) {
            pongDeadline.cancel(false);
        }
    }

    // ---- the one way a connection ends ----

    private void onSendFailure(Throwable error) {
        LOG.log(System.Logger.Level.DEBUG, "send failed on connection " + id, error);
        endOutsideSends(() -> terminate(DisconnectReason.TRANSPORT_ERROR));
    }

    /**
     * Ends the connection and every socket on it. Runs once whatever calls it first (client,
     * application, heartbeat, queue, container); later calls do nothing.
     */
    void terminate(DisconnectReason reason) {
        terminate(reason, reason.closeCode());
    }

    private void terminate(DisconnectReason reason, int closeCode) {
        if (!ended.compareAndSet(null, reason)) {
            return;
        }
        stopHeartbeat();
        for (Socket socket : sockets.values()) {
            socket.end(reason);
        }
        sockets.clear();
        switch (reason) {
            case SERVER_SHUTTING_DOWN, POLICY_VIOLATION, SERVER_DISCONNECT -> {
                // Flush what the client should still see (errors, goodbyes), but not forever.
                queue.closeWhenDrained(closeCode, reason.text());
                switchboard.later(() -> {
                    transport.close(closeCode, reason.text());
                    switchboard.forget(this);
                }, switchboard.options().shutdownGrace());
            }
            case TRANSPORT_ERROR -> {
                // The container is closing with the code the error calls for (1002, 1007); ours is
                // only the backstop for a connection it leaves open.
                queue.close();
                switchboard.forget(this);
                switchboard.later(() -> transport.close(closeCode, reason.text()), Duration.ofSeconds(1));
            }
            default -> {
                queue.close();
                transport.close(closeCode == 1006 ? 1000 : closeCode, reason.text());
                switchboard.forget(this);
            }
        }
    }

    /** A namespace refused a socket: the message and data of its {@code connect_error}. */
    static final class Refusal extends Exception {
        private final transient Object data;

        Refusal(String message, Object data) {
            super(message, null, false, false);
            this.data = data;
        }
    }
}
