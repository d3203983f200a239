package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.Adapter;
import dev.switchboard.adapter.AdapterFactory;
import dev.switchboard.adapter.ClusterStatus;
import dev.switchboard.adapter.LocalNamespace;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.server.SessionStore;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * This node's membership in a cluster of Switchboard nodes that share one Redis. Each namespace
 * gets a {@link RedisAdapter}: every emit is appended to the namespace's Redis stream, the one
 * order of events for the whole cluster, and every node (the emitting one included) delivers to
 * its own sockets what it reads back, with the entry's id as the offset. Queries and changes to
 * matching sockets go to the other nodes over pub/sub; each node answers for its own sockets, and
 * heartbeats in Redis say which nodes are alive, so a dead node is not waited for. The design,
 * keys and channels are in docs/SCALING.md.
 *
 * <pre>{@code
 * RedisCluster cluster = RedisCluster.builder("redis://127.0.0.1:6379").connect();
 * Switchboard server = Switchboard.create(SwitchboardOptions.builder().adapter(cluster.adapters()).build());
 * cluster.onServerEvent("/chat", "reload", args -> "done");
 * cluster.serverSideEmit("/chat", "reload").thenAccept(answers -> log(answers.size() + " nodes reloaded"));
 * }</pre>
 *
 * <p>Threads: Lettuce's event loop receives; one inbox thread handles what other nodes send, in
 * order; one scheduler thread beats the heartbeat and times requests out; each namespace has a
 * thread that reads its stream.
 */
public final class RedisCluster implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RedisCluster.class.getName());

    /**
     * KEYS: a namespace's log. ARGV: its cap, its retention, the entry. Answers the entry's id.
     * One command for both steps: half the commands an emit costs this node's Redis connection
     * and Redis, and the log never exists without its expiry, even if the node dies in between.
     * An idle namespace's log thus goes away once no session could need it.
     */
    private static final String APPEND = """
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[3])
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return id
            """;
    /**
     * KEYS: the node set, the fenced set, the cluster's epoch. ARGV: this node, the node timeout,
     * how long the fenced set lasts, the Redis time of this node's last beat whose answer it got
     * (0: none), the epoch that beat found (empty: none). Answers whether this node was fenced,
     * whether its beat was there (not, after Redis restarted empty), Redis' time, the epoch, how
     * many nodes it counted dead, those nodes, then the live nodes. Sent whole each time (EVAL),
     * so a Redis restarted empty needs no script loaded again.
     *
     * <p>The fenced set expires, and a node may be cut for longer. Its beat gone from a Redis
     * that still holds the epoch it knew was removed by a node that counted it dead, however
     * long ago (the epoch goes only with a restart, or the logs once every node left), so the
     * beat marks its own node fenced again. One key for the whole cluster, without expiry while
     * any node beats, so that no cut outlasts it.
     *
     * <p>Only a node that beats steadily counts others dead, and only the beats whose answers it got
     * say how steadily: beats that timed out while Redis was frozen still wait in Redis' input, and
     * Redis runs them all when it thaws, one node's queue before another's. Judged by the node set
     * alone, the first node's second stale beat would find its first one recent and the others'
     * stale, though every node lost Redis alike. For the same reason a beat does not take its node
     * out of the fenced set: a stale one would, and its answer would go to nobody.
     */
    private static final String HEARTBEAT = """
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            local timeout = tonumber(ARGV[2])
            local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
            redis.call('ZADD', KEYS[1], now, ARGV[1])
            local epoch = redis.call('GET', KEYS[3])
            if not epoch then
              epoch = tostring(now)
              redis.call('SET', KEYS[3], epoch)
            else
              redis.call('PERSIST', KEYS[3])
            end
            if not previous and epoch == ARGV[5] then
              redis.call('SADD', KEYS[2], ARGV[1])
              redis.call('PEXPIRE', KEYS[2], ARGV[3])
            end
            local dead = {}
            if previous and tonumber(ARGV[4]) >= now - timeout then
              dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - timeout))
              for _, node in ipairs(dead) do
                redis.call('ZREM', KEYS[1], node)
                redis.call('SADD', KEYS[2], node)
                redis.call('PEXPIRE', KEYS[2], ARGV[3])
              end
            end
            local answer = {redis.call('SISMEMBER', KEYS[2], ARGV[1]), previous and 1 or 0, now, epoch, #dead}
            for _, node in ipairs(dead) do table.insert(answer, node) end
            for _, node in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do table.insert(answer, node) end
            return answer
            """;

    /**
     * KEYS: the node set, the cluster's epoch. ARGV: this node, the log retention. The last node
     * to leave lets the epoch expire with the logs, so that a cluster whose nodes all left leaves
     * no key behind, while a node restarted at once, or one cut meanwhile, still finds it.
     */
    private static final String LEAVE = """
            redis.call('ZREM', KEYS[1], ARGV[1])
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('PEXPIRE', KEYS[2], ARGV[2])
            end
            """;

    private final Builder settings;
    private final String nodeId = UUID.randomUUID().toString().substring(0, 8);
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final StatefulRedisPubSubConnection<String, String> subscriptions;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService inbox;
    private final AtomicLong requestIds = new AtomicLong();
    private final Map<String, RedisAdapter> adapters = new ConcurrentHashMap<>();
    private final Map<String, PendingRequest> requests = new ConcurrentHashMap<>();
    private final Map<String, ClusterAcks> broadcasts = new ConcurrentHashMap<>();
    /** Listeners of server-side events, by namespace and event. */
    private final Map<String, Map<String, Function<Arguments, Object>>> serverListeners = new ConcurrentHashMap<>();
    private final RedisSessionStore sessions;
    /** Whether the last heartbeat reached Redis; written by the scheduler. */
    private volatile boolean reachable = true;
    /** When a heartbeat last reached Redis, on the settings' clock; written by the scheduler. */
    private volatile long lastBeatMillis;
    /**
     * Redis' time at the last heartbeat whose answer came (0: none yet); written by the
     * constructor's beat, then the scheduler's.
     */
    private volatile long lastAnsweredBeat;
    /**
     * The cluster's epoch at the last heartbeat whose answer came (empty: none yet); written by
     * the constructor's beat, then the scheduler's.
     */
    private volatile String epoch = "";
    /** Whether a heartbeat ever reached Redis; written by the constructor's beat, then the scheduler's. */
    private volatile boolean beaten;
    /** What metrics and the dashboard show of the cluster. */
    private final ClusterFigures figures = new ClusterFigures();
    /**
     * The nodes whose heartbeat is recent, this one included, and those that announced their
     * arrival since; written under {@code this} by the scheduler and the inbox.
     */
    private volatile Set<String> liveNodes;
    /**
     * The nodes that were alive when this node found Redis restarted empty and have not beaten on
     * it since, with when (on the settings' clock) they stop counting as alive: missing from the
     * new Redis' node set, they are not dead, and are asked until they beat or the node timeout
     * passes. Written by the scheduler, and by the inbox when one leaves.
     */
    private final Map<String, Long> unconfirmed = new ConcurrentHashMap<>();

    private RedisCluster(Builder settings) {
        this.settings = settings;
        // Back within a second of Redis coming back, not after Lettuce's default of up to 30 s.
        this.resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, RedisURI.create(settings.uri));
        // Lettuce's defaults queue every command without limit while Redis is away: bound the
        // queue and time each command out, so that an emit fails after the publish timeout.
        client.setOptions(ClientOptions.builder()
                .requestQueueSize(settings.requestQueueSize)
                .timeoutOptions(TimeoutOptions.enabled(settings.publishTimeout))
                .build());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("switchboard-redis-heartbeat"));
        // Bounded like Lettuce's queue: past it a message is dropped and logged, and whoever
        // waited for it times out naming this node, rather than the heap filling up.
        this.inbox = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(settings.requestQueueSize), daemon("switchboard-redis-inbox"),
                (task, executor) -> {
                    if (!executor.isShutdown()) {
                        LOG.log(System.Logger.Level.WARNING, "node " + nodeId + " is behind with the cluster's messages:"
                                + " one dropped");
                    }
                });
        try {
            this.connection = client.connect();
            this.subscriptions = client.connectPubSub();
            subscriptions.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    inbox.execute(() -> receive(message));
                }
            });
            subscriptions.sync().subscribe(key("all"), nodeChannel(nodeId));
            this.liveNodes = Set.of(nodeId);
            this.lastBeatMillis = settings.clock.millis();
            this.sessions = new RedisSessionStore(this, connection, settings.clock, inbox);
            heartbeat();
            // The others learn of this node now rather than at their next heartbeat, so that their
            // next query already asks it.
            announce(ClusterMessage.NODE_UP);
        } catch (RuntimeException e) {
            // Redis unreachable at start: let go of the client's threads, or each retry leaks them.
            scheduler.shutdownNow();
            inbox.shutdownNow();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
        long period = settings.heartbeatInterval.toMillis();
        // With a fixed delay, not a fixed rate: while Redis is frozen each beat waits the publish
        // timeout, and beats due at a fixed rate would pile up ahead of the requests' timeouts on
        // this one thread, which then came only once Redis thawed.
        scheduler.scheduleWithFixedDelay(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
    }

    /** Settings for a node of the cluster on the Redis at {@code uri}, e.g. {@code redis://127.0.0.1:6379}. */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    /** The adapter factory to give {@code SwitchboardOptions.builder().adapter(...)}. */
    public AdapterFactory adapters() {
        return this::adapter;
    }

    private Adapter adapter(LocalNamespace namespace) {
        RedisAdapter adapter = new RedisAdapter(this, namespace);
        adapters.put(namespace.name(), adapter);
        return adapter;
    }

    /** The adapter of a namespace of this node, or null. */
    RedisAdapter adapter(String namespace) {
        return adapters.get(namespace);
    }

    /**
     * The session store to give {@code SwitchboardOptions.builder().sessionStore(...)}: the
     * cluster's session records in Redis, so that a client recovers on any node, even after its
     * node died (docs/SCALING.md).
     */
    public SessionStore sessionStore() {
        return sessions;
    }

    /** This node's id in the cluster (in Redis and in {@link ClusterException#silentNodes()}). */
    public String nodeId() {
        return nodeId;
    }

    /** Whether the last heartbeat reached Redis: while it did not, the node refuses new connections. */
    public boolean reachable() {
        return reachable;
    }

    /** The nodes alive at the last heartbeat, this one included. */
    public Set<String> liveNodes() {
        return liveNodes;
    }

    /** The cluster as this node sees it, as {@code Switchboard.clusterStatus()} and metrics report it. */
    public ClusterStatus status() {
        boolean up = reachable;
        boolean fenced = !up && settings.clock.millis() - lastBeatMillis > settings.nodeTimeout.toMillis();
        return new ClusterStatus(true, liveNodes.size(), up, fenced, figures.fencings(), figures.publishes(),
                figures.publishNanos(), figures.publishBuckets(), figures.publishFailures(), figures.queryTimeouts());
    }

    /**
     * Answers server-side events named {@code event} on {@code namespace} from other nodes; what
     * the listener returns (or null) is this node's answer. Runs on the inbox thread.
     */
    public void onServerEvent(String namespace, String event, Function<Arguments, Object> listener) {
        serverListeners.computeIfAbsent(namespace, name -> new ConcurrentHashMap<>()).put(event, listener);
    }

    /**
     * Sends an event to every other node's listener for it; completes with one answer per node
     * that has a listener, or fails naming the nodes that did not answer in the query timeout.
     */
    public CompletableFuture<List<Arguments>> serverSideEmit(String namespace, String event, Object... args) {
        ClusterMessage request = new ClusterMessage(ClusterMessage.SERVER_EVENT, nextRequestId(), nodeId, namespace,
                null, null, false, null, false, RedisAdapter.encodePacket(namespace, event, JsonMapper.toRawList(args)),
                0, null, null, 0);
        return ask(request, "server-side event '" + event + "' on " + namespace).thenApply(answers -> answers.stream()
                .filter(answer -> answer.packet() != null)
                .map(answer -> Arguments.of(RedisAdapter.decodePacket(answer.packet()).args())).toList());
    }

    /** Leaves the cluster: stops the readers and the heartbeat and closes the connections. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        // The timers that would have ended them are gone with the scheduler: end them here.
        IllegalStateException closed = new IllegalStateException("node " + nodeId + " closed");
        requests.values().forEach(pending -> pending.fail(closed));
        requests.clear();
        broadcasts.values().forEach(acks -> acks.liveNodes(Set.of()));
        broadcasts.clear();
        adapters.values().forEach(RedisAdapter::close);
        try {
            connection.sync().eval(LEAVE, ScriptOutputType.STATUS, new String[] {key("nodes"), key("epoch")}, nodeId,
                    Long.toString(settings.logRetention.toMillis()));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "leaving the node set failed", e);
        }
        announce(ClusterMessage.NODE_DOWN);
        subscriptions.close();
        connection.close();
        inbox.shutdownNow();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    // ---- for the adapters ----

    String key(String name) {
        return settings.prefix + ":" + name;
    }

    String streamKey(String namespace) {
        return key("log:" + namespace);
    }

    private String nodeChannel(String node) {
        return key("node:" + node);
    }

    String nextRequestId() {
        return nodeId + ":" + requestIds.incrementAndGet();
    }

    Duration publishTimeout() {
        return settings.publishTimeout;
    }

    Duration nodeTimeout() {
        return settings.nodeTimeout;
    }

    Duration logRetention() {
        return settings.logRetention;
    }

    long logCap() {
        return settings.logCap;
    }

    /** Now, by the cluster's clock. */
    long millis() {
        return settings.clock.millis();
    }

    /** The latest moment Redis may take an emit made now: later, its sender has been told it failed. */
    long emitDeadline() {
        return settings.clock.millis() + settings.publishTimeout.toMillis();
    }

    /**
     * The latest moment another node may act on a request sent now: later, its sender has timed
     * out and told its caller the request failed (on this node's clock; keep the nodes on NTP).
     */
    long requestDeadline() {
        return settings.clock.millis() + settings.queryTimeout.toMillis();
    }

    /** Whether a request whose deadline is {@code deadline} (0: none) came too late to act on. */
    boolean tooLate(long deadline) {
        return deadline > 0 && settings.clock.millis() > deadline;
    }

    /** The shared command connection, for commands that never block. */
    RedisAsyncCommands<String, String> commands() {
        return connection.async();
    }

    /** This node emitted entry {@code id} of a log, which it took {@code startNanos} ago. */
    void published(String id, long startNanos) {
        figures.published(id, startNanos);
    }

    /** A connection of its own, for a reader that blocks on its stream. */
    StatefulRedisConnection<String, String> readerConnection() {
        return client.connect();
    }

    /**
     * Appends an entry to a namespace's log, in the order of the calls, and waits until Redis has
     * it: at most the publish timeout, then fails.
     */
    void append(String namespace, ClusterMessage entry) {
        String stream = streamKey(namespace);
        long start = System.nanoTime();
        try {
            RedisFuture<String> added = connection.async().eval(APPEND, ScriptOutputType.VALUE, new String[] {stream},
                    Long.toString(settings.logCap), Long.toString(settings.logRetention.toMillis()), encode(entry));
            figures.published(added.get(settings.publishTimeout.toMillis() + 500, TimeUnit.MILLISECONDS), start);
        } catch (ExecutionException | TimeoutException e) {
            figures.publishFailed();
            throw new ClusterException("emit on " + namespace + ": Redis did not take it within "
                    + settings.publishTimeout.toMillis() + " ms", Set.of(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("emit on " + namespace + " interrupted", Set.of(), e);
        } catch (RuntimeException e) {
            figures.publishFailed();
            throw new ClusterException("emit on " + namespace + " failed: " + e.getMessage(), Set.of(), e);
        }
    }

    /** Sends a request to every other node; completes with their answers. */
    CompletableFuture<List<ClusterMessage>> ask(ClusterMessage request, String description) {
        Set<String> others = new HashSet<>(liveNodes);
        others.remove(nodeId);
        PendingRequest pending = new PendingRequest(description, others, settings.queryTimeout);
        if (others.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        requests.put(request.request(), pending);
        pending.result().whenComplete((answers, failure) -> {
            requests.remove(request.request());
            if (failure != null) {
                figures.queryTimedOut();
            }
        });
        // A publish that failed (timed out while Redis was frozen, say) may still reach Redis and
        // the other nodes, which act on it until its deadline: the request fails at its timeout,
        // not before, so that a caller told it failed finds it not made, then or later.
        connection.async().publish(key("all"), encode(request))
                .whenComplete((receivers, failure) -> {
                    if (failure != null) {
                        pending.publishFailed(failure);
                    }
                });
        pending.timer(scheduler.schedule(pending::expire, settings.queryTimeout.toMillis(), TimeUnit.MILLISECONDS));
        return pending.result();
    }

    /** Tells every other node, expecting no answer; one that misses it is not waited for. */
    void tellAll(ClusterMessage message) {
        connection.async().publish(key("all"), encode(message)).whenComplete((receivers, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.DEBUG, "telling the nodes " + message.kind() + " failed", failure);
            }
        });
    }

    /** Sends an answer (or an ack) to the node that asked. */
    void tell(String node, ClusterMessage answer) {
        connection.async().publish(nodeChannel(node), encode(answer)).whenComplete((receivers, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, "answering node " + node + " failed", failure);
            }
        });
    }

    /** Tracks a broadcast with acks that this node emitted, until its answers can no longer come. */
    void track(String request, ClusterAcks acks) {
        broadcasts.put(request, acks);
        scheduler.schedule(() -> broadcasts.remove(request), settings.ackWindow.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** This node read back its own emit {@code id} from a log. */
    void readBack(String id) {
        figures.readBack(id);
    }

    ClusterAcks broadcast(String request) {
        return broadcasts.get(request);
    }

    Object serverEvent(String namespace, String event, Arguments args) {
        Function<Arguments, Object> listener = serverListeners.getOrDefault(namespace, Map.of()).get(event);
        return listener == null ? null : listener.apply(args);
    }

    // ---- inside ----

    private void receive(String text) {
        ClusterMessage message;
        try {
            message = decode(text);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable message from the cluster", e);
            return;
        }
        if (nodeId.equals(message.from())) {
            return;
        }
        switch (message.kind()) {
            case ClusterMessage.ANSWER -> {
                PendingRequest pending = requests.get(message.request());
                if (pending != null) {
                    pending.answer(message);
                }
            }
            case ClusterMessage.ACK_COUNT -> {
                ClusterAcks acks = broadcasts.get(message.request());
                if (acks != null) {
                    acks.counted(message.from(), message.count());
                }
            }
            case ClusterMessage.ACK -> {
                ClusterAcks acks = broadcasts.get(message.request());
                if (acks != null) {
                    acks.answered(message.from(), Arguments.of(RedisAdapter.decodePacket(message.packet()).args()));
                }
            }
            case ClusterMessage.ACK_LOST -> {
                ClusterAcks acks = broadcasts.get(message.request());
                if (acks != null) {
                    acks.lost(message.from());
                }
            }
            case ClusterMessage.TAKEN_OVER -> {
                RedisAdapter adapter = adapters.get(message.namespace());
                if (adapter != null) {
                    adapter.takenOver(message);
                }
            }
            case ClusterMessage.NODE_UP -> changeLiveNodes(message.from(), true);
            case ClusterMessage.NODE_DOWN -> {
                unconfirmed.remove(message.from());
                changeLiveNodes(message.from(), false);
                adapters.values().forEach(adapter -> adapter.nodeLost(message.from()));
            }
            default -> answer(message);
        }
    }

    private void announce(String kind) {
        try {
            connection.sync().publish(key("all"), encode(new ClusterMessage(kind, null, nodeId, null, null, null, false,
                    null, false, null, 0, null, null, 0)));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "announcing " + kind + " failed; the heartbeats will tell", e);
        }
    }

    private synchronized void changeLiveNodes(String node, boolean up) {
        Set<String> live = new HashSet<>(liveNodes);
        if (up ? live.add(node) : live.remove(node)) {
            liveNodes(Set.copyOf(live));
        }
    }

    private void answer(ClusterMessage request) {
        RedisAdapter adapter = adapters.get(request.namespace());
        CompletableFuture<ClusterMessage> answer;
        try {
            answer = adapter == null
                    ? CompletableFuture.completedFuture(ClusterMessage.answer(ClusterMessage.ANSWER, request.request(),
                            nodeId, 0, Set.of(), List.of(), null))
                    : adapter.answer(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((made, failure) -> tell(request.from(), failure == null ? made : failed(request, failure)));
    }

    /** Runs {@code task} on the inbox thread, where the other nodes' requests are handled. */
    void onInbox(Runnable task) {
        inbox.execute(task);
    }

    private ClusterMessage failed(ClusterMessage request, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        LOG.log(System.Logger.Level.WARNING, "answering " + request.kind() + " on " + request.namespace() + " failed", cause);
        return new ClusterMessage(ClusterMessage.ANSWER, request.request(), nodeId, null, null, null, false, null,
                false, null, 0, null, String.valueOf(cause.getMessage()), 0);
    }

    /**
     * Registers this node as alive and reads which others are, on Redis' clock. A node that beats
     * steadily counts the silent ones dead and names them in the fenced set; a node back from
     * such an absence finds itself there (named again by its own beat if the mark expired) and
     * fences itself: it closes its connections, so that its clients go to the nodes that took
     * over. When Redis was away for every node, nobody beat steadily, nobody was counted dead, and
     * nothing is closed; a Redis restarted empty has no fenced set either, and a new epoch.
     */
    private void heartbeat() {
        try {
            List<Object> answer = connection.sync().eval(HEARTBEAT, ScriptOutputType.MULTI,
                    new String[] {key("nodes"), key("fenced"), key("epoch")}, nodeId,
                    Long.toString(settings.nodeTimeout.toMillis()), Long.toString(settings.logRetention.toMillis()),
                    Long.toString(lastAnsweredBeat), epoch);
            lastAnsweredBeat = ((Number) answer.get(2)).longValue();
            epoch = (String) answer.get(3);
            boolean fenced = ((Number) answer.get(0)).longValue() == 1;
            if (fenced) {
                LOG.log(System.Logger.Level.WARNING, "node " + nodeId + " was cut from Redis longer than "
                        + settings.nodeTimeout.toMillis() + " ms while other nodes went on: closing its connections"
                        + " so that its clients go elsewhere");
                figures.fenced();
                long outage = settings.clock.millis() - lastBeatMillis;
                adapters.values().forEach(adapter -> adapter.fence(connection.sync(), outage));
                // Out of the set only once its connections are closed; if this fails, the next beat fences again.
                connection.sync().srem(key("fenced"), nodeId);
            }
            if (!fenced && ((Number) answer.get(1)).longValue() == 0 && beaten) {
                // Nobody removed this node's beat (it would be fenced): the epoch is new, Redis lost everything.
                LOG.log(System.Logger.Level.WARNING, "node " + nodeId + " finds Redis empty: it restarted");
                long until = settings.clock.millis() + settings.nodeTimeout.toMillis();
                liveNodes.forEach(node -> {
                    if (!node.equals(nodeId)) {
                        unconfirmed.put(node, until);
                    }
                });
                adapters.values().forEach(RedisAdapter::reset);
            }
            sessions.renew(scheduler);
            int dead = ((Number) answer.get(4)).intValue();
            Set<String> live = new HashSet<>();
            answer.subList(5 + dead, answer.size()).forEach(node -> live.add((String) node));
            live.add(nodeId);
            long now = settings.clock.millis();
            unconfirmed.entrySet().removeIf(node -> live.contains(node.getKey()) || node.getValue() < now);
            live.addAll(unconfirmed.keySet());
            liveNodes(Set.copyOf(live));
            // Only the node whose beat counted them dead hears of it; one is enough. After the
            // live nodes no longer name them, which the listeners ask.
            answer.subList(5, 5 + dead).forEach(node -> adapters.values().forEach(adapter -> adapter.nodeLost((String) node)));
            if (!reachable) {
                LOG.log(System.Logger.Level.INFO, "node " + nodeId + " reaches Redis again");
            }
            reachable = true;
            lastBeatMillis = settings.clock.millis();
            beaten = true;
        } catch (RuntimeException e) {
            if (reachable) {
                LOG.log(System.Logger.Level.WARNING, "node " + nodeId + " cannot reach Redis: new connections are refused"
                        + " until it can", e);
            }
            reachable = false;
        }
    }

    /** Synchronized: the scheduler's heartbeats and the inbox's announcements both set it. */
    private synchronized void liveNodes(Set<String> live) {
        liveNodes = live;
        requests.values().forEach(pending -> pending.liveNodes(live));
        broadcasts.values().forEach(acks -> acks.liveNodes(live));
    }

    static String encode(ClusterMessage message) {
        return MessageCodec.encode(message);
    }

    static ClusterMessage decode(String text) {
        return MessageCodec.decode(text);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /**
     * The settings of a node; {@link #connect()} joins the cluster.
     *
     * <pre>{@code
     * RedisCluster.builder("redis://10.0.0.5:6379").publishTimeout(Duration.ofSeconds(2)).connect();
     * }</pre>
     */
    public static final class Builder {
        private final String uri;
        private String prefix = "switchboard";
        private Duration publishTimeout = Duration.ofSeconds(5);
        private Duration queryTimeout = Duration.ofSeconds(5);
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        private Duration nodeTimeout = Duration.ofSeconds(5);
        private Duration logRetention = Duration.ofMinutes(5);
        private Duration ackWindow = Duration.ofMinutes(1);
        private long logCap = 100_000;
        private int requestQueueSize = 10_000;
        private Clock clock = Clock.systemUTC();

        private Builder(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
        }

        /** The prefix of every key and channel, so that clusters can share a Redis; default {@code switchboard}. */
        public Builder prefix(String value) {
            prefix = value;
            return this;
        }

        /** How long an emit waits for Redis before it fails with {@link ClusterException}; default 5 s. */
        public Builder publishTimeout(Duration value) {
            publishTimeout = value;
            return this;
        }

        /** How long a query waits for the other nodes; default 5 s. */
        public Builder queryTimeout(Duration value) {
            queryTimeout = value;
            return this;
        }

        /** How often a node says it is alive; default 1 s. */
        public Builder heartbeatInterval(Duration value) {
            heartbeatInterval = value;
            return this;
        }

        /** A node silent this long is dead to the others, and fences itself; default 5 s. */
        public Builder nodeTimeout(Duration value) {
            nodeTimeout = value;
            return this;
        }

        /** How long an idle namespace's log stays in Redis; at least the recovery window; default 5 min. */
        public Builder logRetention(Duration value) {
            logRetention = value;
            return this;
        }

        /** How long answers to a broadcast with acks are awaited from other nodes; default 1 min. */
        public Builder ackWindow(Duration value) {
            ackWindow = value;
            return this;
        }

        /** About how many entries each namespace's log keeps; default 100 000. */
        public Builder logCap(long value) {
            logCap = value;
            return this;
        }

        /**
         * How many commands may wait for Redis at once before new ones fail, and how many messages
         * from other nodes may wait to be handled; default 10 000.
         */
        public Builder requestQueueSize(int value) {
            requestQueueSize = value;
            return this;
        }

        /** The clock that dates emits' deadlines (compared with Redis' own clock, so keep both on NTP). */
        public Builder clock(Clock value) {
            clock = value;
            return this;
        }

        /** Connects to Redis and joins the cluster. */
        public RedisCluster connect() {
            return new RedisCluster(this);
        }
    }
}
