package dev.switchboard.adapter.redis;

import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.server.SessionRecord;
import dev.switchboard.server.SessionStore;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The cluster's session records in Redis, shared by every node, so that a client recovers on any
 * node, even when the node that held its connection died. A connected socket's record is kept
 * while its node beats (each heartbeat renews it) and for the recovery window plus the node
 * timeout after; a dropped socket's record until its window ends. A claim takes a record
 * atomically and leaves a mark that stops the node that lost the session from writing it again.
 *
 * <pre>{@code
 * RedisCluster cluster = RedisCluster.builder("redis://10.0.0.5:6379").connect();
 * SwitchboardOptions.builder().adapter(cluster.adapters()).sessionStore(cluster.sessionStore()).build();
 * }</pre>
 *
 * <p>Threads: any; every call is one script on the cluster's command connection.
 */
final class RedisSessionStore implements SessionStore {
    private static final System.Logger LOG = System.getLogger(RedisSessionStore.class.getName());
    /**
     * KEYS: the record, the claim mark, this node's set of connected records, the set of nodes
     * that have such records, this node's waiting records, the fenced set. ARGV: the record, its
     * time to live, its private id, whether it is connected (renewed by the heartbeat), this node.
     * Answers whether it saved. A claim's mark stops every node but the claimant's: a Socket.IO
     * client keeps its private id when it recovers, so the node that claimed the record saves the
     * recovered socket's under the same key, and must, or the client could not recover a second
     * time. A node counted dead, until it has fenced itself, only writes over records still
     * there: one it lacks was ended by the node that adopted it (taken at the end of its window,
     * counted from this node's last beat, and its expiry told), and must not come back. A waiting
     * record is noted with its window's end, so that whoever adopts it after this node died (or
     * left) adopts that record only, not a later one under the same private id; the keys that
     * name it live at least as long as it does.
     */
    private static final String SAVE = """
            local mark = redis.call('GET', KEYS[2])
            if mark and string.sub(mark, 1, #ARGV[5] + 1) ~= ARGV[5] .. ':' then return 0 end
            if redis.call('SISMEMBER', KEYS[6], ARGV[5]) == 1 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            if ARGV[4] == '1' then
              redis.call('SADD', KEYS[3], ARGV[3])
              redis.call('PEXPIRE', KEYS[3], ARGV[2])
              redis.call('HDEL', KEYS[5], ARGV[3])
              redis.call('SADD', KEYS[4], ARGV[5])
              redis.call('PEXPIRE', KEYS[4], ARGV[2])
            else
              redis.call('SREM', KEYS[3], ARGV[3])
              redis.call('HSET', KEYS[5], ARGV[3], tostring(cjson.decode(ARGV[1]).expiresAt))
              redis.call('SADD', KEYS[4], ARGV[5])
              for _, key in ipairs({KEYS[4], KEYS[5]}) do
                if redis.call('PTTL', key) < tonumber(ARGV[2]) then redis.call('PEXPIRE', key, ARGV[2]) end
              end
            end
            return 1
            """;
    /**
     * KEYS: the record, the claim mark. ARGV: the namespace, how long the mark lasts at least,
     * the claim's token, which starts with the claimant's node id and a colon. The mark lasts as
     * long as the record would have: the old node may notice the drop only then, and must not
     * write the record back. It holds the token and the record, for {@link #UNCLAIM}, on two
     * lines. The scripts write {@code '\\n'} so that Lua, not the Java text block, reads the
     * escape: a newline inside a Lua string does not compile.
     */
    private static final String CLAIM = """
            local record = redis.call('GET', KEYS[1])
            if not record or cjson.decode(record).namespace ~= ARGV[1] then return false end
            local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2]))
            redis.call('DEL', KEYS[1])
            redis.call('SET', KEYS[2], ARGV[3] .. '\\n' .. record, 'PX', ttl)
            return record
            """;
    /**
     * KEYS: the record, the claim mark. ARGV: the token of a claim whose answer never came.
     * Puts the record back if that claim took it: Redis runs this after the claim, sent before it
     * on the same connection, whenever it runs that.
     */
    private static final String UNCLAIM = """
            local mark = redis.call('GET', KEYS[2])
            local prefix = ARGV[1] .. '\\n'
            if not mark or string.sub(mark, 1, #prefix) ~= prefix then return 0 end
            redis.call('SET', KEYS[1], string.sub(mark, #prefix + 1), 'PX', math.max(1, redis.call('PTTL', KEYS[2])))
            redis.call('DEL', KEYS[2])
            return 1
            """;
    /**
     * KEYS: the record, this node's set, the claim mark, this node's waiting records. ARGV: the
     * private id, this node. Answers whether the record was there and this node's. After another
     * node's claim, a record under the same private id is that node's (a recovered Socket.IO
     * client keeps its pid): the session that ends here was claimed, and must not take the
     * recovered one's record with it.
     */
    private static final String REMOVE = """
            redis.call('SREM', KEYS[2], ARGV[1])
            redis.call('HDEL', KEYS[4], ARGV[1])
            local mark = redis.call('GET', KEYS[3])
            if mark and string.sub(mark, 1, #ARGV[2] + 1) ~= ARGV[2] .. ':' then return 0 end
            return redis.call('DEL', KEYS[1])
            """;
    /**
     * KEYS: this node's set, the set of nodes that have records, this node's waiting records.
     * ARGV: the records' key prefix, their time to live, this node, the prefix of claim marks.
     * Renews the records of this node's connected sockets; forgets those gone, and the waiting
     * ones gone or claimed elsewhere (the session ended here without a word to the store). Keeps
     * this node among those whose records a live node adopts when it dies, however long nobody
     * saved a record: else a quiet spell longer than the records' life leaves them nobody's.
     */
    static final String RENEW = """
            for _, pid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
              if redis.call('PEXPIRE', ARGV[1] .. pid, ARGV[2]) == 0 then redis.call('SREM', KEYS[1], pid) end
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            for _, pid in ipairs(redis.call('HKEYS', KEYS[3])) do
              local mark = redis.call('GET', ARGV[4] .. pid)
              if redis.call('EXISTS', ARGV[1] .. pid) == 0 or (mark and string.sub(mark, 1, #ARGV[3] + 1) ~= ARGV[3] .. ':') then
                redis.call('HDEL', KEYS[3], pid)
              end
            end
            if redis.call('SCARD', KEYS[1]) > 0 or redis.call('HLEN', KEYS[3]) > 0 then
              redis.call('SADD', KEYS[2], ARGV[3])
              if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
            end
            return 0
            """;

    /**
     * KEYS: the node set (heartbeats), the set of nodes with connected records. ARGV: the prefix
     * of a node's set of connected records, this node, the node timeout, the prefix of records,
     * the prefix of claim marks, the prefix of a node's waiting records.
     * Takes the records of every node silent past the timeout (or gone: one that left cleanly),
     * those of its connected sockets and those of its sessions waiting for their client: answers,
     * to this one node, their private ids each followed by its record's time to live, the dead
     * node and the record's end of window, which {@link #TAKE} checks. A record another node claimed is that node's since (a recovered Socket.IO client keeps
     * its pid, and its new node saves under it): not an orphan, even though the dead node's set
     * still names it; nor is a waiting one whose window is not the one the node wrote.
     */
    private static final String ADOPT = """
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            local orphans = {}
            for _, node in ipairs(redis.call('SMEMBERS', KEYS[2])) do
              local beat = redis.call('ZSCORE', KEYS[1], node)
              if node ~= ARGV[2] and (not beat or tonumber(beat) < now - tonumber(ARGV[3])) then
                for _, pid in ipairs(redis.call('SMEMBERS', ARGV[1] .. node)) do
                  local mark = redis.call('GET', ARGV[5] .. pid)
                  local record = redis.call('GET', ARGV[4] .. pid)
                  if record and (not mark or string.sub(mark, 1, #node + 1) == node .. ':') then
                    table.insert(orphans, pid)
                    table.insert(orphans, redis.call('PTTL', ARGV[4] .. pid))
                    table.insert(orphans, node)
                    table.insert(orphans, tostring(cjson.decode(record).expiresAt))
                  end
                end
                local waiting = redis.call('HGETALL', ARGV[6] .. node)
                for i = 1, #waiting, 2 do
                  local pid = waiting[i]
                  local mark = redis.call('GET', ARGV[5] .. pid)
                  local record = redis.call('GET', ARGV[4] .. pid)
                  if record and (not mark or string.sub(mark, 1, #node + 1) == node .. ':')
                      and tostring(cjson.decode(record).expiresAt) == waiting[i + 1] then
                    table.insert(orphans, pid)
                    table.insert(orphans, redis.call('PTTL', ARGV[4] .. pid))
                    table.insert(orphans, node)
                    table.insert(orphans, waiting[i + 1])
                  end
                end
                redis.call('DEL', ARGV[1] .. node)
                redis.call('DEL', ARGV[6] .. node)
                redis.call('SREM', KEYS[2], node)
              end
            end
            return orphans
            """;
    /**
     * KEYS: the record, the claim mark, the node set. ARGV: the dead node, the adopted record's
     * end of window. Takes the record if it is still the dead node's: nobody claimed it since
     * {@link #ADOPT}, or the dead node did. The mark of a later claim outlasts the dead node's
     * record, so it is still there when this runs. Not if the node beats again (it was cut from
     * Redis, not dead, and fenced itself): it keeps its sessions waiting and ends them when their
     * window ends, counted from its fence, and what it claimed since under the same private id is
     * a live socket's. Nor if the record is another than the one adopted: the node lived again and
     * saved it since, with a later window, and whoever adopts it when that node dies again (or
     * leaves) takes it when that window ends.
     */
    private static final String TAKE = """
            if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return false end
            local mark = redis.call('GET', KEYS[2])
            if mark and string.sub(mark, 1, #ARGV[1] + 1) ~= ARGV[1] .. ':' then return false end
            local record = redis.call('GET', KEYS[1])
            if not record or tostring(cjson.decode(record).expiresAt) ~= ARGV[2] then return false end
            redis.call('DEL', KEYS[1])
            return record
            """;

    private final RedisCluster cluster;
    private final StatefulRedisConnection<String, String> connection;
    private final Clock clock;
    /** Where the orphan listeners and the ends of refused records run: the cluster's inbox, never Lettuce's event loop. */
    private final Executor listenerThread;
    /** How long a connected record outlives its node's last heartbeat: the window plus the node timeout. */
    private volatile long connectedMillis;
    private final List<Consumer<SessionRecord>> orphanListeners = new CopyOnWriteArrayList<>();

    RedisSessionStore(RedisCluster cluster, StatefulRedisConnection<String, String> connection, Clock clock,
                      Executor listenerThread) {
        this.cluster = cluster;
        this.connection = connection;
        this.clock = clock;
        this.listenerThread = listenerThread;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public CompletableFuture<Void> saveConnected(SessionRecord record) {
        connectedMillis = untilExpiry(record) + cluster.nodeTimeout().toMillis();
        return save(record, connectedMillis, true);
    }

    /**
     * A dropped socket's record outlives its window by the node timeout, so that the node whose
     * timer ends the window finds it there (and tells its application) unless another node claimed it.
     */
    @Override
    public CompletableFuture<Void> save(SessionRecord record) {
        return save(record, untilExpiry(record) + cluster.nodeTimeout().toMillis(), false);
    }

    /**
     * A waiting session whose record is refused is no longer this node's: another node claimed it,
     * or ended it while this one was counted dead. It ends here without a word, as when another
     * node says it claimed it; its client, back, starts afresh. A connected socket's refused record
     * is left to the socket's drop (a fenced node closes it at once).
     */
    private CompletableFuture<Void> save(SessionRecord record, long ttl, boolean connected) {
        return connection.async().<Long>eval(SAVE, ScriptOutputType.INTEGER,
                new String[] {recordKey(record.pid()), claimKey(record.pid()), ownSet(), cluster.key("session-nodes"),
                        ownWaiting(), cluster.key("fenced")},
                JsonMapper.toRaw(record).text(), Long.toString(ttl), record.pid(), connected ? "1" : "0", cluster.nodeId())
                .thenApply(saved -> {
                    if (saved == 0 && !connected) {
                        listenerThread.execute(() -> endedElsewhere(record));
                    }
                    return (Void) null;
                }).toCompletableFuture();
    }

    private void endedElsewhere(SessionRecord record) {
        RedisAdapter adapter = cluster.adapter(record.namespace());
        if (adapter != null) {
            adapter.endedElsewhere(record);
        }
    }

    /**
     * A claim that fails (its answer timed out, say while Redis was frozen) may still be run by
     * Redis later: it is then undone, so that the record is not lost to a claimant that gave up on
     * it, and the node that holds the session tells its application when its window ends.
     */
    @Override
    public CompletableFuture<Optional<SessionRecord>> claim(String namespace, String pid) {
        String token = cluster.nextRequestId();
        String[] keys = {recordKey(pid), claimKey(pid)};
        return connection.async().<String>eval(CLAIM, ScriptOutputType.VALUE,
                        keys, namespace, Long.toString(cluster.nodeTimeout().toMillis()), token)
                .whenComplete((text, failure) -> {
                    if (failure != null) {
                        unclaim(keys, token);
                    }
                })
                .thenApply(text -> readable(text, keys, token)).toCompletableFuture();
    }

    /**
     * The claimed record, or none when this node cannot read it (another version of the code wrote
     * it, in a rolling upgrade): the claim is undone, so that the node that wrote the record ends
     * the session and tells its application when the window ends, and the client starts afresh
     * rather than recover part of its session.
     */
    private Optional<SessionRecord> readable(String text, String[] keys, String token) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(text));
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "a session record this node cannot read is left to the node that"
                    + " wrote it; its client starts afresh", e);
            unclaim(keys, token);
            return Optional.empty();
        }
    }

    private void unclaim(String[] keys, String token) {
        connection.async().eval(UNCLAIM, ScriptOutputType.INTEGER, keys, token);
    }

    @Override
    public CompletableFuture<Void> remove(String pid) {
        return removed(pid).thenApply(removed -> (Void) null);
    }

    @Override
    public CompletableFuture<Boolean> expire(String pid) {
        return removed(pid);
    }

    private CompletableFuture<Boolean> removed(String pid) {
        return connection.async().<Long>eval(REMOVE, ScriptOutputType.INTEGER,
                new String[] {recordKey(pid), ownSet(), claimKey(pid), ownWaiting()}, pid, cluster.nodeId())
                .thenApply(count -> count == 1).toCompletableFuture();
    }

    @Override
    public void onOrphanExpired(Consumer<SessionRecord> listener) {
        orphanListeners.add(listener);
    }

    /**
     * Renews this node's connected records and adopts those of dead nodes: when their window
     * ends (counted from the death, which the node timeout took to notice), a record nobody
     * claimed goes to the listeners. Called by each heartbeat, on the scheduler.
     */
    void renew(ScheduledExecutorService scheduler) {
        if (connectedMillis > 0) {
            connection.sync().eval(RENEW, ScriptOutputType.INTEGER,
                    new String[] {ownSet(), cluster.key("session-nodes"), ownWaiting()},
                    cluster.key("session:"), Long.toString(connectedMillis), cluster.nodeId(), cluster.key("claimed:"));
        }
        List<Object> orphans = connection.sync().eval(ADOPT, ScriptOutputType.MULTI,
                new String[] {cluster.key("nodes"), cluster.key("session-nodes")}, cluster.key("sessions:"),
                cluster.nodeId(), Long.toString(cluster.nodeTimeout().toMillis()), cluster.key("session:"),
                cluster.key("claimed:"), cluster.key("waiting:"));
        for (int i = 0; i + 3 < orphans.size(); i += 4) {
            String pid = (String) orphans.get(i);
            String node = (String) orphans.get(i + 2);
            String expiresAt = (String) orphans.get(i + 3);
            // The record lives the window plus the node timeout after the death; its window ends
            // one node timeout before that.
            long delay = Math.max(0, ((Number) orphans.get(i + 1)).longValue() - cluster.nodeTimeout().toMillis());
            scheduler.schedule(() -> expireOrphan(pid, node, expiresAt), delay, TimeUnit.MILLISECONDS);
        }
    }

    private void expireOrphan(String pid, String node, String expiresAt) {
        connection.async().<String>eval(TAKE, ScriptOutputType.VALUE,
                        new String[] {recordKey(pid), claimKey(pid), cluster.key("nodes")}, node, expiresAt)
                .thenAcceptAsync(text -> {
                    if (text != null) {
                        SessionRecord record = decode(text);
                        orphanListeners.forEach(listener -> listener.accept(record));
                    }
                }, listenerThread);
    }

    private String ownSet() {
        return cluster.key("sessions:" + cluster.nodeId());
    }

    /** This node's sessions waiting for their client: private id to the end of the record's window. */
    private String ownWaiting() {
        return cluster.key("waiting:" + cluster.nodeId());
    }

    /** Counts every record in Redis, of every node: a scan (not {@code KEYS}, which blocks Redis). */
    @Override
    public int size() {
        int count = 0;
        for (ScanIterator<String> keys = ScanIterator.scan(connection.sync(), ScanArgs.Builder.matches(cluster.key("session:*")));
             keys.hasNext(); keys.next()) {
            count++;
        }
        return count;
    }

    private String recordKey(String pid) {
        return cluster.key("session:" + pid);
    }

    private String claimKey(String pid) {
        return cluster.key("claimed:" + pid);
    }

    private long untilExpiry(SessionRecord record) {
        return Math.max(1, Duration.between(clock.instant(), record.expiresAt()).toMillis());
    }

    private static SessionRecord decode(String text) {
        try {
            return JsonMapper.fromJson(RawJson.of(text), SessionRecord.class);
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("an unreadable session record in Redis: " + e.getMessage(), e);
        }
    }
}
