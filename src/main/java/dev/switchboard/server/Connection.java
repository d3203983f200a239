package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.outbound.OutboundQueue;
import dev.switchboard.outbound.OutboundQueue.Offer;
import dev.switchboard.outbound.Transport;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.AttachmentAssembler;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.ConnectRefusal;
import dev.switchboard.protocol.ConnectRequest;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.ErrorReport;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Hello;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.ReservedEvents;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
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
 * connection.onBinary(bytes);          // for each complete binary message (a packet's attachment)
 * connection.onTransportClosed(code);  // when the container reports the close
 * }</pre>
 *
 * <p>Threads: the container's reading thread calls the {@code on...} methods one at a time and
 * alone touches {@code rateLimit}, {@code attachments} and {@code protocolErrors}; any thread may send; the timer thread
 * runs the heartbeat, whose queue entry ({@link PingSchedule}) and pong deadline are guarded by {@code this} (as is the close deadline), and the handler timeout check,
 * which takes {@code handling} from the reading thread with a compare-and-set. The timer thread
 * never runs application code: a ping timeout closes the connection there, but its sockets end
 * (and their disconnect listeners run) on a callback thread, as does a handler-timeout failure.
 */
public final class Connection {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    /** How long a close waits for the send in flight before it closes over it. */
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(1);

    private final String id = Ids.next();
    private final Switchboard switchboard;
    private final Transport transport;
    /** Whether frames go to the transport in UTF-8, encoded once per broadcast (fixed at the upgrade). */
    private final boolean utf8Payload;
    private final Handshake handshake;
    /** The wire format this client speaks; frames encoded with another are re-encoded for it. */
    private final Codec codec;
    private final OutboundQueue queue;
    private final EventRateLimit rateLimit;
    /** Joins binary packets to their attachments; the reading thread's. */
    private final AttachmentAssembler attachments;
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
    private final AtomicReference<DisconnectReason> ended = new AtomicReference<>();
    /** Set by whichever thread first finds this client a slow consumer, so it is evicted (and counted) once. */
    private final AtomicBoolean evicted = new AtomicBoolean();
    private int protocolErrors;
    /** The event whose listeners run now, on the reading thread; watched for the handler timeout. */
    private final AtomicReference<Handling> handling = new AtomicReference<>();
    /** This connection's place in the server's one ping queue. */
    private PingSchedule.Entry nextPing;
    private ScheduledFuture<?> pongDeadline;
    /** When the last ping went out, on the server's clock; guarded by {@code this}. */
    private long pingSentMillis;
    /** Closes the transport should our close not get through in time; called off once the container reports the close. */
    private ScheduledFuture<?> closeDeadline;
    /** Whether the container reported the close, after which no close deadline is needed. */
    private boolean transportClosed;

    Connection(Switchboard switchboard, Transport transport, Handshake handshake, Codec codec) {
        this.switchboard = switchboard;
        this.transport = transport;
        this.utf8Payload = transport.supportsUtf8Payload();
        this.handshake = handshake;
        this.codec = codec;
        SwitchboardOptions options = switchboard.options();
        this.queue = new OutboundQueue(transport, options.sendQueueBytes(), switchboard.sendBudget(),
                error -> transport.afterInputRead(() -> onTransportError(error)));
        this.rateLimit = new EventRateLimit(options.clock(), switchboard.stallWatch(), options.eventsPerSecond(),
                options.eventBurst());
        this.attachments = new AttachmentAssembler(options.maxAttachments(), options.maxPayloadBytes());
    }

    /** The connection id, sent to the client as {@code hello.sid}. */
    public String id() {
        return id;
    }

    /** The upgrade request. */
    public Handshake handshake() {
        return handshake;
    }

    /** The wire format and how its frames travel, e.g. {@code "socket.io polling"}: what the figures count by. */
    public String wire() {
        return codec.wireFormat() + " " + transport.name();
    }

    /** The wire format this client speaks. */
    public Codec codec() {
        return codec;
    }

    /** Bytes waiting to be sent to this client. */
    public long queuedBytes() {
        return queue.pendingBytes();
    }

    /** Budgeted bytes queued behind the frame in flight: what evicting this client frees of the send budget at once (a replay frees none). */
    long waitingBytes() {
        return queue.waitingBytes();
    }

    /** Why the connection ended, or {@code null} while it is open. */
    public DisconnectReason endReason() {
        return ended.get();
    }

    void start() {
        SwitchboardOptions options = switchboard.options();
        // The rate limit is announced so that clients pace their sends, a flush after an outage included, within it.
        Hello hello = new Hello(codec.version(), id, options.pingInterval().toMillis(), options.pingTimeout().toMillis(),
                options.maxPayloadBytes(), options.eventsPerSecond(), options.eventBurst(), transport.upgrades());
        send(Frame.encode(codec, codec.hello(hello)), false);
        schedulePing();
    }

    // ---- what the transport reports ----

    /** One complete text message from the client. */
    public void onText(String text) {
        onText(text, Frame.utf8Length(text));
    }

    /** One complete text message from the client, of {@code utf8Bytes} in UTF-8 (a transport that counted them already). */
    public void onText(String text, int utf8Bytes) {
        if (ended.get() != null) {
            return;
        }
        switchboard.metrics().countReceived(utf8Bytes);
        Packet packet;
        try {
            packet = codec.decode(text);
        } catch (ProtocolException e) {
            if (attachments.waiting()) {
                refuseAttachments(new ProtocolException(ProtocolException.BAD_ATTACHMENTS,
                        "a text frame came while binary frames were due"));
            } else {
                refuse(e, null);
            }
            return;
        }
        Packet whole;
        try {
            whole = attachments.onText(packet, utf8Bytes);
        } catch (ProtocolException e) {
            refuseAttachments(e);
            return;
        }
        if (whole != null) {
            handleOrRefuse(whole);
        }
    }

    /** One complete binary message: an attachment of the packet whose text came before it. */
    public void onBinary(byte[] data) {
        if (ended.get() != null) {
            return;
        }
        Packet whole;
        try {
            whole = attachments.onBinary(data);
        } catch (ProtocolException e) {
            refuseAttachments(e);
            return;
        }
        if (whole != null) {
            handleOrRefuse(whole);
        }
    }

    private void handleOrRefuse(Packet packet) {
        try {
            handle(packet);
        } catch (ProtocolException e) {
            refuse(e, packet);
        }
    }

    /**
     * Binary frames out of order or over a bound: the stream cannot be trusted to line up again,
     * so the connection closes whatever the wire format (Socket.IO's reference server does the
     * same), 1009 for a packet over the payload limit, 1008 otherwise.
     */
    private void refuseAttachments(ProtocolException error) {
        switchboard.metrics().countProtocolError(error.code());
        if (ProtocolException.TOO_BIG.equals(error.code())) {
            onMessageTooBig();
        } else {
            terminate(DisconnectReason.POLICY_VIOLATION);
        }
    }

    /** A message over the size limit; the transport closes with 1009 after this. */
    public void onMessageTooBig() {
        switchboard.metrics().oversizedMessages.increment();
        terminate(DisconnectReason.POLICY_VIOLATION, 1009, Runnable::run);
    }

    /**
     * The client closed its transport within its own protocol (Engine.IO's close packet), which
     * is not leaving: a transport close, which recovery covers. The connection then closes as
     * any that ends, its queue first, with the close deadline behind it.
     */
    public void onClientTransportClose() {
        endOutsideSends(() -> terminate(DisconnectReason.TRANSPORT_CLOSE));
    }

    /**
     * The container reports the connection closed, with the close code it saw: 1000 is the client
     * leaving where its wire format has it so ({@link Codec#normalCloseLeaves}), 1001/1005/1006
     * a connection that went away, anything else a failure.
     */
    public void onTransportClosed(int code) {
        DisconnectReason reason = switch (code) {
            case 1000 -> codec.normalCloseLeaves() ? DisconnectReason.CLIENT_DISCONNECT : DisconnectReason.TRANSPORT_CLOSE;
            case 1001, 1005, 1006 -> DisconnectReason.TRANSPORT_CLOSE;
            default -> DisconnectReason.TRANSPORT_ERROR;
        };
        synchronized (this) {
            transportClosed = true;
            if (closeDeadline != null) {
                closeDeadline.cancel(false);
            }
        }
        // Out of the count and the address's cap now, whichever thread ends the sockets and when.
        switchboard.removeConnection(this);
        endOutsideSends(() -> terminate(reason));
    }

    /**
     * Runs {@code ending} now, or soon on a callback thread when the container reports from inside
     * one of our own sends (Tyrus reports a failed send's close that way): the sending thread
     * may be in the middle of someone's emit, holding a socket's log lock, and disconnect
     * listeners, which may emit themselves, must not run there.
     */
    private void endOutsideSends(Runnable ending) {
        if (queue.sendingOnThisThread()) {
            switchboard.callback(ending);
        } else {
            ending.run();
        }
    }

    /**
     * The container reports an error on the connection, or a send failed. An I/O error that is
     * no timeout is the connection going away (reset, end of stream, closed channel): {@code
     * transport close}, as when the container reports the close; anything else is a {@code
     * transport error}.
     */
    public void onTransportError(Throwable error) {
        LOG.log(System.Logger.Level.DEBUG, "transport error on connection " + id, error);
        DisconnectReason reason = wentAway(error) ? DisconnectReason.TRANSPORT_CLOSE : DisconnectReason.TRANSPORT_ERROR;
        // Out of the count and the address's cap now: the transport is broken, whenever the container says so.
        switchboard.removeConnection(this);
        endOutsideSends(() -> terminate(reason));
    }

    private static boolean wentAway(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException && !(cause instanceof InterruptedIOException)) {
                return true;
            }
        }
        return false;
    }

    // ---- inside the server ----

    private void handle(Packet packet) throws ProtocolException {
        switch (packet.type()) {
            case CONNECT -> connectNamespace(packet);
            case DISCONNECT -> socketFor(packet).end(DisconnectReason.CLIENT_DISCONNECT);
            case EVENT -> onEvent(packet);
            case ACK -> socketFor(packet).onAck(packet);
            case PONG -> onPong(codec.confirmedOffset(packet));
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
        if (ReservedEvents.contains(packet.event())) {
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
        ConnectRequest request = codec.readConnect(packet);
        DetachedSession session;
        try {
            session = namespace.recovery().claim(request.pid(), request.offset(), this);
        } catch (Recovery.ClaimFailed e) {
            // As a connection refused while the node cannot reach its cluster: the client keeps
            // its private id and offset and recovers once the store answers again.
            switchboard.metrics().refusedUnavailable.increment();
            terminate(DisconnectReason.CLUSTER_UNAVAILABLE);
            return;
        }
        Handshake socketHandshake = handshake.withAuth(request.auth());
        Socket socket = createSocketOrRefuse(namespace, socketHandshake, session);
        if (socket == null) {
            return;
        }
        sockets.put(name, socket);
        if (!namespace.open(socket, session, request.offset())) {
            // The session ran out between the check above and now (it overflowed or expired): the
            // client starts afresh, as a new client would, with a new id and middleware run again.
            socket = createSocketOrRefuse(namespace, socketHandshake, null);
            if (socket == null) {
                sockets.remove(name);
                return;
            }
            sockets.put(name, socket);
            namespace.open(socket, null, request.offset());
        }
        if (ended.get() != null) {
            socket.end(ended.get());
        }
    }

    /** Runs the namespace's middleware; a refused socket gets its {@code connect_error} and null. */
    private Socket createSocketOrRefuse(Namespace namespace, Handshake socketHandshake, DetachedSession session) {
        try {
            return namespace.createSocket(this, socketHandshake, session);
        } catch (Refusal refusal) {
            sendConnectError(namespace.name(), refusal.getMessage(), refusal.data);
            return null;
        }
    }

    private void sendConnectError(String namespace, String message, Object data) {
        ConnectRefusal refusal = new ConnectRefusal(message, data == null ? null : JsonMapper.toRaw(data));
        send(Frame.encode(codec, codec.connectError(namespace, refusal)), false);
    }

    /** Tells the client what was wrong with its frame; too many such frames end the connection. */
    private void refuse(ProtocolException error, Packet packet) {
        if (ended.get() != null) {
            return;
        }
        switchboard.metrics().countProtocolError(error.code());
        String namespace = packet == null ? Packet.ROOT_NAMESPACE : packet.namespace();
        ErrorReport report = new ErrorReport(error.code(), error.getMessage(), packet == null ? 0 : packet.ackId());
        Packet answer = codec.error(namespace, report);
        // A packet for a namespace with no socket here may have left the client before it heard
        // that the server disconnected that socket: no reason to close the others' connection.
        // Counted below, so a client that keeps sending them is still closed.
        boolean mayBeInnocent = ProtocolException.RATE_LIMITED.equals(error.code())
                || ProtocolException.NO_NAMESPACE.equals(error.code());
        if (answer == null && !mayBeInnocent) {
            // This wire format cannot tell the client what was wrong: its servers close instead.
            terminate(DisconnectReason.POLICY_VIOLATION);
            return;
        }
        if (answer != null) {
            send(Frame.encode(codec, answer), false);
        }
        if (packet != null && packet.type() == PacketType.EVENT && packet.ackId() > 0 && sockets.containsKey(namespace)) {
            new Event(sockets.get(namespace), packet.event(), Arguments.of(List.of()), packet.ackId(),
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
        String text = frame.text(codec);
        int bytes = frame.bytes(codec);
        ByteBuffer wire = wireBytes(frame);
        Offer offer = queue.offer(text, frame.attachments(), wire, bytes, droppable);
        if ((offer == Offer.OVER_BUDGET || offer == Offer.OVERFLOW) && droppable) {
            // A volatile frame may be lost anyway: not worth cutting anyone off for, neither for
            // the server-wide budget nor for this client's own bound (a frame in flight with
            // nothing behind it leaves no room for it: the client is behind, as when frames wait).
            offer = Offer.DROPPED;
        }
        while (offer == Offer.OVER_BUDGET && switchboard.relieveSendBudget(this, bytes)) {
            offer = queue.offer(text, frame.attachments(), wire, bytes, false);
        }
        switch (offer) {
            case QUEUED -> {
                switchboard.metrics().framesOut.increment();
                switchboard.metrics().bytesOut.add(frame.bytes());
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

    /**
     * The frame as this connection's transport takes it in place of the text, made once per
     * broadcast and shared: whole WebSocket frames for a transport that writes them itself, the
     * UTF-8 payload for one that takes a text frame's bytes (not with attachments, which go as
     * frames of their own), or null.
     */
    private ByteBuffer wireBytes(Frame frame) {
        if (queue.takesFrames()) {
            return frame.serverFrame(codec);
        }
        return utf8Payload && frame.attachments().isEmpty() ? frame.utf8(codec) : null;
    }

    /** Drops the queue at once and ends the connection soon, as a slow consumer. */
    void evictSlowConsumer() {
        if (!evicted.compareAndSet(false, true)) {
            return;
        }
        switchboard.metrics().slowConsumers.increment();
        queue.close();
        // Not on the broadcasting thread: disconnect listeners must not run inside someone's emit.
        switchboard.callback(() -> terminate(DisconnectReason.SLOW_CONSUMER));
    }

    /** Queues a frame of a recovery replay, which the replay log already bounds. */
    void replay(Frame frame) {
        ByteBuffer wire = wireBytes(frame);
        if (queue.offerBeyondBound(frame.text(codec), frame.attachments(), wire, frame.bytes(codec)) == Offer.QUEUED) {
            switchboard.metrics().framesOut.increment();
            switchboard.metrics().bytesOut.add(frame.bytes());
        }
    }

    void removeSocket(Socket socket) {
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
            switchboard.metrics().handlerTimeouts.increment();
            switchboard.callback(() -> {
                // The event's name stays out of the warning's kind: clients choose names freely.
                switchboard.warnings().warn(LOG, "a listener on " + event.socket().namespace().name()
                        + " still running after " + timeout.toMillis() + " ms: its event failed", null);
                event.fail("handler timed out");
            });
        }
    }

    // ---- heartbeat ----

    private void schedulePing() {
        if (ended.get() != null) {
            return;
        }
        // Queued outside this connection's lock: the queue may ping other connections at once.
        PingSchedule.Entry entry = switchboard.pings().add(this);
        synchronized (this) {
            nextPing = entry;
            if (ended.get() != null) {
                entry.cancel();
            }
        }
    }

    /** On the timer thread, when {@link PingSchedule} finds this connection due. */
    void ping() {
        synchronized (this) {
            if (ended.get() != null) {
                return;
            }
            // Armed before the ping leaves, so a fast pong always finds it.
            pingSentMillis = switchboard.options().clock().millis();
            pongDeadline = switchboard.timer(this::pingTimedOut, switchboard.options().pingTimeout());
        }
        // Before the ping is queued: the pong then vouches for at least what they count.
        for (Socket socket : sockets.values()) {
            socket.pinging();
        }
        send(switchboard.pingFrame(), false);
    }

    /**
     * On the timer thread: the client hears 4000 on time, and the sockets' ends, which run the
     * application's disconnect listeners (a broadcast to the namespace, say), wait for a callback
     * thread rather than hold up every other connection's heartbeat.
     */
    private void pingTimedOut() {
        synchronized (this) {
            if (pongDeadline == null) {
                // The pong was read just as the deadline fired.
                return;
            }
            boolean stalled = switchboard.stallWatch().stalledMillis(pingSentMillis, switchboard.options().clock().millis()) > 0;
            if ((handling.get() != null || stalled) && ended.get() == null) {
                // One of this connection's listeners holds its reading thread, or the whole
                // server stood still since the ping (frozen, starved, collecting): the client's
                // pong may be waiting unread, behind the listener or in the kernel, while this
                // late timer runs first. The server is late, not the client, so the deadline
                // waits another pingTimeout; the handler timeout bounds the first, and a stall
                // counts only just after it ends.
                pongDeadline = switchboard.timer(this::pingTimedOut, switchboard.options().pingTimeout());
                return;
            }
        }
        terminate(DisconnectReason.PING_TIMEOUT, DisconnectReason.PING_TIMEOUT.closeCode(), switchboard::callback);
    }

    private void onPong(String offset) {
        for (Socket socket : sockets.values()) {
            if (offset != null) {
                socket.confirm(offset);
            }
            socket.pingAnswered();
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
            nextPing.cancel();
        }
        if (pongDeadline != null) {
            pongDeadline.cancel(false);
        }
    }

    // ---- the one way a connection ends ----

    /**
     * Ends the connection and every socket on it. Runs once whatever calls it first (client,
     * application, heartbeat, queue, container); later calls do nothing.
     */
    void terminate(DisconnectReason reason) {
        terminate(reason, reason.closeCode(), Runnable::run);
    }

    /**
     * Closes the connection to be rid of its client ({@code disconnect(true)}): each socket's
     * client is told {@code server disconnect} first, as socket.io's server does. A close alone
     * reads to a client as a lost connection, which socket.io-client and ours retry at once.
     */
    void kick() {
        terminate(DisconnectReason.SERVER_DISCONNECT, DisconnectReason.SERVER_DISCONNECT.closeCode(), Runnable::run, true);
    }

    /**
     * @param socketEnds where the sockets end and their disconnect listeners run: this thread, or
     *                   a callback thread when this is the timer thread
     */
    private void terminate(DisconnectReason reason, int closeCode, Executor socketEnds) {
        terminate(reason, closeCode, socketEnds, false);
    }

    /** @param tellClients whether each socket's client is told why before the close (a kick) */
    private void terminate(DisconnectReason reason, int closeCode, Executor socketEnds, boolean tellClients) {
        if (!ended.compareAndSet(null, reason)) {
            return;
        }
        stopHeartbeat();
        socketEnds.execute(() -> endSockets(reason, tellClients));
        // The queue's writer closes the transport once no send is in flight (a container sending
        // a close frame waits for that send, on the thread that asks it to); the deadline closes
        // over a send that never completes.
        switch (reason) {
            case SERVER_SHUTTING_DOWN, SERVER_RESTARTING, CLUSTER_UNAVAILABLE, POLICY_VIOLATION, SERVER_DISCONNECT -> {
                // Flush what the client should still see (errors, goodbyes), but not forever.
                queue.closeWhenDrained(closeCode, reason.text());
                closeBy(switchboard.options().shutdownGrace(), closeCode, reason);
            }
            case TRANSPORT_ERROR -> {
                // The container is closing with the code the error calls for (1002, 1007); ours is
                // only the backstop for a connection it leaves open.
                queue.close();
                switchboard.removeConnection(this);
                closeBy(CLOSE_DEADLINE, closeCode, reason);
            }
            default -> {
                int code = closeCode == 1006 ? 1000 : closeCode;
                queue.close(code, reason.text());
                switchboard.removeConnection(this);
                closeBy(CLOSE_DEADLINE, code, reason);
            }
        }
    }

    private void endSockets(DisconnectReason reason, boolean tellClients) {
        for (Socket socket : sockets.values()) {
            if (tellClients) {
                socket.disconnect(reason);
            }
            socket.end(reason);
        }
        sockets.clear();
    }

    /** Closes the transport and forgets the connection after {@code deadline}, unless the container reported the close by then. */
    private synchronized void closeBy(Duration deadline, int closeCode, DisconnectReason reason) {
        if (!transportClosed) {
            closeDeadline = switchboard.timer(() -> {
                transport.close(closeCode, reason.text());
                switchboard.removeConnection(this);
            }, deadline);
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
