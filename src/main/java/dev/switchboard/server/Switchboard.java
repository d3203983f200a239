package dev.switchboard.server;

import dev.switchboard.adapter.ClusterStatus;
import dev.switchboard.api.Handshake;
import dev.switchboard.outbound.SendBudget;
import dev.switchboard.outbound.Transport;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A real-time event server: namespaces of sockets that emit and listen to events, rooms, users,
 * acknowledgements. It is container-neutral; a transport (the JSR 356 endpoint, the standalone
 * Grizzly server, a WAR) feeds it connections.
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * server.onConnection(socket -> {
 *     socket.on("chat", String.class, (text, event) -> socket.broadcast().emit("chat", text));
 * });
 * try (StandaloneServer http = StandaloneServer.start(server, "0.0.0.0", 8080, Path.of("webapp"))) { ... }
 * }</pre>
 *
 * <p>The methods without a namespace act on the default namespace {@code "/"}.
 *
 * <p>Threads: containers' threads read and close connections; the one timer thread
 * ({@code switchboard-timers}) drives heartbeats, close deadlines and the handler watch, and only
 * those: it never runs application code, so that no listener can delay another connection's ping.
 * Every timer whose work can reach application code (a socket's end after a ping timeout and its
 * disconnect listeners, session expiry, ack timeouts and the futures chained on them, slow-consumer
 * eviction, handler-timeout failures) hands that work to the callback threads
 * ({@code switchboard-callbacks-N}, a bounded pool, or {@link SwitchboardOptions#callbackExecutor()}).
 */
public final class Switchboard implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Switchboard.class.getName());
    /** How often a drain looks whether its last connection has gone. */
    private static final long DRAIN_CHECK_MILLIS = 20;

    private final SwitchboardOptions options;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    /** Runs what timers set off that can reach application code; see the class comment. */
    private final Executor callbacks;
    /** The private pool behind {@code callbacks}, shut down with the server; null when the application gave one. */
    private final ExecutorService ownCallbacks;
    private final OriginPolicy originPolicy;
    private final Metrics metrics = new Metrics(this);
    private final Warnings warnings;
    private final Hooks hooks;
    private final SendBudget sendBudget;
    /** Held by the one thread evicting for the send budget; others wait, then find room or evict further. */
    private final Object budgetRelief = new Object();
    private final Map<String, Namespace> namespaces = new ConcurrentHashMap<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /**
     * Open connections per client address (as {@link SwitchboardOptions#addressKey} counts it),
     * for the per-address cap; entries vanish at zero.
     */
    private final Map<String, Integer> perAddress = new ConcurrentHashMap<>();
    /**
     * Sessions waiting on this node for their clients, all namespaces, by client address (as
     * {@link SwitchboardOptions#addressKey} counts it), for
     * {@code maxWaitingSessions}; entries vanish at zero. Guarded by itself, with {@link #waiting}.
     */
    private final Map<String, Integer> waitingPerAddress = new HashMap<>();
    /** Sessions waiting on this node in all; guarded by {@link #waitingPerAddress}. */
    private int waiting;
    private final AtomicLong ackIds = new AtomicLong();
    private final AtomicLong offsets = new AtomicLong();
    private final Frame pingFrame;
    /** Every connection's next ping, on one timer task. */
    private final PingSchedule pings;
    /** Fails events whose listeners overrun the handler timeout; one timer for all, not one per event. */
    private final ScheduledFuture<?> handlerWatch;
    private final ScheduledFuture<?> warningSummaries;
    private final StallWatch stallWatch;
    private final ScheduledFuture<?> stallTicks;
    private volatile boolean accepting = true;
    /** Set once by {@link #drain}; read by the transports' upgrade checks. */
    private volatile boolean draining;
    /** Set once by {@link #shutdown}: what would retry against a shared store stops. */
    private volatile boolean closing;

    private Switchboard(SwitchboardOptions options) {
        this.options = options;
        this.ownsScheduler = options.scheduler() == null;
        this.scheduler = ownsScheduler ? newScheduler() : options.scheduler();
        this.ownCallbacks = options.callbackExecutor() == null ? newCallbackPool() : null;
        this.callbacks = ownCallbacks != null ? ownCallbacks : options.callbackExecutor();
        this.originPolicy = new OriginPolicy(options.allowedOrigins());
        this.warnings = new Warnings();
        this.hooks = new Hooks(warnings, metrics);
        this.sendBudget = new SendBudget(options.sendBudgetBytes());
        this.pingFrame = Frame.encode(options.codec(), Packet.of(PacketType.PING, Packet.ROOT_NAMESPACE, null));
        this.pings = new PingSchedule(options.clock(), options.pingInterval(), scheduler);
        options.sessionStore().onOrphanExpired(record -> {
            Namespace namespace = existingNamespace(record.namespace());
            if (namespace != null) {
                namespace.recovery().orphanExpired(record);
            }
        });
        long checkEvery = Math.max(10, options.handlerTimeout().toMillis() / 10);
        this.handlerWatch = scheduler.scheduleWithFixedDelay(this::checkHandlers, checkEvery, checkEvery,
                TimeUnit.MILLISECONDS);
        long summaryEvery = Warnings.SUMMARY_PERIOD.toMillis();
        this.warningSummaries = scheduler.scheduleWithFixedDelay(() -> callback(warnings::summarise), summaryEvery,
                summaryEvery, TimeUnit.MILLISECONDS);
        this.stallWatch = new StallWatch(options.clock());
        this.stallTicks = scheduler.scheduleWithFixedDelay(stallWatch::tick, StallWatch.TICK_MILLIS,
                StallWatch.TICK_MILLIS, TimeUnit.MILLISECONDS);
        of(Packet.ROOT_NAMESPACE);
    }

    /** A server with the default options. */
    public static Switchboard create() {
        return new Switchboard(SwitchboardOptions.defaults());
    }

    /** A server with these options. */
    public static Switchboard create(SwitchboardOptions options) {
        return new Switchboard(options);
    }

    private static ScheduledExecutorService newScheduler() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "switchboard-timers");
            thread.setDaemon(true);
            return thread;
        });
        // Cancelled heartbeats and ack timers must not pile up until their due time.
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /**
     * A pool of as many threads as cores (two at least). Its queue is not bounded, so that no
     * disconnect or expiry is ever dropped; what it holds is: at most one task per timer that fired,
     * and timers are bounded by the connections, sessions and pending acks.
     */
    private static ExecutorService newCallbackPool() {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, "switchboard-callbacks-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // An idle server keeps no threads, and a stopped web application leaves none behind.
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** The namespace of that name, created on first use. Names start with {@code "/"}. */
    public Namespace of(String name) {
        if (name == null || !name.startsWith("/")) {
            throw new IllegalArgumentException("namespace names start with '/': " + name);
        }
        return namespaces.computeIfAbsent(name, n -> new Namespace(n, this));
    }

    /** The default namespace {@code "/"}. */
    public Namespace root() {
        return namespaces.get(Packet.ROOT_NAMESPACE);
    }

    /** Every namespace, by name. */
    public Map<String, Namespace> namespaces() {
        return Map.copyOf(namespaces);
    }

    /** Adds middleware to the default namespace. */
    public Switchboard use(Middleware middleware) {
        root().use(middleware);
        return this;
    }

    /** Listens to connections on the default namespace. */
    public Switchboard onConnection(Consumer<Socket> listener) {
        root().onConnection(listener);
        return this;
    }

    /** Emits to every socket of the default namespace. */
    public void emit(String event, Object... args) {
        root().emit(event, args);
    }

    /** Sockets of the default namespace in these rooms. */
    public BroadcastOperator to(String... rooms) {
        return root().to(rooms);
    }

    /** Every socket of a user in the default namespace. */
    public BroadcastOperator toUser(String userId) {
        return root().toUser(userId);
    }

    /** The options. */
    public SwitchboardOptions options() {
        return options;
    }

    /** The counters. */
    public Metrics metrics() {
        return metrics;
    }

    /** The bound on bytes queued to all clients together, and what is queued now. */
    public SendBudget sendBudget() {
        return sendBudget;
    }

    /** Which origins may connect; transports check it before the upgrade. */
    public OriginPolicy originPolicy() {
        return originPolicy;
    }

    /** Open connections. */
    public int connectionCount() {
        return connections.size();
    }

    /** The open connections, for monitoring. */
    public List<Connection> connections() {
        return List.copyOf(connections);
    }

    /** Whether new connections are accepted (false once shutdown or a drain began). */
    public boolean accepting() {
        return accepting;
    }

    /** Whether the server is draining for a restart ({@link #drain}): proxies should send new clients elsewhere. */
    public boolean draining() {
        return draining;
    }

    /**
     * Whether every namespace's adapter can serve new clients: false while a cluster node cannot
     * reach the cluster's store, when new connections are refused with 1013 (try again later).
     */
    public boolean available() {
        return namespaces.values().stream().allMatch(namespace -> namespace.adapter().available());
    }

    /** The cluster as this node sees it; a {@link ClusterStatus#SINGLE_NODE} without a cluster adapter. */
    public ClusterStatus clusterStatus() {
        return root().adapter().clusterStatus();
    }

    /**
     * Starts serving one connection; called by transports once the WebSocket is open.
     *
     * @return the connection, or {@code null} when the server refuses it: shutting down, the
     *         cluster unavailable, or a connection cap reached; the transport then closes with
     *         1012 while draining, 1001 while shutting down, 1013 otherwise
     */
    public Connection open(Transport transport, Handshake handshake) {
        return open(transport, handshake, options.codec());
    }

    /**
     * Starts serving one connection that speaks another wire format than the server's own: the
     * same namespaces, rooms and sessions, each frame encoded as {@code codec} encodes it.
     *
     * <pre>{@code
     * Connection connection = server.open(transport, handshake, new SocketIoCodec(server.options().recoveryEnabled()));
     * }</pre>
     *
     * @return the connection, or {@code null} when the server refuses it, as {@link #open(Transport, Handshake)}
     */
    public Connection open(Transport transport, Handshake handshake, Codec codec) {
        if (!accepting) {
            return null;
        }
        if (!available()) {
            metrics.refusedUnavailable.increment();
            return null;
        }
        if (!claimConnectionSlot(options.addressKey(handshake.remoteAddress()))) {
            return null;
        }
        Connection connection = new Connection(this, transport, handshake, codec);
        connections.add(connection);
        if (!accepting) {
            // A drain or a shutdown began while this connection opened, and may have listed the
            // connections before this one joined them: it ends this one as it ends the others.
            // Before its start, whose heartbeat would otherwise time out at once (4000) on a
            // timer that a finished shutdown no longer runs.
            connection.terminate(draining ? DisconnectReason.SERVER_RESTARTING : DisconnectReason.SERVER_SHUTTING_DOWN);
            return connection;
        }
        connection.start();
        return connection;
    }

    private boolean claimConnectionSlot(String address) {
        if (connections.size() >= options.maxConnections()) {
            metrics.refusedConnections.increment();
            warnings.warn(LOG, "connection refused: maxConnections reached", "from " + address, null);
            return false;
        }
        boolean[] admitted = {true};
        perAddress.compute(address, (key, count) -> {
            int open = count == null ? 0 : count;
            if (open >= options.maxConnectionsPerAddress()) {
                admitted[0] = false;
                return count;
            }
            return open + 1;
        });
        if (!admitted[0]) {
            metrics.refusedConnections.increment();
            // The client's own address, behind trusted proxies too; kept out of the kind, so the log stays bounded.
            warnings.warn(LOG, "connection refused: maxConnectionsPerAddress reached", "from " + address, null);
        }
        return admitted[0];
    }

    /**
     * Drains this server for a rolling restart: it stops accepting connections (the transports
     * answer upgrades with 503, which a proxy such as nginx passes on to another node) and closes its open
     * connections with 1012 ({@code server restarting}) one by one, spread evenly over
     * {@code spread} so that their clients do not all reconnect in the same second. Each client
     * reconnects by itself (to another node behind a proxy) and may recover its session where the
     * session store and adapter are shared. Call {@link #close()} once the returned future
     * completes.
     *
     * <pre>{@code
     * server.drain(Duration.ofSeconds(30), Duration.ofSeconds(60)).join();
     * server.close();
     * }</pre>
     *
     * @param spread   the window over which connections are closed
     * @param deadline when to stop waiting for the last connections to close
     * @return completes with {@code true} once no connection is left, {@code false} at the deadline
     */
    public CompletableFuture<Boolean> drain(Duration spread, Duration deadline) {
        draining = true;
        accepting = false;
        List<Connection> open = List.copyOf(connections);
        long step = open.isEmpty() ? 0 : spread.toNanos() / open.size();
        for (int i = 0; i < open.size(); i++) {
            Connection connection = open.get(i);
            later(() -> connection.terminate(DisconnectReason.SERVER_RESTARTING), Duration.ofNanos(i * step));
        }
        CompletableFuture<Boolean> drained = new CompletableFuture<>();
        ScheduledFuture<?> watch = scheduler.scheduleWithFixedDelay(() -> {
            if (connections.isEmpty()) {
                drained.complete(true);
            }
        }, 0, DRAIN_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        Runnable atDeadline = () -> drained.complete(connections.isEmpty());
        ScheduledFuture<?> giveUp = scheduler.schedule(atDeadline, deadline.toMillis(), TimeUnit.MILLISECONDS);
        drained.whenComplete((empty, error) -> {
            watch.cancel(false);
            giveUp.cancel(false);
        });
        return drained;
    }

    /** Shuts down within the configured grace period; see {@link #shutdown(Duration)}. */
    @Override
    public void close() {
        shutdown(options.shutdownGrace());
    }

    /**
     * Stops accepting connections, tells every client the server is going away (1001) after
     * flushing its queue, and waits up to {@code grace} for all connections to close.
     *
     * @return whether every connection closed in time
     */
    public boolean shutdown(Duration grace) {
        closing = true;
        accepting = false;
        for (Connection connection : List.copyOf(connections)) {
            connection.terminate(DisconnectReason.SERVER_SHUTTING_DOWN);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            while (!connections.isEmpty() && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean drained = connections.isEmpty();
        handlerWatch.cancel(false);
        warningSummaries.cancel(false);
        stallTicks.cancel(false);
        namespaces.values().forEach(namespace -> namespace.adapter().close());
        if (ownsScheduler) {
            scheduler.shutdownNow();
        }
        if (ownCallbacks != null) {
            // What is queued still runs (disconnect listeners of connections that timed out just before).
            ownCallbacks.shutdown();
            awaitCallbacks(deadline);
        }
        warnings.summarise();
        if (!drained) {
            LOG.log(System.Logger.Level.WARNING, "{0} connections still open after shutdown grace", connections.size());
        }
        return drained;
    }

    private void awaitCallbacks(long deadlineNanos) {
        try {
            ownCallbacks.awaitTermination(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- inside the server ----

    Namespace existingNamespace(String name) {
        return namespaces.get(name);
    }

    /**
     * Counts a session that starts waiting here for its client from {@code address}, an
     * {@linkplain SwitchboardOptions#addressKey address key}; answers
     * whether it is within {@code maxWaitingSessions}. One past a cap is counted too, until it
     * ends. Never blocks: called under a socket's log lock.
     */
    boolean sessionWaits(String address) {
        synchronized (waitingPerAddress) {
            int fromAddress = waitingPerAddress.getOrDefault(address, 0);
            boolean within = waiting < options.maxWaitingSessions() && fromAddress < options.maxWaitingSessionsPerAddress();
            waitingPerAddress.put(address, fromAddress + 1);
            waiting++;
            return within;
        }
    }

    /** A session counted by {@link #sessionWaits} no longer waits: resumed, ended, or gone to another node. */
    void sessionStoppedWaiting(String address) {
        synchronized (waitingPerAddress) {
            waitingPerAddress.computeIfPresent(address, (key, count) -> count > 1 ? count - 1 : null);
            waiting--;
        }
    }

    void removeConnection(Connection connection) {
        if (connections.remove(connection)) {
            perAddress.computeIfPresent(options.addressKey(connection.handshake().remoteAddress()),
                    (key, count) -> count > 1 ? count - 1 : null);
        }
    }

    private record QueueSize(Connection connection, long bytes) {
    }

    /**
     * Makes room for {@code bytes} in the send budget by evicting the connections with the most
     * bytes waiting as slow consumers, largest first: they are the clients furthest behind, and
     * each eviction frees the most. Ranked by what waits, not by what is in flight, which an
     * eviction cannot free; a client with nothing waiting is never evicted here.
     *
     * @return whether the bytes fit now; false when {@code offering} has the most waiting of those
     *         left, so that it is the one to evict
     */
    boolean relieveSendBudget(Connection offering, long bytes) {
        synchronized (budgetRelief) {
            // Sizes taken once: they change under a sort that compared them live.
            List<QueueSize> largestFirst = connections.stream()
                    .map(connection -> new QueueSize(connection, connection.waitingBytes()))
                    .filter(queue -> queue.bytes() > 0)
                    .sorted(Comparator.comparingLong(QueueSize::bytes).reversed()).toList();
            for (QueueSize queue : largestFirst) {
                if (sendBudget.fits(bytes)) {
                    return true;
                }
                if (queue.connection() == offering) {
                    return false;
                }
                queue.connection().evictSlowConsumer();
            }
            return sendBudget.fits(bytes);
        }
    }

    StallWatch stallWatch() {
        return stallWatch;
    }

    Codec codec() {
        return options.codec();
    }

    private void checkHandlers() {
        long now = options.clock().millis();
        for (Connection connection : connections) {
            try {
                connection.checkHandler(now);
            } catch (RuntimeException e) {
                // A periodic task that throws is never run again: the other connections stay watched.
                warnings.warn(LOG, "handler check of a connection failed", e);
            }
        }
    }

    /**
     * Runs {@code task} on a callback thread after {@code delay}: the timer thread only hands it
     * over. For anything that can reach application code. When the scheduler no longer takes tasks
     * (an application-owned scheduler stopped first), the task is handed over now: the failure paths
     * that use timers must still end connections and free sessions.
     *
     * <pre>{@code
     * server.later(() -> socket.emit("reminder"), Duration.ofMinutes(5));
     * }</pre>
     *
     * @return the timer, or {@code null} when the task was handed over at once
     */
    public ScheduledFuture<?> later(Runnable task, Duration delay) {
        return timer(() -> callback(task), delay);
    }

    /**
     * Runs {@code task} on the timer thread itself after {@code delay} (now, on this thread, when
     * the scheduler no longer takes tasks). Only for the server's own bookkeeping that never
     * reaches application code (heartbeats, close deadlines): it must stay on time.
     *
     * @return the timer, or {@code null} when the task already ran
     */
    ScheduledFuture<?> timer(Runnable task, Duration delay) {
        try {
            return scheduler.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            task.run();
            return null;
        }
    }

    /** Runs {@code task} on a callback thread, or on this one once the callback threads are shut down. */
    void callback(Runnable task) {
        try {
            callbacks.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    /**
     * Whether {@link #shutdown} began. Retries stop then: past it the timers run their tasks at
     * once, and a store that no longer answers would be asked again without pause.
     */
    boolean closing() {
        return closing;
    }

    /** Where warnings that clients can set off go, rate-limited. */
    Warnings warnings() {
        return warnings;
    }

    /** Where the server calls the application's code. */
    Hooks hooks() {
        return hooks;
    }

    PingSchedule pings() {
        return pings;
    }

    Frame pingFrame() {
        return pingFrame;
    }

    long nextAckId() {
        return ackIds.incrementAndGet();
    }

    String nextOffset() {
        return Long.toString(offsets.incrementAndGet());
    }
}
