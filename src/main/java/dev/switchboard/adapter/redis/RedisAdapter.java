package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.AckCollector;
import dev.switchboard.adapter.Adapter;
import dev.switchboard.adapter.BroadcastOptions;
import dev.switchboard.adapter.ClusterStatus;
import dev.switchboard.adapter.InMemoryAdapter;
import dev.switchboard.adapter.LocalNamespace;
import dev.switchboard.adapter.RoomHistory;
import dev.switchboard.adapter.RoomLedger;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.server.SessionRecord;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One namespace's rooms and fan-out across the cluster. The membership of this node's sockets is
 * kept here, in an {@link InMemoryAdapter}; emits go through the namespace's Redis stream and are
 * delivered when read back, by every node to its own sockets, so all members of a room see one
 * order and one offset per event. Queries ask the other nodes and add this node's own answer.
 *
 * <p>Threads: the reader thread owns {@code lastId}, {@code lastDelivered} and the reading
 * connection, and writes {@code resentUpTo}; {@code histories} guards itself and
 * {@code arriving}; everything else is the in-memory adapter's (thread-safe) or the cluster's.
 */
final class RedisAdapter implements Adapter {
    private static final System.Logger LOG = System.getLogger(RedisAdapter.class.getName());
    /** The format of packets inside the cluster, whatever the server speaks to its clients. */
    private static final Codec CODEC = new JsonWireCodec();
    /** Where a cluster packet carries its attachments. */
    private static final String BINARY_FIELD = "binary";
    private static final int BATCH = 512;
    private static final long RETRY_MILLIS = 200;

    /**
     * KEYS: the room's ledger, the namespace's set of rooms with ledgers, the cluster's version
     * counter, the namespace's log. ARGV: the version the change was computed from, the log's
     * cap, its retention, the room, the number of changes, then each change's field and entry
     * (empty: remove), then the log entries to add. Answers 0 when the version moved, else 1 and
     * the ids of the entries.
     */
    private static final String COMMIT = """
            if (redis.call('HGET', KEYS[1], '#v') or '0') ~= ARGV[1] then return {0} end
            local changes = tonumber(ARGV[5])
            for i = 0, changes - 1 do
              local field, entry = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
              if entry == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, entry) end
            end
            if changes > 0 then
              redis.call('HSET', KEYS[1], '#v', redis.call('INCR', KEYS[3]))
              if redis.call('HLEN', KEYS[1]) == 1 then
                redis.call('DEL', KEYS[1])
                redis.call('SREM', KEYS[2], ARGV[4])
              else
                redis.call('SADD', KEYS[2], ARGV[4])
              end
            end
            local answer = {1}
            for i = 6 + 2 * changes, #ARGV do
              table.insert(answer, redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[i]))
            end
            if #answer > 1 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
            return answer
            """;
    /** KEYS: a reader's wake-up stream. ARGV: its retention. Adds the one entry it keeps. */
    private static final String WAKE = """
            redis.call('XADD', KEYS[1], 'MAXLEN', '1', '*', 'w', '1')
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
            """;
    /** The ledger's field of a user; {@code #v} holds the version. */
    private static final String USER_FIELD = "u:";

    private final RedisCluster cluster;
    private final LocalNamespace namespace;
    private final InMemoryAdapter local;
    private final StatefulRedisConnection<String, String> reading;
    /**
     * How long a read waits for new entries: half the command timeout, which it must not hit.
     * Work queued for the reader (a recovered socket's replay) does not wait for it to end: the
     * queueing node wakes the read through {@code wakeKey}, a stream of this reader alone that
     * every read watches beside the log. So an idle namespace costs Redis one read per wait.
     */
    private final Duration block;
    private final String wakeKey;
    private final Thread reader;
    private volatile boolean running = true;
    /**
     * The id of the last entry whose delivery began, where the next read starts; written by the
     * reader thread only.
     */
    private volatile String lastId;
    /** The id of the last entry whose delivery ended; written by the reader thread only. */
    private volatile String lastDelivered;
    /**
     * Where in the log the rooms of this node's sockets (and of sessions waiting here) changed, by
     * socket id, for their records ({@link #roomHistory}). Guarded by itself, which also orders
     * the changes of membership that it records: no other lock is taken under it.
     */
    private final Map<String, RoomHistory> histories = new HashMap<>();
    /** Work that must happen between the deliveries of two reads (taking in a recovered socket); run by the reader thread. */
    private final Queue<Runnable> readerTasks = new ConcurrentLinkedQueue<>();
    /**
     * Sockets taken in from another node, by id, with the newest entry already sent to them: the
     * reader skips them up to it. Written by the reader thread; a change of their rooms is placed
     * no earlier ({@link #recordChange}).
     */
    private final Map<String, String> resentUpTo = new ConcurrentHashMap<>();
    /** Sockets being taken in from another node, by id ({@link Arrival}); guarded by {@code histories}. */
    private final Map<String, Arrival> arriving = new HashMap<>();
    private final List<Consumer<String>> nodeLostListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> resetListeners = new CopyOnWriteArrayList<>();
    /** Whether the reader is delivering a read's entries; written by the reader thread, read by Lettuce's event loop. */
    private volatile boolean delivering;
    /** Whether the last read failed; the reader thread's. */
    private boolean failing;
    /** When the reads began to fail, by the cluster's clock; the reader thread's. */
    private long failingSinceMillis;

    RedisAdapter(RedisCluster cluster, LocalNamespace namespace) {
        this.cluster = cluster;
        this.namespace = namespace;
        this.local = new InMemoryAdapter(namespace, this::recordChange);
        this.reading = cluster.readerConnection();
        this.block = cluster.publishTimeout().dividedBy(2);
        this.wakeKey = cluster.key("wake:" + cluster.nodeId() + ":" + namespace.name());
        // Read from the newest entry now, not from "$" at the first read: an emit between the two
        // would be missed.
        this.lastId = newestId();
        this.lastDelivered = lastId;
        this.reader = new Thread(this::read, "switchboard-redis-log " + namespace.name());
        reader.setDaemon(true);
        reader.start();
    }

    // ---- this node's sockets ----

    @Override
    public void addAll(String socketId, Set<String> rooms) {
        local.addAll(socketId, rooms);
    }

    @Override
    public void del(String socketId, String room) {
        local.del(socketId, room);
    }

    @Override
    public void delAll(String socketId) {
        synchronized (histories) {
            local.delAll(socketId);
            histories.remove(socketId);
            Arrival arrival = arriving.get(socketId);
            if (arrival != null) {
                // Its session ended while replayed (it overflowed): it must not join its rooms after.
                arrival.ended = true;
            }
        }
    }

    /**
     * Makes a change to a socket's rooms and notes where in the log it took effect. The reader
     * does not wait for it: an entry it is delivering meanwhile may have gone out either way,
     * which the change's two positions say. A socket taken in from another node was sent the
     * log up to some entry by its replay, with the rooms of each entry's moment, and the reader
     * skips it up to there: its change takes effect after that entry, however far behind the
     * reader is.
     */
    private void recordChange(String socketId, Runnable change) {
        synchronized (histories) {
            String resent = resentUpTo.get(socketId);
            String from = later(lastDelivered, resent);
            Set<String> before = local.socketRooms(socketId);
            change.run();
            Set<String> after = local.socketRooms(socketId);
            if (before.equals(after)) {
                return;
            }
            RoomHistory.RoomChange made = new RoomHistory.RoomChange(from, later(lastId, resent),
                    difference(after, before), difference(before, after));
            histories.put(socketId, histories.getOrDefault(socketId, RoomHistory.NONE).with(made, StreamIds::compare));
        }
    }

    private static String later(String position, String floor) {
        return floor == null || (position != null && StreamIds.compare(position, floor) > 0) ? position : floor;
    }

    private static Set<String> difference(Set<String> rooms, Set<String> minus) {
        Set<String> left = new HashSet<>(rooms);
        left.removeAll(minus);
        return left;
    }

    @Override
    public RoomHistory roomHistory(String socketId) {
        synchronized (histories) {
            return histories.getOrDefault(socketId, RoomHistory.NONE);
        }
    }

    @Override
    public Set<String> socketRooms(String socketId) {
        return local.socketRooms(socketId);
    }

    @Override
    public Set<String> sockets(Set<String> rooms) {
        return local.sockets(rooms);
    }

    @Override
    public String position() {
        return lastId;
    }

    /**
     * Runs on the reader thread, between the deliveries of two reads, so that nothing the reader delivers can come
     * between the resent entries or before them.
     */
    @Override
    public CompletableFuture<Boolean> resend(String socketId, Set<String> rooms, RoomHistory history, String offset,
                                             String since, String unnamedThrough) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        RoomHistory known = Objects.requireNonNullElse(history, RoomHistory.NONE);
        Arrival arrival = new Arrival(rooms);
        synchronized (histories) {
            arriving.put(socketId, arrival);
        }
        onReader(() -> {
            String newest = null;
            try {
                // Not when too late (the reader was stuck on Redis, or stopped): the claimant gave up.
                newest = done.isDone() ? null : resendNow(socketId, rooms, known, offset, since, unnamedThrough);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
            arrived(socketId, arrival, known, newest);
            if (newest != null && !done.complete(true)) {
                // The claimant gave up meanwhile: the socket is not coming.
                delAll(socketId);
                resentUpTo.remove(socketId);
            }
            done.complete(false);
        });
        // A reader blocks at most the publish timeout on Redis; a stopped one never comes.
        return done.completeOnTimeout(false, 2 * cluster.publishTimeout().toMillis() + block.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} on the reader thread, between the deliveries of two reads, as soon as it can. */
    void onReader(Runnable task) {
        readerTasks.add(task);
        wakeReader();
    }

    /** Ends the reader's wait for entries, so that it runs its tasks now; a wake that fails leaves them to the read's end. */
    private void wakeReader() {
        cluster.commands().<Object>eval(WAKE, ScriptOutputType.STATUS, new String[] {wakeKey},
                Long.toString(cluster.logRetention().toMillis())).exceptionally(failure -> {
                    LOG.log(System.Logger.Level.DEBUG, "waking the reader of " + namespace.name() + " failed", failure);
                    return null;
                });
    }

    /** Sends a taken-in socket what it missed; answers the replay's last entry, or null when it cannot be exact. */
    private String resendNow(String socketId, Set<String> rooms, RoomHistory history, String offset, String since,
                             String unnamedThrough) {
        String stream = cluster.streamKey(namespace.name());
        if (!StreamIds.valid(offset)) {
            return null;
        }
        String from = StreamIds.valid(since) && StreamIds.compare(since, offset) > 0 ? since : offset;
        RoomHistory.Replay replay = history.replay(rooms, from, StreamIds::compare);
        if (replay == null || !stillLogged(reading.sync(), stream, from)) {
            return null;
        }
        return replay(stream, socketId, from, replay, unnamedThrough);
    }

    /**
     * Sends a taken-in socket the log's entries after {@code from} that reached it, but those with
     * an ack request its client had up to {@code unnamedThrough}; answers the newest entry read, or
     * null (having sent some, perhaps) when that cannot be exact.
     */
    private String replay(String stream, String socketId, String from, RoomHistory.Replay replay,
                          String unnamedThrough) {
        String newest = from;
        while (true) {
            List<StreamMessage<String, String>> entries = reading.sync().xrange(stream,
                    Range.from(Range.Boundary.excluding(newest), Range.Boundary.unbounded()), Limit.create(0, BATCH));
            for (StreamMessage<String, String> entry : entries) {
                newest = entry.getId();
                ClusterMessage message = RedisCluster.decode(entry.getBody().get("m"));
                if (message.droppable() || !inTime(newest, message)) {
                    continue;
                }
                Boolean reached = replay.reaches(newest, orEmpty(message.rooms()), orEmpty(message.except()));
                if (reached == null) {
                    // Its rooms changed while this entry went out there: whether it reached the
                    // socket is unknown, so the replay cannot be exact.
                    return null;
                }
                if (reached && message.request() != null && unnamedThrough != null) {
                    // Sent to the connected client, which could not name it (a Socket.IO client
                    // asked for an ack): it had it, though its offset is older.
                    reached = StreamIds.compare(newest, unnamedThrough) > 0;
                }
                if (reached) {
                    // Any ack it asked for was failed on the node that held the connection.
                    Packet packet = decodePacket(message.packet());
                    namespace.deliver(socketId, namespace.encode(new Packet(PacketType.EVENT, packet.namespace(),
                            packet.event(), packet.args(), 0, newest, packet.fields(), packet.attachments())), false);
                }
            }
            if (entries.size() < BATCH) {
                return newest;
            }
        }
    }

    /**
     * Ends a socket's take-in: after a replay that was exact ({@code newest}, its last entry), the
     * socket joins its record's rooms, its history goes on from the record's (a later replay
     * elsewhere may need it), and the changes of rooms asked meanwhile are made, placed after the
     * replay, before their callers hear they were. The rooms are joined after the replay, not
     * before it, and not at all when the session ended meanwhile (it overflowed while replayed):
     * an ended session leaves no room behind.
     */
    private void arrived(String socketId, Arrival arrival, RoomHistory history, String newest) {
        synchronized (histories) {
            // Not another take-in's of the same id, after a claimant that gave up on this one.
            arriving.remove(socketId, arrival);
            if (newest != null && !arrival.ended) {
                resentUpTo.put(socketId, newest);
                local.addAll(socketId, arrival.rooms);
                histories.put(socketId, history);
                arrival.changes.forEach(change -> change.makeOn(socketId));
            }
        }
        arrival.changes.forEach(change -> change.done.complete(null));
    }

    /**
     * A socket being taken in from another node, until the reader replayed what it missed and put
     * it in its record's rooms: changes of rooms asked meanwhile (its old node let it go at the
     * claim, and it is in no room here) wait for that. Guarded by {@code histories}.
     */
    private static final class Arrival {
        private final Set<String> rooms;
        private final List<PendingChange> changes = new ArrayList<>();
        private boolean ended;

        Arrival(Set<String> rooms) {
            this.rooms = rooms;
        }
    }

    /** A change of rooms for a socket being taken in; a request's change is dropped past its deadline. */
    private final class PendingChange {
        private final Set<String> rooms;
        private final boolean join;
        private final long deadline;
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        PendingChange(Set<String> rooms, boolean join, long deadline) {
            this.rooms = rooms;
            this.join = join;
            this.deadline = deadline;
        }

        void makeOn(String socketId) {
            if (deadline > 0 && cluster.tooLate(deadline)) {
                return;
            }
            if (join) {
                local.addAll(socketId, rooms);
            } else {
                rooms.forEach(room -> local.del(socketId, room));
            }
        }
    }

    /**
     * Whether the log still holds everything after {@code offset}: the entry itself is there, or
     * (an empty log when the socket joined) nothing was ever trimmed.
     */
    private boolean stillLogged(RedisCommands<String, String> redis, String stream, String offset) {
        if (StreamIds.NONE.equals(offset)) {
            return redis.xlen(stream) < cluster.logCap();
        }
        return !redis.xrange(stream, Range.create(offset, offset)).isEmpty();
    }

    // ---- through the log ----

    @Override
    public void broadcast(Frame frame, BroadcastOptions options) {
        cluster.append(namespace.name(), entry(frame, options, null));
    }

    @Override
    public void broadcastLocally(Frame frame, BroadcastOptions options) {
        local.broadcast(frame, options);
    }

    @Override
    public void broadcastWithAck(Frame frame, BroadcastOptions options, AckCollector collector) {
        String request = cluster.nextRequestId();
        cluster.track(request, new ClusterAcks(collector, cluster.nodeId(), cluster.liveNodes()));
        cluster.append(namespace.name(), entry(frame, options, request));
    }

    private ClusterMessage entry(Frame frame, BroadcastOptions options, String request) {
        return new ClusterMessage(ClusterMessage.EMIT, request, cluster.nodeId(), namespace.name(), options.rooms(),
                options.except(), options.droppable(), null, false, encodePacket(frame.packet().withOffset(null)), 0,
                null, null, cluster.emitDeadline());
    }

    // ---- across nodes ----

    @Override
    public CompletableFuture<Set<String>> rooms() {
        Set<String> mine = local.rooms().join();
        return ask(ClusterMessage.ROOMS, BroadcastOptions.everyone(), Set.of(), false).thenApply(answers -> {
            Set<String> all = new HashSet<>(mine);
            answers.forEach(answer -> all.addAll(answer.rooms()));
            return all;
        });
    }

    @Override
    public CompletableFuture<List<RemoteSocket>> fetchSockets(BroadcastOptions options) {
        List<RemoteSocket> mine = local.fetchSockets(options).join();
        return ask(ClusterMessage.FETCH, options, Set.of(), false).thenApply(answers -> {
            List<RemoteSocket> all = new ArrayList<>(mine);
            answers.forEach(answer -> all.addAll(answer.sockets()));
            return all;
        });
    }

    /*
     * Changes to sockets are made here only once the other nodes answered, and a node that reads
     * the request after its deadline leaves it alone: a caller told that a change failed (Redis
     * unreachable, say; the HTTP API's 503) finds it not made, here or, once Redis is back,
     * elsewhere, and may retry. A node that answered in time has made it, though another stayed
     * silent.
     */

    @Override
    public CompletableFuture<Void> addSockets(BroadcastOptions options, Set<String> rooms) {
        return ask(ClusterMessage.JOIN, options, rooms, false).thenCompose(answers -> changeRooms(options, rooms, true, 0));
    }

    @Override
    public CompletableFuture<Void> delSockets(BroadcastOptions options, Set<String> rooms) {
        return ask(ClusterMessage.LEAVE, options, rooms, false).thenCompose(answers -> changeRooms(options, rooms, false, 0));
    }

    /**
     * Puts this node's matching sockets in rooms or takes them out, those it is taking in from
     * another node included, whose change waits for their replay ({@link Arrival}); completes
     * once all are made, so that an emit after it sees them. Those first, then the others: one
     * whose take-in ends in between is changed twice, to the same rooms, rather than missed.
     *
     * @param deadline a request's deadline, past which a waiting change is not made; 0: none
     */
    private CompletableFuture<Void> changeRooms(BroadcastOptions options, Set<String> change, boolean join,
                                                long deadline) {
        List<CompletableFuture<Void>> made = new ArrayList<>();
        synchronized (histories) {
            arriving.values().forEach(arrival -> {
                if (matches(arrival.rooms, options)) {
                    PendingChange pending = new PendingChange(change, join, deadline);
                    arrival.changes.add(pending);
                    made.add(pending.done);
                }
            });
        }
        made.add(join ? local.addSockets(options, change) : local.delSockets(options, change));
        return CompletableFuture.allOf(made.toArray(CompletableFuture[]::new));
    }

    private static boolean matches(Set<String> rooms, BroadcastOptions options) {
        return (options.rooms().isEmpty() || options.rooms().stream().anyMatch(rooms::contains))
                && options.except().stream().noneMatch(rooms::contains);
    }

    @Override
    public CompletableFuture<Void> disconnectSockets(BroadcastOptions options, boolean close) {
        return ask(ClusterMessage.DISCONNECT, options, Set.of(), close)
                .thenCompose(answers -> disconnectHere(options, close));
    }

    /**
     * Ends this node's matching sockets, and the sessions it is taking in from another node: their
     * old node let them go at the claim, and they are in no room here until their replay ran, so
     * only their record's rooms can match them. Ended now, as any waiting session, their clients
     * start afresh.
     */
    private CompletableFuture<Void> disconnectHere(BroadcastOptions options, boolean close) {
        List<String> arrivals = new ArrayList<>();
        synchronized (histories) {
            arriving.forEach((socketId, arrival) -> {
                if (matches(arrival.rooms, options)) {
                    arrivals.add(socketId);
                }
            });
        }
        arrivals.forEach(socketId -> namespace.disconnect(socketId, close));
        return local.disconnectSockets(options, close);
    }

    private CompletableFuture<List<ClusterMessage>> ask(String kind, BroadcastOptions options, Set<String> change,
                                                        boolean close) {
        ClusterMessage request = ClusterMessage.request(kind, cluster.nextRequestId(), cluster.nodeId(),
                namespace.name(), options.rooms(), options.except(), change, close, cluster.requestDeadline());
        return cluster.ask(request, kind + " on " + namespace.name()).thenApply(answers -> {
            for (ClusterMessage answer : answers) {
                if (answer.error() != null) {
                    throw new ClusterException(kind + " on " + namespace.name() + " failed on node " + answer.from()
                            + ": " + answer.error(), Set.of(), null);
                }
            }
            return answers;
        });
    }

    @Override
    public void sessionTakenOver(String socketId, String pid, Instant expiresAt) {
        cluster.tellAll(new ClusterMessage(ClusterMessage.TAKEN_OVER, null, cluster.nodeId(), namespace.name(),
                Set.of(socketId), null, false, Set.of(pid + " " + expiresAt), false, null, 0, null, null, 0));
    }

    /** Another node claimed a session's record: the session, if it waits here, ends silently. */
    void takenOver(ClusterMessage message) {
        String socketId = orEmpty(message.rooms()).stream().findFirst().orElse(null);
        String[] claimed = orEmpty(message.change()).stream().findFirst().orElse("").split(" ");
        if (socketId != null && claimed.length == 2) {
            namespace.sessionTakenOver(socketId, claimed[0], Instant.parse(claimed[1]));
        }
    }

    /** The store refused the record of a session waiting here: the session, if it still waits, ends silently. */
    void endedElsewhere(SessionRecord record) {
        namespace.sessionTakenOver(record.id(), record.pid(), record.expiresAt());
    }

    /**
     * This node's answer to another node's request; a change of rooms is answered once made, which
     * for a socket being taken in is after its replay.
     */
    CompletableFuture<ClusterMessage> answer(ClusterMessage request) {
        BroadcastOptions options = new BroadcastOptions(orEmpty(request.rooms()), orEmpty(request.except()), false);
        String node = cluster.nodeId();
        ClusterMessage done = ClusterMessage.answer(ClusterMessage.ANSWER, request.request(), node, 0, null, null, null);
        boolean change = ClusterMessage.JOIN.equals(request.kind()) || ClusterMessage.LEAVE.equals(request.kind())
                || ClusterMessage.DISCONNECT.equals(request.kind());
        if (change && cluster.tooLate(request.deadline())) {
            // Its sender told its caller the change failed (see addSockets): nobody waits for this answer.
            return CompletableFuture.completedFuture(done);
        }
        return switch (request.kind()) {
            case ClusterMessage.FETCH -> CompletableFuture.completedFuture(ClusterMessage.answer(ClusterMessage.ANSWER,
                    request.request(), node, 0, null,
                    local.fetchSockets(options).join().stream().map(socket -> SocketSnapshot.of(socket, node)).toList(),
                    null));
            case ClusterMessage.ROOMS -> CompletableFuture.completedFuture(ClusterMessage.answer(ClusterMessage.ANSWER,
                    request.request(), node, 0, local.rooms().join(), null, null));
            case ClusterMessage.JOIN, ClusterMessage.LEAVE -> {
                CompletableFuture<Void> made = changeRooms(options, orEmpty(request.change()),
                        ClusterMessage.JOIN.equals(request.kind()), request.deadline());
                Function<Void, ClusterMessage> told = ignored -> {
                    namespace.roomsChanged(orEmpty(request.change()));
                    return done;
                };
                // The rooms listeners are the application's: on the inbox, as for any request,
                // not on the reader that made a waiting change.
                yield made.isDone() ? made.thenApply(told) : made.thenApplyAsync(told, cluster::onInbox);
            }
            case ClusterMessage.DISCONNECT -> disconnectHere(options, request.close()).thenApply(made -> done);
            case ClusterMessage.SERVER_EVENT -> CompletableFuture.completedFuture(serverEvent(request));
            default -> throw new IllegalArgumentException("unknown request '" + request.kind() + "'");
        };
    }

    private ClusterMessage serverEvent(ClusterMessage request) {
        Packet packet = decodePacket(request.packet());
        Object reply = cluster.serverEvent(namespace.name(), packet.event(), Arguments.of(packet.args()));
        String answer = reply == null ? null : encodePacket(namespace.name(), packet.event(), JsonMapper.toRawList(reply));
        return ClusterMessage.answer(ClusterMessage.ANSWER, request.request(), cluster.nodeId(), 0, null, null, answer);
    }

    // ---- presence ----

    @Override
    public String nodeId() {
        return cluster.nodeId();
    }

    /**
     * Answered off Lettuce's event loop, on the common pool: the application goes on from a
     * presence answer (an emit, say), and an emit waits for Redis' reply, which that loop alone
     * carries; run there, the emit would fail at the publish timeout. Not on the cluster's inbox
     * either, whose one thread runs server-side event listeners that may wait for presence.
     */
    @Override
    public CompletableFuture<RoomLedger> ledger(String room) {
        return cluster.commands().hgetall(ledgerKey(room)).thenApplyAsync(fields -> {
            Map<String, RoomLedger.UserEntry> users = new HashMap<>();
            fields.forEach((field, value) -> {
                if (field.startsWith(USER_FIELD)) {
                    users.put(field.substring(USER_FIELD.length()), decodeEntry(value));
                }
            });
            return new RoomLedger(Long.parseLong(fields.getOrDefault("#v", "0")), users);
        }).toCompletableFuture();
    }

    @Override
    public CompletableFuture<Set<String>> ledgerRooms() {
        // Off Lettuce's event loop, as ledger(room).
        return cluster.commands().smembers(ledgerRoomsKey()).thenApplyAsync(Set::copyOf).toCompletableFuture();
    }

    @Override
    public CompletableFuture<Boolean> commit(String room, long version, Map<String, RoomLedger.UserEntry> changes,
                                             List<RoomLedger.Emit> emits) {
        List<String> args = new ArrayList<>(List.of(Long.toString(version), Long.toString(cluster.logCap()),
                Long.toString(cluster.logRetention().toMillis()), room, Integer.toString(changes.size())));
        changes.forEach((userId, entry) -> {
            args.add(USER_FIELD + userId);
            args.add(entry == null ? "" : JsonMapper.toRaw(entry).text());
        });
        emits.forEach(emit -> args.add(RedisCluster.encode(entry(emit.frame(), emit.options(), null))));
        long start = System.nanoTime();
        String[] keys = {ledgerKey(room), ledgerRoomsKey(), cluster.key("presence-version"),
                cluster.streamKey(namespace.name())};
        return cluster.commands().<List<Object>>eval(COMMIT, ScriptOutputType.MULTI, keys, args.toArray(String[]::new))
                .thenApply(answer -> {
                    answer.subList(1, answer.size()).forEach(id -> cluster.published((String) id, start));
                    return ((Number) answer.get(0)).longValue() == 1;
                }).toCompletableFuture();
    }

    /**
     * Both names may hold a colon: with the namespace's length first, "/org:admin" and "#lobby"
     * make another key than "/org" and "admin:#lobby", whose presence is another room's.
     */
    private String ledgerKey(String room) {
        return cluster.key("presence:" + namespace.name().length() + ":" + namespace.name() + ":" + room);
    }

    private String ledgerRoomsKey() {
        return cluster.key("presence-rooms:" + namespace.name());
    }

    private static RoomLedger.UserEntry decodeEntry(String text) {
        try {
            return JsonMapper.fromJson(RawJson.of(text), RoomLedger.UserEntry.class);
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("an unreadable presence entry in Redis: " + e.getMessage(), e);
        }
    }

    @Override
    public void onNodeLost(Consumer<String> listener) {
        nodeLostListeners.add(listener);
    }

    @Override
    public void onReset(Runnable listener) {
        resetListeners.add(listener);
    }

    @Override
    public boolean alive(String node) {
        return cluster.liveNodes().contains(node);
    }

    /** The cluster counts {@code node} dead. */
    void nodeLost(String node) {
        nodeLostListeners.forEach(listener -> listener.accept(node));
    }

    /** Redis restarted empty. */
    void reset() {
        resetListeners.forEach(Runnable::run);
    }

    @Override
    public boolean available() {
        return cluster.reachable();
    }

    @Override
    public ClusterStatus clusterStatus() {
        return cluster.status();
    }

    /**
     * Lost Redis for {@code outageMillis}, too long: the others count this node dead, so its
     * clients must go elsewhere. First the check the reader makes before it reads again: a client
     * back before then would recover here from a memory lacking what was trimmed meanwhile. The
     * reader cannot move {@code lastId} under it unless it reads again, having made the check.
     */
    void fence(RedisCommands<String, String> redis, long outageMillis) {
        checkForLostEntries(redis, outageMillis);
        namespace.abandonAll();
    }

    @Override
    public void close() {
        running = false;
        reading.close();
    }

    // ---- the reader ----

    private String newestId() {
        try {
            List<StreamMessage<String, String>> newest = reading.sync()
                    .xrevrange(cluster.streamKey(namespace.name()), Range.create("-", "+"), Limit.create(0, 1));
            return newest.isEmpty() ? StreamIds.NONE : newest.get(0).getId();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "Redis unreachable: " + namespace.name() + " reads its log from now on", e);
            return null;
        }
    }

    private void read() {
        String stream = cluster.streamKey(namespace.name());
        CompletableFuture<Read> pending = null;
        // From the start of the wake-up stream: a wake before the first read is not missed.
        String wakeId = StreamIds.NONE;
        while (running) {
            try {
                for (Runnable task = readerTasks.poll(); task != null; task = readerTasks.poll()) {
                    task.run();
                }
                if (lastId == null) {
                    lastId = newestId();
                    lastDelivered = lastId;
                    continue;
                }
                if (pending == null) {
                    if (failing) {
                        checkForLostEntries(reading.sync(), cluster.millis() - failingSinceMillis);
                    }
                    pending = readFrom(stream, lastId, wakeId);
                }
                Read read = pending.get(reading.getTimeout().toNanos(), TimeUnit.NANOSECONDS);
                pending = read.next();
                wakeId = read.wakeId();
                if (failing) {
                    failing = false;
                    LOG.log(System.Logger.Level.INFO, "reading the log of " + namespace.name() + " again");
                }
                delivering = true;
                for (StreamMessage<String, String> entry : read.entries()) {
                    lastId = entry.getId();
                    try {
                        deliver(entry.getId(), RedisCluster.decode(entry.getBody().get("m")));
                    } finally {
                        lastDelivered = lastId;
                    }
                }
                delivering = false;
            } catch (RuntimeException | ExecutionException | TimeoutException e) {
                // The next read starts after the last entry delivered, not after the last one read.
                pending = null;
                delivering = false;
                if (running) {
                    // Once per outage: while Redis is away every read fails.
                    LOG.log(failing ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                            "reading the log of " + namespace.name() + " failed", e);
                    if (!failing) {
                        failingSinceMillis = cluster.millis();
                    }
                    failing = true;
                    pause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    /**
     * After an outage of {@code outageMillis}, before the first read: a read after the last entry
     * delivered skips without a word the entries trimmed since (the others kept writing the log,
     * past its cap, while this node could not read it), so the namespace hears of them, if that
     * entry is gone. Gone from a log under its cap, it went with the whole log's expiry, a
     * retention after the last write: within a shorter outage the log was quiet and read to its
     * end, and nothing is lost.
     */
    private void checkForLostEntries(RedisCommands<String, String> redis, long outageMillis) {
        String stream = cluster.streamKey(namespace.name());
        String from = lastId;
        boolean trimmed = redis.xlen(stream) >= cluster.logCap();
        boolean mayHaveExpiredUnread = outageMillis >= cluster.logRetention().toMillis();
        if (from != null && (trimmed || mayHaveExpiredUnread) && !stillLogged(redis, stream, from)) {
            LOG.log(System.Logger.Level.WARNING, "entries of the log of " + namespace.name() + " were trimmed before"
                    + " this node could read them; its clients that come back from before start afresh");
            namespace.eventsLost();
        }
    }

    /**
     * Entries read from the log, the newest wake-up seen, and the read of the entries after them
     * when there were any and no wake-up.
     */
    private record Read(List<StreamMessage<String, String>> entries, String wakeId, CompletableFuture<Read> next) {
    }

    /**
     * Reads the entries after {@code id}, waiting up to {@code block} for one or for a wake-up
     * after {@code wakeId}. A read that brings entries asks for the next ones at once, from
     * Lettuce's event loop: the request goes out in the same wake-up of that thread as the answer
     * came in, and is under way while the reader delivers. (Asked for by the reader, it would wake
     * the event loop once more per entry.) Not while the reader is still delivering an earlier
     * read: then the reader asks itself, so that no more than two reads' entries wait for it. Nor
     * when the reader was woken: its tasks' commands would queue behind that read on the one
     * connection. Through the asynchronous API: the synchronous one calls each command through a
     * reflective proxy, which cost a tenth of the reader's time.
     */
    private CompletableFuture<Read> readFrom(String stream, String id, String wakeId) {
        return reading.async().xread(XReadArgs.Builder.block(block).count(BATCH),
                        XReadArgs.StreamOffset.from(stream, id), XReadArgs.StreamOffset.from(wakeKey, wakeId))
                .thenApply(entries -> received(stream, wakeId, entries))
                .toCompletableFuture();
    }

    private Read received(String stream, String wakeId, List<StreamMessage<String, String>> entries) {
        List<StreamMessage<String, String>> logged = new ArrayList<>(entries.size());
        String woken = wakeId;
        for (StreamMessage<String, String> entry : entries) {
            if (wakeKey.equals(entry.getStream())) {
                woken = entry.getId();
            } else {
                logged.add(entry);
            }
        }
        boolean readOn = !logged.isEmpty() && woken.equals(wakeId) && !delivering && running;
        return new Read(logged, woken, readOn ? readFrom(stream, logged.get(logged.size() - 1).getId(), woken) : null);
    }

    /**
     * Delivers one entry of the log to this node's sockets; its id is the event's offset
     * everywhere. An entry Redis took after its deadline is skipped: its sender was told it failed.
     */
    private void deliver(String id, ClusterMessage entry) {
        if (!inTime(id, entry)) {
            return;
        }
        boolean mine = cluster.nodeId().equals(entry.from());
        if (mine) {
            cluster.readBack(id);
        }
        Packet packet = decodePacket(entry.packet());
        BroadcastOptions options = new BroadcastOptions(orEmpty(entry.rooms()), exceptResent(id, entry.except()),
                entry.droppable());
        // A volatile event is never logged for recovery, so it names no offset.
        String offset = entry.droppable() ? null : id;
        if (entry.request() == null) {
            local.broadcast(namespace.encode(packet.withOffset(offset)), options);
            return;
        }
        ClusterAcks acks = mine ? cluster.broadcast(entry.request()) : null;
        if (mine && acks == null) {
            return;
        }
        AckCollector collector = mine ? acks.collector() : new RemoteAnswers(entry.from(), entry.request());
        long ackId = mine ? packet.ackId() : namespace.nextAckId();
        Frame frame = namespace.encode(new Packet(PacketType.EVENT, packet.namespace(), packet.event(), packet.args(),
                ackId, offset, packet.fields(), packet.attachments()));
        int reached = 0;
        for (String socketId : members(options)) {
            if (namespace.deliverWithAck(socketId, frame, collector)) {
                reached++;
            }
        }
        if (mine) {
            acks.counted(cluster.nodeId(), reached);
        } else {
            collector.expect(reached);
        }
    }

    /**
     * The ids in the entry's rooms, those of sessions waiting for their client included: an ack
     * request reaches such a session like any other event (logged for its replay, its answer not
     * awaited), as on one node. {@code fetchSockets} would name connected sockets only.
     */
    private Set<String> members(BroadcastOptions options) {
        Set<String> ids = local.sockets(options.rooms());
        if (!options.except().isEmpty()) {
            ids.removeAll(local.sockets(options.except()));
        }
        return ids;
    }

    /** Whether Redis took the entry before its deadline; if not, its sender was told it failed. */
    private static boolean inTime(String id, ClusterMessage entry) {
        return entry.deadline() <= 0 || StreamIds.millis(id) <= entry.deadline();
    }

    /** The entry's exceptions, plus the own rooms of sockets that were already sent it when taken in. */
    private Set<String> exceptResent(String id, Set<String> except) {
        if (resentUpTo.isEmpty()) {
            return orEmpty(except);
        }
        Set<String> all = new HashSet<>(orEmpty(except));
        resentUpTo.entrySet().removeIf(resent -> StreamIds.compare(id, resent.getValue()) > 0);
        all.addAll(resentUpTo.keySet());
        return all;
    }

    private void pause() {
        try {
            Thread.sleep(RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Sends the answers of this node's sockets to a broadcast emitted by another node back to it. */
    private final class RemoteAnswers implements AckCollector {
        private final String origin;
        private final String request;

        RemoteAnswers(String origin, String request) {
            this.origin = origin;
            this.request = request;
        }

        @Override
        public void expect(int recipients) {
            cluster.tell(origin, ClusterMessage.answer(ClusterMessage.ACK_COUNT, request, cluster.nodeId(), recipients,
                    null, null, null));
        }

        @Override
        public void accept(Arguments reply) {
            cluster.tell(origin, ClusterMessage.answer(ClusterMessage.ACK, request, cluster.nodeId(), 0, null, null,
                    encodePacket(namespace.name(), ClusterMessage.ACK, reply.list())));
        }

        /** As on one node, the origin stops waiting for a recipient whose socket ended. */
        @Override
        public void lost() {
            cluster.tell(origin, ClusterMessage.answer(ClusterMessage.ACK_LOST, request, cluster.nodeId(), 0, null, null,
                    null));
        }
    }

    // ---- packets inside the cluster ----

    /** Arguments as an event packet, whose decoding checks them; an answer travels as an event named after its kind. */
    static String encodePacket(String namespace, String event, List<RawJson> args) {
        return CODEC.encode(Packet.event(namespace, event, args, 0));
    }

    /**
     * A packet as one text for the cluster: binary attachments ride inside it, in base64 under
     * {@link #BINARY_FIELD}, so that every node delivers the same bytes.
     */
    static String encodePacket(Packet packet) {
        if (packet.attachments().isEmpty()) {
            return CODEC.encode(packet);
        }
        Map<String, RawJson> fields = new LinkedHashMap<>(packet.fields());
        fields.put(BINARY_FIELD, JsonMapper.toRaw(packet.attachments().stream()
                .map(bytes -> Base64.getEncoder().encodeToString(bytes)).toList()));
        return CODEC.encode(new Packet(packet.type(), packet.namespace(), packet.event(), packet.args(), packet.ackId(),
                packet.offset(), fields));
    }

    static Packet decodePacket(String text) {
        try {
            Packet packet = CODEC.decode(text);
            RawJson binary = packet.field(BINARY_FIELD);
            if (binary == null) {
                return packet;
            }
            Map<String, RawJson> fields = new LinkedHashMap<>(packet.fields());
            fields.remove(BINARY_FIELD);
            List<byte[]> attachments = binary.elements().stream()
                    .map(element -> Base64.getDecoder().decode(Objects.requireNonNullElse(element.stringValue(), "?")))
                    .toList();
            return new Packet(packet.type(), packet.namespace(), packet.event(), packet.args(), packet.ackId(),
                    packet.offset(), fields, attachments);
        } catch (ProtocolException | IllegalArgumentException e) {
            throw new IllegalArgumentException("a packet from the cluster is unreadable: " + e.getMessage(), e);
        }
    }

    private static Set<String> orEmpty(Set<String> rooms) {
        return rooms == null ? Set.of() : rooms;
    }
}
