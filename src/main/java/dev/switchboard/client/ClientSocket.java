package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.ConnectAnswer;
import dev.switchboard.protocol.ConnectRefusal;
import dev.switchboard.protocol.ConnectRequest;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.ErrorReport;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.Payload;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.protocol.ReservedEvents;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One namespace socket of a {@link SwitchboardClient}: listens to the server's events and emits
 * events, with or without acknowledgement. Get one with {@link SwitchboardClient#socket(String)};
 * it connects by itself (unless {@link ClientOptions#autoConnect()} is off) and reconnects with
 * the client, recovering its session when it can.
 *
 * <pre>{@code
 * ClientSocket chat = client.socket("/chat", Map.of("token", "s3cret"));
 * chat.onConnect(() -> System.out.println("connected as " + chat.id()));
 * chat.on("message", event -> System.out.println(event.arg(0, String.class)));
 * chat.emit("join", "lobby");
 * chat.timeout(Duration.ofSeconds(2)).emitWithAck("history", 50)
 *     .thenAccept(reply -> render(reply.get(0, Message[].class)));
 * }</pre>
 *
 * <p>Emits made while the socket is not connected are buffered, in order, and sent once it
 * connects; {@link #asVolatile()} emits are dropped instead. Every event is sent within the rate
 * limit the server announced, so a burst of emits (or the flush after an outage) waits in the
 * same buffer rather than being refused by the server; so do events while the WebSocket has
 * {@link ClientOptions#sendQueueBytes()} queued unwritten (a server that stops reading). The
 * buffer holds at most {@link ClientOptions#maxBufferedEmits()} emits; beyond that a new emit is
 * refused with {@link SendBufferFullException}. All methods are thread-safe; listeners run as
 * described in {@link SwitchboardClient} and must not block.
 *
 * <p>Inside, this class is the namespace's state machine (connect, recover, disconnect) and its
 * listeners; the acks it waits for are an {@link AckTable}, its at-least-once emits an
 * {@link AtLeastOnceQueue}. All three are guarded by the client's lock.
 */
public final class ClientSocket {
    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    /** Names that socket.io users might pass to on(); here they have their own methods. */
    private static final Set<String> LIFECYCLE_EVENTS = Set.of("connect", "connect_error", "disconnect");

    private final SwitchboardClient client;
    private final String namespace;
    private final RawJson auth;

    // Thread-safe collections: registering needs no lock, delivery iterates a snapshot.
    private final Map<String, List<Registration>> listeners = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, Arguments>> anyListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> connectListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<ConnectError>> connectErrorListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> disconnectListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<Packet>> errorListeners = new CopyOnWriteArrayList<>();

    // All guarded by client.lock.
    private boolean active;               // the application wants it connected
    private boolean connected;
    private boolean connectPending;       // a connect was sent on the current WebSocket, no answer yet
    private int voidAnswers;              // answers still due on this WebSocket to connects left before they were answered
    private String id;
    private String pid;                   // recovery token, kept across transport losses
    private String offset;                // of the last event received, for recovery
    private boolean recovered;
    private long epoch;                   // changes at every connect and disconnect; acks of an older one are dropped
    private final ArrayDeque<Buffered> sendBuffer = new ArrayDeque<>();  // plain emits not sent yet
    private final AckTable acks;                   // what the emitWithAck calls wait for
    private final AtLeastOnceQueue reliableQueue;  // emits with retries above 0, until acknowledged
    private final List<CompletableFuture<ClientSocket>> connectWaiters = new ArrayList<>();
    private ConnectError refusal;         // why it stopped trying (refused, gave up); null while it tries
    private final PresenceTracker presence;
    private volatile ClientTokens tokens;  // set under client.lock, read on any thread
    private long connectAttempts;         // tells a token fetched for an older connect attempt from the current one
    private boolean reconnecting;         // connected since the application last made it active: a connect now is a reconnection

    ClientSocket(SwitchboardClient client, String namespace, RawJson auth, boolean active) {
        this.client = client;
        this.namespace = namespace;
        this.auth = auth;
        this.active = active;
        this.acks = new AckTable(client);
        this.reliableQueue = new AtLeastOnceQueue(client, namespace);
        this.presence = new PresenceTracker(this);
    }

    /** The namespace, such as {@code "/"} or {@code "/chat"}. */
    public String namespace() {
        return namespace;
    }

    /** The client this socket belongs to. */
    public SwitchboardClient client() {
        return client;
    }

    /** The socket's public id from the server, or {@code null} when not connected. */
    public String id() {
        synchronized (client.lock) {
            return id;
        }
    }

    /** Whether the socket is connected to its namespace. */
    public boolean connected() {
        synchronized (client.lock) {
            return connected;
        }
    }

    /**
     * Whether the last connect recovered the previous session (same id, rooms and data, and the
     * missed events are replayed); {@code false} after a fresh connect, when events may have been
     * missed.
     */
    public boolean recovered() {
        synchronized (client.lock) {
            return recovered;
        }
    }

    /**
     * Who is in {@code room}, kept up to date from the server's presence events (the room must be
     * one the server tracks, see {@code Namespace.trackPresence} on the server).
     *
     * <pre>{@code
     * chat.presence("general").onChange(room -> System.out.println(room.members()));
     * }</pre>
     */
    public RoomPresence presence(String room) {
        return presence.room(room);
    }

    /**
     * Authenticates with tokens from {@code provider}: each connect, the first and every one after
     * a reconnection, sends {@code auth: {"token": ...}} with a token it fetched, and the server's
     * request for a fresh token before the current one expires is answered with another. Set it
     * before the socket connects (with {@code autoConnect(false)}). Set again, it replaces the
     * provider before: the next connect and refresh ask the new one alone.
     *
     * <p>A provider that fails is a connect error, and the socket then waits for {@link #connect()};
     * so is one whose future has not settled within {@link ClientOptions#connectTimeout()} at a
     * connect the application asked for (a token handed over later is not used). At a
     * reconnection, once the socket had connected, such a timeout is a connect error the socket
     * retries: it asks the provider again after the reconnection backoff, up to
     * {@link ClientOptions#reconnectionAttempts()} times, and sends whichever token comes first,
     * so that a slow login service does not cost it its session; {@link #whenConnected()} waits
     * meanwhile. A refresh waits for the provider's answer for as long as the server does, until
     * the token expires; a provider that fails is answered with no token.
     *
     * <pre>{@code
     * chat.tokenProvider(() -> login.freshToken());   // a CompletableFuture<String>
     * chat.connect();
     * }</pre>
     */
    public ClientSocket tokenProvider(Supplier<CompletableFuture<String>> provider) {
        ClientTokens next = new ClientTokens(this, Objects.requireNonNull(provider, "provider"));
        boolean first;
        synchronized (client.lock) {
            ClientTokens replaced = tokens;
            first = replaced == null;
            tokens = next;
            // A connect waiting for the replaced provider (or for the backoff before asking it
            // again) asks the new one now, as a new attempt, so the replaced one's token goes nowhere.
            if (replaced != null && replaced.stop() && stillConnecting(connectAttempts)) {
                connectAttempts++;
                next.connect(connectAttempts);
            }
        }
        if (first) {
            // One listener whatever the number of providers set: a listener per provider would
            // have every provider set so far answer, the first one first, and the server takes
            // the first answer.
            on(ClientTokens.REFRESH, event -> tokens.refresh(event));
        }
        return this;
    }

    // ---- listening ----

    /**
     * Calls {@code listener} for every event named {@code event}. An event that asks for an
     * acknowledgement and has no listener is answered with no arguments, so the server does not
     * wait for a timeout.
     *
     * @throws IllegalArgumentException for {@code connect}, {@code connect_error} and
     *                                  {@code disconnect}: use {@link #onConnect},
     *                                  {@link #onConnectError} and {@link #onDisconnect}
     */
    public ClientSocket on(String event, ClientListener listener) {
        return register(event, listener, false);
    }

    /**
     * Calls {@code listener} with the first argument of every event named {@code event}, mapped to
     * {@code type}. It cannot be removed with {@link #off(String, ClientListener)}; use
     * {@link #off(String)}.
     */
    public <T> ClientSocket on(String event, Class<T> type, Consumer<T> listener) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(listener, "listener");
        return register(event, e -> listener.accept(e.arg(0, type)), false);
    }

    /** Calls {@code listener} for the next event named {@code event} only. */
    public ClientSocket once(String event, ClientListener listener) {
        return register(event, listener, true);
    }

    /** Removes every listener of {@code event}. */
    public ClientSocket off(String event) {
        listeners.remove(Objects.requireNonNull(event, "event"));
        return this;
    }

    /** Removes {@code listener} from {@code event} (also when added with {@link #once}). */
    public ClientSocket off(String event, ClientListener listener) {
        List<Registration> registrations = listeners.get(Objects.requireNonNull(event, "event"));
        if (registrations != null) {
            registrations.removeIf(registration -> registration.listener == listener);
        }
        return this;
    }

    /** Calls {@code listener} with the name and arguments of every event, before the named listeners. */
    public ClientSocket onAny(BiConsumer<String, Arguments> listener) {
        anyListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Removes a listener added with {@link #onAny}. */
    public ClientSocket offAny(BiConsumer<String, Arguments> listener) {
        anyListeners.remove(listener);
        return this;
    }

    /** Calls {@code listener} every time the socket connects, including after a reconnection. */
    public ClientSocket onConnect(Runnable listener) {
        connectListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Calls {@code listener} when the server refuses the socket ({@code connect_error}; the socket
     * then stays disconnected until {@link #connect()}, and when no other socket of the client
     * wants the connection, the client closes it and stops reconnecting, as after
     * {@link #disconnect()}), and when an attempt to reach the server fails (the client keeps
     * trying, as its options say).
     */
    public ClientSocket onConnectError(Consumer<ConnectError> listener) {
        connectErrorListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Calls {@code listener} with the reason when a connected socket disconnects:
     * {@code "io client disconnect"} ({@link #disconnect()} or {@link SwitchboardClient#close()}),
     * {@code "io server disconnect"} or the reason the server gave (such as
     * {@code "server disconnect"}), {@code "transport close"}, {@code "transport error"},
     * {@code "ping timeout"}, or the reason the server's close code names ({@code "server shutting
     * down"}, {@code "server restarting"}, {@code "slow consumer"}, {@code "policy violation"},
     * {@code "token expired"}). After a lost connection the socket reconnects by itself, as the
     * client's options say.
     */
    public ClientSocket onDisconnect(Consumer<String> listener) {
        disconnectListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Calls {@code listener} with every {@code error} packet the server sends about this
     * namespace (a refused frame; see {@code code} and {@code message} with
     * {@link Packet#stringField(String)}). Errors without a namespace go to the socket of
     * {@code "/"}.
     */
    public ClientSocket onError(Consumer<Packet> listener) {
        errorListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    // ---- emitting ----

    /**
     * Sends an event; buffered while the socket is not connected or the server's rate limit
     * makes it wait. With {@link ClientOptions#retries()} above 0 the event is sent at-least-once.
     *
     * @throws IllegalArgumentException if the name is reserved or empty or longer than 128
     *                                  characters, an argument cannot be mapped to JSON, or the
     *                                  frame exceeds the server's {@code maxPayload}
     * @throws SendBufferFullException  if {@link ClientOptions#maxBufferedEmits()} emits are
     *                                  waiting already; this one is not sent
     */
    public void emit(String event, Object... args) {
        checkEventName(event);
        Payload raw = Payload.of(args);
        if (client.options().retries() > 0) {
            enqueueReliable(event, raw, client.options().ackTimeout(), null);
            return;
        }
        Frame frame = encode(Packet.event(namespace, event, raw, 0));
        client.locked(() -> {
            if (client.closedLocked()) {
                LOG.log(Level.DEBUG, "dropping event {0}: the client is closed", event);
                return;
            }
            checkFits(frame);
            if (!bufferFull(null)) {
                buffer(frame);
            }
        });
    }

    /**
     * Sends an event and completes with the server's answer. Fails with
     * {@link AckTimeoutException} after {@link ClientOptions#ackTimeout()} (counted from this
     * call, also while the event waits in the buffer), with {@link AckErrorException} when the
     * server answers with an error, and is cancelled when the client closes. An event sent on a
     * connection that then dropped gets no answer (the server does not replay acks), so it fails
     * at the drop with {@link DisconnectedException}; one still buffered is sent after the next
     * connect. With retries on, it is resent instead: the timeout counts per send, and not while
     * offline (see {@link ClientOptions.Builder#retries(int)}). Fails at once with
     * {@link SendBufferFullException} when {@link ClientOptions#maxBufferedEmits()} emits are
     * waiting already.
     *
     * @throws IllegalArgumentException as {@link #emit}
     */
    public CompletableFuture<Arguments> emitWithAck(String event, Object... args) {
        return emitWithAck(event, client.options().ackTimeout(), args);
    }

    /**
     * An emitter whose {@code emitWithAck} waits {@code timeout} instead of the client's
     * {@link ClientOptions#ackTimeout()}.
     */
    public TimedEmitter timeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        return new TimedEmitter(this, timeout);
    }

    /** An emitter that drops events while the socket is not connected, instead of buffering them. */
    public VolatileEmitter asVolatile() {
        return new VolatileEmitter(this);
    }

    // ---- lifecycle ----

    /**
     * Leaves the namespace ("io client disconnect") and stops reconnecting it; the client and
     * its other sockets stay connected. Buffered emits stay buffered for {@link #connect()}.
     */
    public ClientSocket disconnect() {
        client.locked(() -> {
            if (connected || connectPending) {
                client.send(encode(SwitchboardClient.CODEC.disconnect(namespace, null)));
            }
            if (connectPending) {
                // The server answers that connect before it reads the disconnect; the answer names
                // a socket that is gone, and must not be taken for the answer to a connect() made next.
                voidAnswers++;
            }
            active = false;
            connectPending = false;
            // A socket left on purpose has no session to recover.
            pid = null;
            offset = null;
            markDisconnected("io client disconnect");
            client.socketDone();
        });
        return this;
    }

    /**
     * Connects again after {@link #disconnect()}, a server disconnect or a
     * {@code connect_error}; reopens the WebSocket when the client had stopped trying. Does
     * nothing when connected or connecting.
     *
     * @throws IllegalStateException if the client is closed
     */
    public ClientSocket connect() {
        client.locked(() -> {
            if (client.closedLocked()) {
                throw new IllegalStateException("the client is closed");
            }
            if (connected || (active && connectPending)) {
                return;
            }
            if (!active) {
                reconnecting = false;
            }
            active = true;
            refusal = null;
            client.socketWantsConnection(this);
        });
        return this;
    }

    /**
     * Completes with this socket when it is connected: at once if it is now, else at the next
     * connect. Fails with {@link ConnectErrorException} when the server refuses the socket, when
     * the client gives up (reconnection off or exhausted, unsupported protocol version) or is
     * closed; also at once when that already happened and nothing (such as {@link #connect()})
     * has made the socket try again since. Failures to reach the server while the client keeps
     * trying do not fail it, nor does a token provider too slow at a reconnection
     * ({@link #tokenProvider}).
     *
     * <pre>{@code
     * socket.whenConnected().get(5, TimeUnit.SECONDS);
     * }</pre>
     */
    public CompletableFuture<ClientSocket> whenConnected() {
        return client.locked(() -> {
            if (connected) {
                return CompletableFuture.completedFuture(this);
            }
            CompletableFuture<ClientSocket> waiter = new CompletableFuture<>();
            if (client.closedLocked()) {
                waiter.completeExceptionally(new ConnectErrorException(ConnectError.of("the client is closed")));
            } else if (refusal != null) {
                // Refused before the caller got here: waiting would hang until connect().
                waiter.completeExceptionally(new ConnectErrorException(refusal));
            } else {
                connectWaiters.add(waiter);
            }
            return waiter;
        });
    }

    @Override
    public String toString() {
        synchronized (client.lock) {
            return "ClientSocket[" + namespace + ", id=" + id + (connected ? ", connected" : "")
                    + (active ? "" : ", inactive") + "]";
        }
    }

    // ---- called by SwitchboardClient, lock held ----

    boolean activeLocked() {
        return active;
    }

    /** The client opens a new WebSocket: an active socket tries again. */
    void retrying() {
        voidAnswers = 0;   // the answers due on the old WebSocket never come
        if (active) {
            refusal = null;
        }
    }

    /** Sends connect, with the recovery token and last offset when there was a session. */
    void sendConnect() {
        connectAttempts++;
        if (tokens != null) {
            tokens.connect(connectAttempts);
        } else {
            writeConnect(auth);
        }
    }

    /** Lock held. */
    void writeConnect(RawJson withAuth) {
        ConnectRequest request = new ConnectRequest(withAuth, pid, pid != null ? offset : null);
        connectPending = client.send(encode(SwitchboardClient.CODEC.connect(namespace, request)));
    }

    /**
     * The connect could not even be sent (the token provider failed): like a refusal, the socket
     * waits for the application to call {@link #connect()}. Lock held.
     */
    void connectAborted(ConnectError error) {
        active = false;
        connectFailed(error, true);
        client.socketDone();
    }

    /** Whether the socket connects again by itself, after it lost a connection it had. Lock held. */
    boolean reconnecting() {
        return reconnecting;
    }

    /** Whether connect attempt {@code attempt} is the current one and still unsent. Lock held. */
    boolean stillConnecting(long attempt) {
        return attempt == connectAttempts && active && !connected && !connectPending;
    }

    void packetReceived(Packet packet) {
        switch (packet.type()) {
            case CONNECT -> connectReceived(packet);
            case CONNECT_ERROR -> connectErrorReceived(packet);
            case DISCONNECT -> disconnectReceived(packet);
            case EVENT -> eventReceived(packet);
            case ACK -> ackReceived(packet.ackId(), ackResult(packet));
            case ERROR -> errorReceived(packet);
            default -> LOG.log(Level.DEBUG, "ignoring {0} on {1}", packet.type().wireName(), namespace);
        }
    }

    /** The WebSocket is gone; the socket reconnects with the next one if it is still active. */
    void transportLost(String reason) {
        connectPending = false;
        // A token still on its way was for a connect on the lost WebSocket; the next one asks anew.
        connectAttempts++;
        markDisconnected(reason);
    }

    /** Tells the connect-error listeners; with {@code giveUp}, also fails the whenConnected() futures. Lock held. */
    void connectFailed(ConnectError error, boolean giveUp) {
        connectErrorListeners.forEach(listener -> client.callbacks.add(() -> listener.accept(error)));
        if (giveUp) {
            failWaiters(error);
        }
    }

    /** Fails the whenConnected() futures, now and until the socket tries again. */
    void failWaiters(ConnectError error) {
        refusal = error;
        for (CompletableFuture<ClientSocket> waiter : connectWaiters) {
            ConnectErrorException failure = new ConnectErrorException(error);
            client.callbacks.add(() -> waiter.completeExceptionally(failure));
        }
        connectWaiters.clear();
    }

    /** The client is closing: leave the namespace and settle every future. */
    void clientClosed() {
        if (connected || connectPending) {
            client.send(encode(SwitchboardClient.CODEC.disconnect(namespace, null)));
        }
        active = false;
        connectPending = false;
        if (tokens != null) {
            tokens.stop();
        }
        CancellationException closed = new CancellationException("the client is closed");
        acks.failAll(closed);   // before markDisconnected, which would fail them as dropped
        markDisconnected("io client disconnect");
        reliableQueue.failAll(closed);
        sendBuffer.clear();
        failWaiters(ConnectError.of("the client is closed"));
    }

    // ---- called by TimedEmitter, VolatileEmitter and ClientEvent ----

    CompletableFuture<Arguments> emitWithAck(String event, Duration timeout, Object[] args) {
        checkEventName(event);
        Payload raw = Payload.of(args);
        CompletableFuture<Arguments> future = new CompletableFuture<>();
        if (client.options().retries() > 0) {
            enqueueReliable(event, raw, timeout, future);
            return future;
        }
        long ackId = client.nextAckId();
        Frame frame = encode(Packet.event(namespace, event, raw, ackId));
        client.locked(() -> {
            if (client.closedLocked()) {
                // Nobody holds the future yet, so completing it under the lock runs no callback.
                future.completeExceptionally(new CancellationException("the client is closed"));
                return;
            }
            checkFits(frame);
            if (bufferFull(future)) {
                return;
            }
            // Not sent yet at its timeout: a late event would surprise the server's handler more than a lost one.
            acks.await(ackId, event, timeout, future,
                    () -> sendBuffer.removeIf(buffered -> buffered.frame.packet().ackId() == ackId));
            buffer(frame);
        });
        return future;
    }

    void emitVolatile(String event, Object[] args) {
        checkEventName(event);
        Frame frame = encode(Packet.event(namespace, event, Payload.of(args), 0));
        client.locked(() -> {
            if (connected) {
                checkFits(frame);
                if (client.takeEventToken()) {
                    client.send(frame, true);
                }
            }
        });
    }

    /** Answers a server event, unless the socket reconnected since it arrived (that ack is void). */
    void sendAck(long ackEpoch, long ackId, Payload values) {
        Frame frame = encode(Packet.ack(namespace, ackId, values));
        client.locked(() -> {
            if (connected && ackEpoch == epoch) {
                client.send(frame);
            } else {
                LOG.log(Level.DEBUG, "dropping ack {0} on {1}: the socket disconnected since the event", ackId, namespace);
            }
        });
    }

    // ---- internals ----

    private ClientSocket register(String event, ClientListener listener, boolean once) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(listener, "listener");
        if (LIFECYCLE_EVENTS.contains(event)) {
            throw new IllegalArgumentException("'" + event + "' is not an event here; use on"
                    + (event.equals("connect") ? "Connect" : event.equals("disconnect") ? "Disconnect" : "ConnectError"));
        }
        listeners.computeIfAbsent(event, name -> new CopyOnWriteArrayList<>()).add(new Registration(listener, once));
        return this;
    }

    /** Queues a plain emit to be sent when connected and the server's rate limit allows. Lock held. */
    private void buffer(Frame frame) {
        sendBuffer.add(new Buffered(frame, client.nextEmitSequence()));
        client.sendEvents();
    }

    /**
     * Whether the socket already holds as many emits as it may; if so refuses this one: fails its
     * future, or throws for an emit that has none. Lock held.
     */
    private boolean bufferFull(CompletableFuture<Arguments> future) {
        int limit = client.options().maxBufferedEmits();
        if (sendBuffer.size() + reliableQueue.size() < limit) {
            return false;
        }
        SendBufferFullException full = new SendBufferFullException(limit);
        if (future == null) {
            throw full;
        }
        // Nobody holds the future yet, so completing it under the lock runs no callback.
        future.completeExceptionally(full);
        return true;
    }

    /**
     * The order number of the oldest event this socket could send now, or
     * {@link Long#MAX_VALUE} when it has none (or is not connected). Lock held.
     */
    long readySince() {
        if (!connected) {
            return Long.MAX_VALUE;
        }
        Buffered buffered = sendBuffer.peek();
        return Math.min(buffered == null ? Long.MAX_VALUE : buffered.sequence, reliableQueue.readySince());
    }

    /** The frame of the event {@link #readySince()} names. Lock held. */
    Frame readyFrame() {
        return reliableQueue.readySince() == readySince() ? reliableQueue.headFrame() : sendBuffer.peek().frame;
    }

    /** Sends the event {@link #readySince()} names; the client took a rate token for it. Lock held. */
    void sendReadyEvent() {
        if (reliableQueue.readySince() == readySince()) {
            reliableQueue.sendHead();
            return;
        }
        Frame frame = sendBuffer.poll().frame;
        if (client.fits(frame)) {
            client.send(frame);
            return;
        }
        // Buffered before hello told us the limit; sending it would get us disconnected.
        LOG.log(Level.WARNING, "dropping a buffered {0}-byte event: the server accepts at most {1} bytes",
                frame.bytes(), client.maxPayload());
        acks.settle(frame.packet().ackId(), new IllegalArgumentException("the event is " + frame.bytes()
                + " bytes; the server accepts at most " + client.maxPayload()));
    }

    /** Lock held. */
    private void checkFits(Frame frame) {
        if (!client.fits(frame)) {
            throw new IllegalArgumentException("the event is " + frame.bytes() + " bytes; the server accepts at most "
                    + client.maxPayload());
        }
        if (frame.bytes() > client.options().sendQueueBytes()) {
            throw new IllegalArgumentException("the event is " + frame.bytes() + " bytes; the send queue holds at most "
                    + client.options().sendQueueBytes());
        }
    }

    /** Lock held. */
    private void markDisconnected(String reason) {
        if (!connected) {
            return;
        }
        connected = false;
        id = null;
        epoch++;
        reliableQueue.pause();
        // The server fails the acks it owes at a drop and never replays them (docs/PROTOCOL.md,
        // Recovery): an event already sent will not be answered, so fail it now rather than at
        // its timeout, as the browser client does. Those still buffered go out after the next connect.
        Set<Long> unsent = new HashSet<>();
        sendBuffer.forEach(buffered -> unsent.add(buffered.frame.packet().ackId()));
        acks.failSent(unsent);
        disconnectListeners.forEach(listener -> client.callbacks.add(() -> listener.accept(reason)));
    }

    /** Lock held. */
    private void connectReceived(Packet packet) {
        if (voidAnswer()) {
            return;
        }
        connectPending = false;
        if (!active) {
            // disconnect() was called meanwhile; its disconnect packet follows our connect.
            return;
        }
        boolean wasConnected = connected;
        ConnectAnswer answer = SwitchboardClient.CODEC.readConnected(packet);
        id = answer.id();
        pid = answer.pid();
        recovered = answer.recovered();
        if (!recovered) {
            // A fresh session: offsets of the old one mean nothing to it, and would make the next
            // recovery fail.
            offset = null;
            reliableQueue.failSentToTheLostSession();
        }
        connected = true;
        reconnecting = true;
        refusal = null;
        if (!wasConnected) {
            epoch++;
            client.socketConnected();
            connectListeners.forEach(listener -> client.callbacks.add(listener));
            for (CompletableFuture<ClientSocket> waiter : connectWaiters) {
                client.callbacks.add(() -> waiter.complete(this));
            }
            connectWaiters.clear();
        }
        client.sendEvents();
    }

    /** Lock held. */
    private void connectErrorReceived(Packet packet) {
        if (voidAnswer()) {
            return;
        }
        connectPending = false;
        if (!active) {
            return;
        }
        // Like socket.io: a refused socket waits for the application to call connect().
        active = false;
        pid = null;
        offset = null;
        markDisconnected("io server disconnect");
        ConnectRefusal refusal = SwitchboardClient.CODEC.readConnectError(packet);
        connectFailed(new ConnectError(refusal.message(), refusal.data()), true);
        client.socketDone();
    }

    /** Whether a connect answer is the one due to a connect left before it was answered. Lock held. */
    private boolean voidAnswer() {
        if (voidAnswers == 0) {
            return false;
        }
        voidAnswers--;
        return true;
    }

    /** Lock held. */
    private void disconnectReceived(Packet packet) {
        String reason = SwitchboardClient.CODEC.readDisconnect(packet);
        connectPending = false;
        // After a recoverable reason the server holds the session: the socket stays active and
        // reconnects with the WebSocket, instead of waiting for connect().
        DisconnectReason known = DisconnectReason.fromText(reason);
        boolean recoverable = known != null && known.recoverable();
        if (!recoverable) {
            active = false;
            pid = null;
            offset = null;
        }
        markDisconnected(reason == null ? "io server disconnect" : reason);
        if (!recoverable) {
            client.socketDone();
        }
    }

    /** Lock held. */
    private void eventReceived(Packet packet) {
        if (!connected) {
            LOG.log(Level.DEBUG, "ignoring event {0} on {1}: not connected", packet.event(), namespace);
            return;
        }
        // Volatile events carry no offset: the last one seen stays the one to recover from.
        if (packet.offset() != null) {
            offset = packet.offset();
            client.offsetReceived(offset);
        }
        ClientEvent event = new ClientEvent(this, packet.event(), Arguments.from(packet), packet.ackId(), epoch);
        client.callbacks.add(() -> dispatch(event));
    }

    /** Lock held. */
    private void errorReceived(Packet packet) {
        ErrorReport error = SwitchboardClient.CODEC.readError(packet);
        if (error.ackId() > 0) {
            // The server refused an event of ours that asked for an ack; no ack will follow.
            String message = error.message() != null ? error.message() : "refused: " + error.code();
            ackReceived(error.ackId(), new AckErrorException(message, error.code(), null));
        }
        errorListeners.forEach(listener -> client.callbacks.add(() -> listener.accept(packet)));
        if (errorListeners.isEmpty()) {
            LOG.log(Level.WARNING, "server error on {0}: {1} {2}", namespace, error.code(), error.message());
        }
    }

    /** Lock held. {@code result} is the {@link Arguments} or the {@link AckErrorException}. */
    private void ackReceived(long ackId, Object result) {
        if (!acks.settle(ackId, result) && !reliableQueue.acknowledged(ackId, result)) {
            LOG.log(Level.DEBUG, "ignoring ack {0} on {1}: nothing waits for it (timed out?)", ackId, namespace);
        }
    }

    private static Object ackResult(Packet packet) {
        RawJson error = SwitchboardClient.CODEC.readAckError(packet);
        return error != null ? AckErrorException.fromAckError(error) : Arguments.from(packet);
    }

    private void enqueueReliable(String event, Payload raw, Duration timeout, CompletableFuture<Arguments> future) {
        long ackId = client.nextAckId();
        String msgId = reliableQueue.nextMessageId();
        Frame frame = encode(SwitchboardClient.CODEC.withMessageId(Packet.event(namespace, event, raw, ackId), msgId));
        client.locked(() -> {
            if (client.closedLocked()) {
                if (future != null) {
                    future.completeExceptionally(new CancellationException("the client is closed"));
                }
                return;
            }
            checkFits(frame);
            if (bufferFull(future)) {
                return;
            }
            reliableQueue.add(event, frame, ackId, timeout, future);
            client.sendEvents();
        });
    }

    /** Runs on the callback queue, without the lock. */
    private void dispatch(ClientEvent event) {
        for (BiConsumer<String, Arguments> listener : anyListeners) {
            invoke(() -> listener.accept(event.name(), event.args()));
        }
        boolean handled = false;
        List<Registration> registrations = listeners.get(event.name());
        if (registrations != null) {
            for (Registration registration : registrations) {
                if (registration.once) {
                    if (!registration.used.compareAndSet(false, true)) {
                        continue;
                    }
                    registrations.remove(registration);
                }
                handled = true;
                invoke(() -> registration.listener.onEvent(event));
            }
        }
        if (!handled && event.hasAck()) {
            event.ack();
        }
    }

    /** Runs one listener; its exception is logged so the others still run. */
    private static void invoke(Runnable listener) {
        try {
            listener.run();
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "a Switchboard client listener threw", e);
        }
    }

    private static void checkEventName(String event) {
        Objects.requireNonNull(event, "event");
        if (event.isEmpty() || event.length() > JsonWireCodec.MAX_EVENT_NAME_LENGTH) {
            throw new IllegalArgumentException("event names are 1 to " + JsonWireCodec.MAX_EVENT_NAME_LENGTH
                    + " characters: '" + event + "'");
        }
        if (ReservedEvents.contains(event)) {
            throw new IllegalArgumentException("'" + event + "' is a reserved event name");
        }
    }

    private static Frame encode(Packet packet) {
        return Frame.encode(SwitchboardClient.CODEC, packet);
    }

    /** A listener and whether it is for one event only. */
    private static final class Registration {
        final ClientListener listener;
        final boolean once;
        final AtomicBoolean used = new AtomicBoolean();

        Registration(ClientListener listener, boolean once) {
            this.listener = listener;
            this.once = once;
        }
    }

    /** A plain emit waiting to be sent, with its place in the order of emits. */
    private record Buffered(Frame frame, long sequence) {
    }

    /**
     * Emits with acknowledgement and a timeout of its own; from {@link ClientSocket#timeout}.
     *
     * <pre>{@code
     * Arguments reply = socket.timeout(Duration.ofMillis(500)).emitWithAck("ping").get();
     * }</pre>
     */
    public static final class TimedEmitter {
        private final ClientSocket socket;
        private final Duration timeout;

        TimedEmitter(ClientSocket socket, Duration timeout) {
            this.socket = socket;
            this.timeout = timeout;
        }

        /** Like {@link ClientSocket#emitWithAck(String, Object...)}, with this emitter's timeout. */
        public CompletableFuture<Arguments> emitWithAck(String event, Object... args) {
            return socket.emitWithAck(event, timeout, args);
        }
    }

    /**
     * Emits that are dropped, not buffered, while the socket is not connected, the server's
     * rate limit allows no event right now, or frames are still waiting to be written (positions,
     * typing indicators); from
     * {@link ClientSocket#asVolatile()}. They bypass the buffer and the at-least-once queue, so
     * they may overtake emits waiting there.
     *
     * <pre>{@code
     * socket.asVolatile().emit("cursor", x, y);
     * }</pre>
     */
    public static final class VolatileEmitter {
        private final ClientSocket socket;

        VolatileEmitter(ClientSocket socket) {
            this.socket = socket;
        }

        /** Sends an event if the socket is connected, the server's rate limit allows one now and the writer keeps up, else drops it. */
        public void emit(String event, Object... args) {
            socket.emitVolatile(event, args);
        }
    }
}
