package dev.switchboard.client;

import dev.switchboard.outbound.OutboundQueue.Offer;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.ErrorReport;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Hello;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * A Switchboard client: one WebSocket to a server, carrying any number of namespace sockets
 * (the "manager" of socket.io-client). It connects in the background, answers the server's
 * heartbeat, and reconnects with exponential backoff, recovering each socket's session when the
 * server still holds it.
 *
 * <pre>{@code
 * try (SwitchboardClient client = SwitchboardClient.connect(URI.create("ws://localhost:8080/switchboard"))) {
 *     ClientSocket chat = client.socket("/chat", Map.of("token", "s3cret"));
 *     chat.on("message", String.class, text -> System.out.println("got " + text));
 *     chat.whenConnected().get(5, TimeUnit.SECONDS);
 *     Arguments reply = chat.emitWithAck("message", "hi").get();
 * }
 * }</pre>
 *
 * <h2>Threading</h2>
 * All methods are thread-safe. Callbacks (event listeners, connect and disconnect listeners,
 * reconnection listeners, and the completion of the futures this API returns) of one client never
 * run concurrently and run in the order things happened. They run on the JDK WebSocket's thread
 * (frames from the server), on the timer thread (timeouts, reconnection), or on the thread of an
 * application call that caused them (such as {@link ClientSocket#disconnect()} or
 * {@link #close()}); while one runs, later ones wait for it, and the thread running it may go on
 * to run them. So callbacks must not block: no {@code future.get()} on an ack, no slow I/O.
 * Exceptions they throw are logged.
 */
public final class SwitchboardClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());
    static final Codec CODEC = new JsonWireCodec();
    /** How long a closing client waits for the server's Close frame before dropping the TCP connection. */
    private static final long CLOSE_GRACE_MILLIS = 2000;
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
    /**
     * PROTOCOL.md asks for 1002, but the JDK's WebSocket refuses to send it (it allows only 1000,
     * 1001, 1008, 1011 and 3000-4999). 1000 ends the connection without a recovery session; the
     * reason text says why.
     */
    private static final int UNSUPPORTED_VERSION_CLOSE_CODE = 1000;
    /**
     * The reasons whose close code names them on its own, as the browser client reads them: 1000
     * is shared, 1006 never travels in a close frame, 1011 is also what a failing container sends,
     * and 1013 also refuses a connection over a cap.
     */
    private static final Set<DisconnectReason> NAMED_BY_CLOSE_CODE = EnumSet.of(DisconnectReason.SERVER_SHUTTING_DOWN,
            DisconnectReason.POLICY_VIOLATION, DisconnectReason.SERVER_RESTARTING, DisconnectReason.PING_TIMEOUT,
            DisconnectReason.SLOW_CONSUMER, DisconnectReason.TOKEN_EXPIRED);

    /** Where the WebSocket stands. */
    private enum State {
        /** Opening a WebSocket. */
        CONNECTING,
        /** The WebSocket is open. */
        OPEN,
        /** Waiting for the backoff delay before the next attempt. */
        WAITING,
        /** Not connected and not trying (reconnection off or exhausted); a socket's connect() restarts. */
        IDLE,
        /** {@link #close()} was called; final. */
        CLOSED
    }

    private final URI uri;
    private final ClientOptions options;
    /** The shared client, or one of this client's own for its TLS context; kept for every reconnection. */
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final AtomicLong ackIds = new AtomicLong();

    /** Guards the mutable state of this client and of all its sockets. */
    final Object lock = new Object();
    final CallbackQueue callbacks = new CallbackQueue();

    // Copy-on-write: registering needs no lock, delivery iterates a snapshot.
    private final List<IntConsumer> reconnectAttemptListeners = new CopyOnWriteArrayList<>();
    private final List<IntConsumer> reconnectListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> reconnectFailedListeners = new CopyOnWriteArrayList<>();

    // All guarded by lock.
    private State state = State.IDLE;
    private ClientConnection current;     // the WebSocket being opened or open, else null
    private ClientConnection toStart;     // opened once the lock is released, see locked()
    private final Map<String, ClientSocket> sockets = new LinkedHashMap<>();
    private boolean helloSeen;
    private String sessionId;
    private long pingInterval;
    private long pingTimeout;
    private long maxPayload;              // 0 until hello says
    private SendPace pace;                // the server's event rate limit; null until hello announces one
    private ScheduledFuture<?> paceTimer; // sends the waiting events when the pace allows
    private long emitSequence;            // orders the events waiting on all sockets
    private String lastOffset;            // of the last event received on any socket, for pong
    private int attempts;                 // reconnection attempts since a socket last connected
    private ScheduledFuture<?> reconnectTimer;
    private ScheduledFuture<?> watchdog;
    private long watchdogGeneration;      // a watchdog that fires late for an older arming is ignored

    private SwitchboardClient(URI uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        this.http = options.sslContext() == null ? Http.CLIENT : HttpClient.newBuilder().sslContext(options.sslContext()).build();
        if (options.scheduler() != null) {
            this.scheduler = options.scheduler();
            this.ownsScheduler = false;
        } else {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "switchboard-client-" + THREAD_NUMBER.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            this.scheduler = executor;
            this.ownsScheduler = true;
        }
    }

    /** Connects with {@link ClientOptions#defaults()}; see {@link #connect(URI, ClientOptions)}. */
    public static SwitchboardClient connect(URI uri) {
        return connect(uri, ClientOptions.defaults());
    }

    /**
     * Starts connecting to {@code uri} (like {@code ws://127.0.0.1:8080/switchboard?room=1}) and
     * returns at once. Sockets made with {@link #socket(String)} connect as soon as the WebSocket
     * opens; await one with {@link ClientSocket#whenConnected()}. The first attempt is under way
     * when this returns, so reconnection listeners added afterwards may miss its failure.
     *
     * @throws IllegalArgumentException if the scheme is not {@code ws} or {@code wss}
     */
    public static SwitchboardClient connect(URI uri, ClientOptions options) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(options, "options");
        String scheme = uri.getScheme();
        if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("a Switchboard URI starts with ws:// or wss://: " + uri);
        }
        SwitchboardClient client = new SwitchboardClient(uri, options);
        client.locked(client::openConnection);
        return client;
    }

    /** The socket of the default namespace {@code "/"}. */
    public ClientSocket socket() {
        return socket(Packet.ROOT_NAMESPACE, null);
    }

    /** The socket of a namespace such as {@code "/chat"}, without auth. */
    public ClientSocket socket(String namespace) {
        return socket(namespace, null);
    }

    /**
     * The socket of a namespace, made and connected on first use. {@code auth} (any value JSON-B
     * can map, or {@code null}) travels in every {@code connect} of that socket; it is used only
     * when the socket is made: later calls return the same socket and ignore it.
     *
     * <p>The socket starts connecting before this method returns, so a listener added afterwards
     * may miss its first connect, or an event the server sends right away; where that matters,
     * use {@link ClientOptions.Builder#autoConnect(boolean) autoConnect(false)} and call
     * {@link ClientSocket#connect()} after adding listeners. ({@link ClientSocket#whenConnected()}
     * has no such race.)
     *
     * @throws IllegalArgumentException if the namespace does not start with {@code /}
     * @throws IllegalStateException    if the client is closed
     */
    public ClientSocket socket(String namespace, Object auth) {
        Objects.requireNonNull(namespace, "namespace");
        if (namespace.isEmpty() || namespace.charAt(0) != '/') {
            throw new IllegalArgumentException("a namespace starts with '/': " + namespace);
        }
        // Encoded outside the lock: JSON-B may run application getters.
        RawJson authJson = auth == null ? null : JsonMapper.toRaw(auth);
        return locked(() -> {
            ClientSocket socket = sockets.get(namespace);
            if (socket == null) {
                if (state == State.CLOSED) {
                    throw new IllegalStateException("the client is closed");
                }
                socket = new ClientSocket(this, namespace, authJson, options.autoConnect());
                sockets.put(namespace, socket);
                if (options.autoConnect()) {
                    socketWantsConnection(socket);
                }
            }
            return socket;
        });
    }

    /** The session id from the server's {@code hello}, or {@code null} when not connected. */
    public String sessionId() {
        synchronized (lock) {
            return sessionId;
        }
    }

    /** Whether the WebSocket is open (the namespace sockets may still be connecting). */
    public boolean isOpen() {
        synchronized (lock) {
            return state == State.OPEN;
        }
    }

    /** The server's URI. */
    public URI uri() {
        return uri;
    }

    /** The options this client was made with. */
    public ClientOptions options() {
        return options;
    }

    /** Calls {@code listener} with the attempt number (from 1) when a reconnection attempt starts. */
    public SwitchboardClient onReconnectAttempt(IntConsumer listener) {
        reconnectAttemptListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Calls {@code listener} with the number of attempts it took when a reconnection succeeds:
     * when the server answers a socket's connect, not when the WebSocket opens (a server that
     * opens it, then refuses the session with 1013, has not taken the client back). A reconnection
     * whose every socket is refused ({@code connect_error}) never succeeds.
     */
    public SwitchboardClient onReconnect(IntConsumer listener) {
        reconnectListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Calls {@code listener} when the client gives up after {@link ClientOptions#reconnectionAttempts()}. */
    public SwitchboardClient onReconnectFailed(Runnable listener) {
        reconnectFailedListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Disconnects every socket ("io client disconnect"), closes the WebSocket with 1000 and stops
     * reconnecting; final. Pending acknowledgements are cancelled, and pending
     * {@link ClientSocket#whenConnected()} futures fail (like every callback, possibly on another
     * client thread just after this returns, when one is delivering callbacks right now). Does
     * nothing when already closed.
     */
    @Override
    public void close() {
        locked(() -> {
            if (state == State.CLOSED) {
                return;
            }
            // While the state is still OPEN, the sockets can send their disconnect packets.
            for (ClientSocket socket : sockets.values()) {
                socket.clientClosed();
            }
            stopConnecting(State.CLOSED);
            if (ownsScheduler) {
                // Delayed tasks already queued (the grace abort) still run after shutdown().
                scheduler.shutdown();
            }
        });
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "SwitchboardClient[" + uri + ", " + state + ", sid=" + sessionId + "]";
        }
    }

    // ---- package-private API for ClientSocket; the lock must be held where noted ----

    /**
     * Runs {@code body} under the lock, then (without it) starts a connection the body asked for
     * and runs the callbacks it queued.
     */
    void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    <T> T locked(Supplier<T> body) {
        if (Thread.holdsLock(lock)) {
            // Nested: the outermost call starts the connection and runs the callbacks, so that
            // neither happens under the lock.
            return body.get();
        }
        ClientConnection start;
        T result;
        boolean queued = false;
        try {
            synchronized (lock) {
                long before = callbacks.added();
                try {
                    result = body.get();
                } finally {
                    start = toStart;
                    toStart = null;
                    queued = callbacks.added() != before;
                }
            }
            if (start != null) {
                start.open(webSocketBuilder(), uri);
            }
        } finally {
            // Only a thread that queued callbacks runs them, so an application thread that merely
            // emits does not end up running listeners that another thread is about to run.
            if (queued) {
                callbacks.drain();
            }
        }
        return result;
    }

    /** A fresh ack id; unique for the client's lifetime, so also per connection. */
    long nextAckId() {
        return ackIds.incrementAndGet();
    }

    /** Whether {@link #close()} was called. Lock held. */
    boolean closedLocked() {
        return state == State.CLOSED;
    }

    /**
     * Sends a frame on the open WebSocket. Lock held.
     *
     * @return {@code false} if there is no open WebSocket, the frame exceeds the server's
     *         {@code maxPayload} (the server would close the connection over it), or the
     *         WebSocket's send queue is full (the server is not reading)
     */
    boolean send(Frame frame) {
        return send(frame, false);
    }

    /**
     * Like {@link #send(Frame)}; a {@code droppable} frame (a volatile emit) is also dropped when
     * frames are waiting to be written. Lock held.
     */
    boolean send(Frame frame, boolean droppable) {
        if (state != State.OPEN || current == null) {
            return false;
        }
        if (!fits(frame)) {
            LOG.log(Level.WARNING, "dropping a {0}-byte frame: the server accepts at most {1} bytes",
                    frame.bytes(), maxPayload);
            return false;
        }
        Offer offer = current.send(frame, droppable);
        if (offer == Offer.OVERFLOW) {
            LOG.log(Level.WARNING, "dropping a {0}-byte frame: {1} bytes are queued unwritten, the server is not reading",
                    frame.bytes(), options.sendQueueBytes());
        }
        return offer == Offer.QUEUED;
    }

    /** Whether a frame is within the server's {@code maxPayload} (unknown before hello: yes). Lock held. */
    boolean fits(Frame frame) {
        return maxPayload <= 0 || frame.bytes() <= maxPayload;
    }

    /** The server's {@code maxPayload}, or 0 before hello. Lock held. */
    long maxPayload() {
        return maxPayload;
    }

    /** The next number in the order of emits across all sockets. Lock held. */
    long nextEmitSequence() {
        return ++emitSequence;
    }

    /** Whether the server's rate limit lets one more event go now; takes it if so. Lock held. */
    boolean takeEventToken() {
        return pace == null || pace.tryTake(System.nanoTime());
    }

    /**
     * Sends the events the sockets have waiting, oldest first, as fast as the server's rate limit
     * allows, and comes back when it allows more: a flush of what was emitted offline must not get
     * the connection closed for flooding. Events wait here, too, while the WebSocket's send queue
     * is full, so a server that stops reading fills the sockets' bounded buffers rather than memory.
     * Lock held.
     */
    void sendEvents() {
        while (state == State.OPEN) {
            ClientSocket oldest = null;
            long oldestSince = Long.MAX_VALUE;
            for (ClientSocket socket : sockets.values()) {
                long since = socket.readySince();
                if (since < oldestSince) {
                    oldest = socket;
                    oldestSince = since;
                }
            }
            if (oldest == null) {
                return;
            }
            if (!current.hasRoomFor(oldest.readyFrame().bytes(), () -> runLater(() -> locked(this::sendEvents)))) {
                return;
            }
            if (!takeEventToken()) {
                if (paceTimer == null) {
                    paceTimer = schedule(pace.millisUntilNext(), () -> locked(() -> {
                        paceTimer = null;
                        sendEvents();
                    }));
                }
                return;
            }
            oldest.sendReadyEvent();
        }
    }

    /** A socket connected: the reconnection, if this was one, succeeded. Lock held. */
    void socketConnected() {
        if (attempts > 0) {
            int tries = attempts;
            reconnectListeners.forEach(listener -> callbacks.add(() -> listener.accept(tries)));
        }
        attempts = 0;
    }

    /** Remembers the offset of an event just received, for pong. Lock held. */
    void offsetReceived(String offset) {
        lastOffset = offset;
    }

    /**
     * A socket became active: sends its connect now if the WebSocket is open, or (re)opens a
     * WebSocket when the client had stopped trying. Lock held.
     */
    void socketWantsConnection(ClientSocket socket) {
        switch (state) {
            case OPEN -> socket.sendConnect();
            case IDLE -> {
                attempts = 0;
                openConnection();
            }
            case CONNECTING, WAITING, CLOSED -> {
                // The socket connects when the WebSocket opens; a closed client never does.
            }
        }
    }

    /**
     * A socket no longer wants the connection: when no socket does, closes the WebSocket and
     * stops reconnecting, as socket.io's manager does. A socket's connect() opens it again.
     * Lock held.
     */
    void socketDone() {
        if (state == State.CLOSED || sockets.values().stream().anyMatch(ClientSocket::activeLocked)) {
            return;
        }
        attempts = 0;
        stopConnecting(State.IDLE);
    }

    /**
     * Stops the reconnection timer and the watchdog and closes the WebSocket, after the
     * disconnect packets already queued. Lock held.
     */
    private void stopConnecting(State next) {
        state = next;
        cancel(reconnectTimer);
        reconnectTimer = null;
        stopWatchdog();
        stopPacing();
        ClientConnection connection = current;
        current = null;
        toStart = null;
        if (connection != null) {
            connection.close(1000, "");
            schedule(CLOSE_GRACE_MILLIS, connection::abort);
        }
    }

    /**
     * Schedules a task on the timer executor; the task should take the lock with
     * {@link #locked(Runnable)}. Returns {@code null} when the executor is shut down.
     */
    ScheduledFuture<?> schedule(long delayMillis, Runnable task) {
        try {
            return scheduler.schedule(task, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    /** Runs a task soon on the timer executor (dropped when it is shut down). */
    void runLater(Runnable task) {
        schedule(0, task);
    }

    static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    // ---- connection lifecycle, called by ClientConnection ----

    void connectionOpened(ClientConnection connection) {
        locked(() -> {
            if (connection != current) {
                connection.abort();
                return;
            }
            state = State.OPEN;
            helloSeen = false;
            sessionId = null;
            maxPayload = 0;
            // Until an event arrives on this connection: the offset of another server process
            // (one restarted, another node) can name an event of this one that the pong would confirm unseen.
            lastOffset = null;
            // Until hello arrives the watchdog waits for it; a server that never says hello is dead.
            armWatchdog(options.connectTimeout().toMillis());
            // The attempts count on until a socket connects (socketConnected): a server at its
            // connection cap accepts the upgrade and closes it at once with 1013, and a cluster
            // node that cannot claim a session says hello first; each must back off and give up
            // like any failed attempt rather than count as a reconnection.
            // Connect right away rather than after hello, to save a round trip.
            for (ClientSocket socket : sockets.values()) {
                if (socket.activeLocked()) {
                    socket.sendConnect();
                }
            }
        });
    }

    void frameReceived(ClientConnection connection, String text) {
        Packet packet;
        try {
            packet = connection.attachments().onText(CODEC.decode(text), text.length());
        } catch (ProtocolException e) {
            LOG.log(Level.WARNING, "ignoring a frame the client cannot read ({0}): {1}", e.getMessage(), abbreviate(text));
            return;
        }
        if (packet != null) {
            wholePacketReceived(connection, packet);
        }
    }

    /** A binary frame: an attachment of the packet before it; one out of place is dropped with that packet. */
    void binaryReceived(ClientConnection connection, byte[] data) {
        Packet packet;
        try {
            packet = connection.attachments().onBinary(data);
        } catch (ProtocolException e) {
            LOG.log(Level.WARNING, "ignoring binary frames the client cannot place: {0}", e.getMessage());
            return;
        }
        if (packet != null) {
            wholePacketReceived(connection, packet);
        }
    }

    private void wholePacketReceived(ClientConnection connection, Packet packet) {
        locked(() -> {
            if (connection == current) {
                packetReceived(connection, packet);
            }
        });
    }

    void connectionClosed(ClientConnection connection, int code, String reason) {
        locked(() -> {
            if (connection == current) {
                LOG.log(Level.DEBUG, "the server closed the connection: {0} {1}", code, reason);
                DisconnectReason lost = NAMED_BY_CLOSE_CODE.stream().filter(named -> named.closeCode() == code)
                        .findFirst().orElse(DisconnectReason.TRANSPORT_CLOSE);
                connectionLost(connection, lost.text(), "connection closed: " + code);
            }
        });
    }

    void connectionFailed(ClientConnection connection, Throwable error) {
        locked(() -> {
            if (connection == current) {
                LOG.log(Level.DEBUG, "connection failed", error);
                connectionLost(connection, DisconnectReason.TRANSPORT_ERROR.text(), describe(error));
            }
        });
    }

    // ---- internals; lock held ----

    private void openConnection() {
        state = State.CONNECTING;
        current = new ClientConnection(this);
        toStart = current;
        for (ClientSocket socket : sockets.values()) {
            socket.retrying();
        }
    }

    private WebSocket.Builder webSocketBuilder() {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(options.connectTimeout());
        options.headers().forEach(builder::header);
        return builder;
    }

    private void packetReceived(ClientConnection connection, Packet packet) {
        switch (packet.type()) {
            case HELLO -> helloReceived(connection, packet);
            case PING -> {
                if (helloSeen) {
                    armWatchdog(pingInterval + pingTimeout);
                }
                if (state == State.OPEN && current != null) {
                    current.sendPong(Frame.encode(CODEC, CODEC.pong(lastOffset)));
                }
            }
            case CONNECT, CONNECT_ERROR, DISCONNECT, EVENT, ACK, ERROR -> {
                ClientSocket socket = sockets.get(packet.namespace());
                if (socket != null) {
                    socket.packetReceived(packet);
                } else if (packet.type() == PacketType.ERROR) {
                    ErrorReport error = CODEC.readError(packet);
                    LOG.log(Level.WARNING, "server error for namespace {0}: {1} {2}", packet.namespace(),
                            error.code(), error.message());
                } else {
                    LOG.log(Level.DEBUG, "ignoring {0} for namespace {1} that has no socket",
                            packet.type().wireName(), packet.namespace());
                }
            }
            case PONG -> LOG.log(Level.DEBUG, "ignoring a pong from the server");
        }
    }

    private void helloReceived(ClientConnection connection, Packet packet) {
        Hello hello = CODEC.readHello(packet);
        long version = hello.version();
        if (version != JsonWireCodec.VERSION) {
            LOG.log(Level.ERROR, "the server speaks protocol version {0}, this client only {1}",
                    version, JsonWireCodec.VERSION);
            current = null;
            stopWatchdog();
            stopPacing();
            connection.close(UNSUPPORTED_VERSION_CLOSE_CODE, "unsupported protocol version " + version);
            schedule(CLOSE_GRACE_MILLIS, connection::abort);
            // Reconnecting cannot help; stay idle until the application asks again.
            state = State.IDLE;
            ConnectError error = ConnectError.of("the server speaks protocol version " + version
                    + ", this client only " + JsonWireCodec.VERSION);
            for (ClientSocket socket : sockets.values()) {
                socket.transportLost(DisconnectReason.TRANSPORT_CLOSE.text());
                if (socket.activeLocked()) {
                    socket.connectFailed(error, false);
                }
                socket.failWaiters(error);
            }
            return;
        }
        helloSeen = true;
        sessionId = hello.sid();
        pingInterval = Math.max(0, hello.pingIntervalMillis());
        pingTimeout = Math.max(0, hello.pingTimeoutMillis());
        maxPayload = Math.max(0, hello.maxPayload());
        pace = hello.eventsPerSecond() > 0 && hello.eventBurst() > 0
                ? new SendPace(hello.eventsPerSecond(), hello.eventBurst(), System.nanoTime()) : null;
        armWatchdog(pingInterval + pingTimeout);
    }

    /**
     * The WebSocket is gone (or never opened): tells the sockets, then waits for the next
     * attempt or gives up.
     */
    private void connectionLost(ClientConnection connection, String reason, String detail) {
        // Open means the server said hello; an upgrade it refused at once failed to reach it.
        boolean wasOpen = state == State.OPEN && helloSeen;
        current = null;
        sessionId = null;
        stopWatchdog();
        stopPacing();
        connection.abort();
        ConnectError error = wasOpen ? null : ConnectError.of("cannot reach the server: " + detail);
        for (ClientSocket socket : sockets.values()) {
            socket.transportLost(reason);
            if (error != null && socket.activeLocked()) {
                socket.connectFailed(error, false);
            }
        }
        if (!options.reconnection()) {
            giveUp(error != null ? error : ConnectError.of("disconnected (" + reason + ") and reconnection is off"));
        } else if (attempts >= options.reconnectionAttempts()) {
            giveUp(ConnectError.of("gave up reconnecting after " + attempts + " attempts"));
            // After giveUp, so that whenConnected() futures have failed when these listeners run.
            reconnectFailedListeners.forEach(listener -> callbacks.add(listener));
        } else {
            long delay = backoff(attempts);
            attempts++;
            int attempt = attempts;
            state = State.WAITING;
            LOG.log(Level.DEBUG, "reconnection attempt {0} in {1} ms", attempt, delay);
            reconnectTimer = schedule(delay, () -> locked(() -> {
                if (state == State.WAITING) {
                    reconnectTimer = null;
                    reconnectAttemptListeners.forEach(listener -> callbacks.add(() -> listener.accept(attempt)));
                    openConnection();
                }
            }));
        }
    }

    private void giveUp(ConnectError error) {
        state = State.IDLE;
        attempts = 0;
        for (ClientSocket socket : sockets.values()) {
            socket.failWaiters(error);
        }
    }

    /** min(base * 2^attempt, max), then varied by up to randomizationFactor either way. */
    long backoff(int attempt) {
        double base = options.reconnectionDelay().toMillis();
        double delay = Math.min(base * Math.pow(2, Math.min(attempt, 62)), options.reconnectionDelayMax().toMillis());
        double factor = options.randomizationFactor();
        if (factor > 0) {
            delay *= 1 + (ThreadLocalRandom.current().nextDouble() * 2 - 1) * factor;
        }
        return Math.round(delay);
    }

    private void armWatchdog(long millis) {
        cancel(watchdog);
        long generation = ++watchdogGeneration;
        ClientConnection connection = current;
        watchdog = schedule(millis, () -> locked(() -> {
            if (connection == current && generation == watchdogGeneration) {
                LOG.log(Level.DEBUG, "no ping from the server for {0} ms", millis);
                connectionLost(connection, DisconnectReason.PING_TIMEOUT.text(), "ping timeout");
            }
        }));
    }

    /** The next connection has a rate limit of its own, announced by its hello. */
    private void stopPacing() {
        cancel(paceTimer);
        paceTimer = null;
        pace = null;
    }

    private void stopWatchdog() {
        cancel(watchdog);
        watchdog = null;
        watchdogGeneration++;
    }

    private static String describe(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName()
                : cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 197) + "...";
    }

    /**
     * One HttpClient for every Switchboard client: each HttpClient owns a selector thread, and
     * tests make many clients. Its threads are daemons, and they deliver the WebSocket callbacks.
     */
    private static final class Http {
        static final HttpClient CLIENT = HttpClient.newHttpClient();
    }
}
