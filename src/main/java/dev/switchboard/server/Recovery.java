package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.Frame;
import dev.switchboard.protocol.Packet;
import java.net.URI;
import java.util.ArrayList;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Session recovery for one namespace: the sessions of clients that dropped, the connected sockets
 * by private id, and every call to the {@link SessionStore}. A socket that ends unexpectedly is
 * detached into a session that keeps its id, rooms, user and data and logs what it misses; the
 * session is resumed by its returning client, with the replay of what it missed, or expires.
 *
 * <p><b>The log lock.</b> A socket's {@link ReplayLog} is its lock, and passes to the session that
 * replaces it and to the socket that resumes that session. Three operations take it to hand a
 * socket id over: {@link Socket#deliver} (logs a frame and queues it, only while the socket is
 * connected), {@link Socket#end} around {@link #detach} (the socket stops being connected and its
 * session starts waiting) and {@link #resume} (the session stops waiting, the new socket is
 * connected and gets its connect answer and the replay). So a frame for a socket id is logged
 * and queued by the socket, or logged by the session, never lost between them, and a replay
 * comes before anything new. The lock also guards the log itself (appends, pong confirmations)
 * and a session's state, and orders the ending socket and its ended session as they let go of
 * the id, so that the last one frees its rooms ({@link #releaseRooms}). Nothing under it may
 * wait or leave this node's memory: no store call, no application callback (listeners,
 * middleware), no timer that could run its task at once; those come after it is released
 * ({@link #keep}, {@link #expire}). Queueing a frame never blocks, so it happens under the lock.
 *
 * <p>The store sees a session from the moment its record is saved, which happens after the lock,
 * so a claimant that ends a stale socket waits for that save ({@link #claim}). The replay log
 * itself stays in memory on this node. With a {@link SessionStore#shared() shared} store the
 * records of connected sockets are kept too, and a session claimed here whose log is on another
 * node (alive or dead) is taken in ({@link #takeIn}): it waits here, empty, while the adapter
 * logs into it from the cluster's log every event after the client's offset, then is resumed as
 * any other. Its expiry is told only when the store says nobody claimed it elsewhere.
 */
final class Recovery {
    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());
    /** Records written at once when a shared store lost them all; far below the Redis client's queue. */
    private static final int SAVES_AT_ONCE = 500;
    /** How long a save or removal that the store did not take waits to be sent again. */
    private static final Duration STORE_RETRY = Duration.ofSeconds(1);

    private final Namespace namespace;
    /**
     * Connected sockets by private id, so that a client back over a new connection before the
     * heartbeat has noticed its old one die (a phone that switched networks) takes its session
     * over. A socket whose session is kept stays here until the session's record is saved.
     */
    private final Map<String, Socket> byPid = new ConcurrentHashMap<>();
    /** Waiting sessions by socket id; added and resumed under their log lock, removed by any thread. */
    private final Map<String, DetachedSession> detached = new ConcurrentHashMap<>();
    /**
     * Waiting sessions by the private id their client recovered with before, when that client may
     * not have read the connect answer that named a new one (see {@link DetachedSession#formerPid}):
     * its connection dropped before a pong showed it had. A client back with the id it still holds
     * then recovers as with the new one. Only while the session waits here: such an id never ends
     * a live connection ({@link #releaseStale}); presented while the socket is connected, it gets
     * a fresh one.
     */
    private final Map<String, DetachedSession> byFormerPid = new ConcurrentHashMap<>();
    private final List<Consumer<DetachedSession>> expiryListeners = new CopyOnWriteArrayList<>();
    /**
     * Connected sockets whose record waits to be saved again ({@link #saveLater}); any thread. The
     * sockets, not their ids: a socket that resumes a session under the same id is another one.
     */
    private final Set<Socket> unsaved = ConcurrentHashMap.newKeySet();
    /** Whether a retry of {@link #unsaved} is scheduled, so that there is one for them all. */
    private final AtomicBoolean retrying = new AtomicBoolean();

    Recovery(Namespace namespace) {
        this.namespace = namespace;
    }

    Map<String, DetachedSession> detachedView() {
        return Collections.unmodifiableMap(detached);
    }

    void onExpired(Consumer<DetachedSession> listener) {
        expiryListeners.add(listener);
    }

    /** The session waiting under a socket id, or null; deliveries log into it. */
    DetachedSession waiting(String socketId) {
        return detached.get(socketId);
    }

    void connected(Socket socket) {
        byPid.put(socket.pid(), socket);
        saveConnected(socket);
    }

    /**
     * Keeps a connected socket's record in a shared store (at connect and when its rooms or user
     * change), so that its client can recover on another node even if this one dies.
     */
    void saveConnected(Socket socket) {
        if (store().shared()) {
            saved(socket);
        }
    }

    /** Saves a connected socket's record; the future completes when the store answered, either way. */
    private CompletableFuture<?> saved(Socket socket) {
        SwitchboardOptions options = namespace.switchboard().options();
        Instant expiresAt = options.clock().instant().plus(options.recoveryWindow());
        socket.recordSaving(expiresAt);
        return call(() -> store().saveConnected(socket.record(expiresAt)))
                .handle((saved, failure) -> {
                    if (failure != null) {
                        namespace.switchboard().warnings().warn(LOG, "saving a connected session of " + namespace.name()
                                + " failed; saved again once the store answers", failure);
                        saveLater(socket);
                    } else {
                        socket.recordSaved(expiresAt);
                    }
                    return null;
                });
    }

    /**
     * A connected socket whose record the store did not take (Redis unreachable for a moment,
     * too briefly to fence this node): saved again, as it is by then, once the adapter reaches the
     * cluster, for as long as it is connected. Else the change that failed to save (a room joined,
     * a new user) would be lost to its client's recovery elsewhere whenever this node dies. One
     * retry at a time takes every such socket, in batches ({@link #saveAgain}).
     */
    private void saveLater(Socket socket) {
        unsaved.add(socket);
        if (retrying.compareAndSet(false, true)) {
            onceAvailable(() -> {
                // Cleared first: a socket that fails after the copy below schedules the next retry.
                retrying.set(false);
                List<Socket> again = List.copyOf(unsaved);
                unsaved.removeAll(again);
                saveAgain(again.iterator());
            });
        }
    }

    /**
     * Runs {@code task} a moment from now, once the adapter reaches the cluster (on a callback
     * thread); never once the server is closing.
     */
    private void onceAvailable(Runnable task) {
        Switchboard switchboard = namespace.switchboard();
        if (switchboard.closing()) {
            return;
        }
        switchboard.later(() -> {
            if (switchboard.closing()) {
                return;
            }
            if (namespace.adapter().available()) {
                task.run();
            } else {
                onceAvailable(task);
            }
        }, STORE_RETRY);
    }

    /**
     * The adapter changed the rooms of a socket or of a session waiting here from outside it (a
     * {@code socketsJoin} or {@code socketsLeave}, perhaps from another node's HTTP API). A shared
     * store must hear of it as it does of {@link Socket#join}: the client may recover from that
     * record on another node, or after this node died, and would else be put back in the rooms it
     * had before (and be sent what went to them meanwhile).
     */
    void roomsChangedFor(String socketId) {
        if (!store().shared()) {
            return;
        }
        Socket socket = namespace.sockets().get(socketId);
        if (socket != null && socket.connected()) {
            saveConnected(socket);
            return;
        }
        DetachedSession session = detached.get(socketId);
        // Not one taken in from the store for a recovery here: its record is claimed, and must
        // not come back.
        if (session != null && !session.takenIn() && session.waiting()) {
            // After its first save, on the same connection, so that this one comes last.
            session.stored().thenRun(() -> warnOnFailure(call(() -> store().save(session.record())),
                    "saving a session"));
        }
    }

    /** A socket ended and no session is kept for it. */
    void dropPrivateId(Socket socket) {
        byPid.remove(socket.pid(), socket);
        if (store().shared()) {
            removeRecord(socket.pid());
        }
    }

    /**
     * Removes the record of a connected socket that ended for good. One that the store did not
     * remove (Redis unreachable for a moment) is removed once it answers: else this node's
     * heartbeat renews it for as long as the node lives, and whoever adopts it when the node dies
     * tells the application that a session long gone expired. Not while a socket here uses the
     * private id again.
     */
    private void removeRecord(String pid) {
        call(() -> store().remove(pid)).whenComplete((removed, failure) -> {
            if (failure != null) {
                namespace.switchboard().warnings().warn(LOG, "removing a connected session of " + namespace.name()
                        + " failed; removed once the store answers", failure);
                onceAvailable(() -> {
                    if (!byPid.containsKey(pid)) {
                        removeRecord(pid);
                    }
                });
            }
        });
    }

    private SessionStore store() {
        return namespace.switchboard().options().sessionStore();
    }

    private void warnOnFailure(CompletableFuture<?> call, String what) {
        call.exceptionally(failure -> {
            namespace.switchboard().warnings().warn(LOG, what + " of " + namespace.name() + " failed", failure);
            return null;
        });
    }

    /** A store's (or adapter's) answer, as a future even when the call throws. */
    private static <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Makes the session that replaces a socket whose connection dropped. Caller holds the socket's
     * log lock and then calls {@link #keep} once it has released it.
     */
    DetachedSession detach(Socket socket, DisconnectReason reason) {
        SwitchboardOptions options = namespace.switchboard().options();
        DetachedSession session = new DetachedSession(socket, options.clock().instant().plus(options.recoveryWindow()));
        // Counted either way; held to the caps only when its client could have caused the drop: a
        // drain or a shutdown drops every client at once, none of which chose to.
        boolean within = register(session);
        session.withinCaps(within || !reason.clientMayCause());
        if (session.formerPid() != null) {
            byFormerPid.put(session.formerPid(), session);
        }
        return session;
    }

    /** Lists a session as waiting here, counted against the caps on them; answers whether it is within them. */
    private boolean register(DetachedSession session) {
        String address = namespace.switchboard().options().addressKey(session.handshake().remoteAddress());
        boolean[] replaced = {false};
        detached.compute(session.id(), (id, old) -> {
            // One under the same id is no longer listed, so forget() skips it: this one takes its
            // count, under the address it was counted for.
            replaced[0] = old != null;
            session.countedFor(old != null ? old.countedFor() : address);
            return session;
        });
        return replaced[0] || namespace.switchboard().sessionWaits(address);
    }

    /**
     * Starts the window of a session just detached and saves its record; outside the log lock. A
     * session past the caps on waiting sessions ends at once, as if its window were over.
     */
    void keep(DetachedSession session, Socket socket) {
        Switchboard switchboard = namespace.switchboard();
        if (!session.withinCaps()) {
            switchboard.warnings().warn(LOG, "a dropped session ended at once: maxWaitingSessions reached",
                    "from " + session.countedFor(), null);
        }
        Duration window = session.withinCaps() ? switchboard.options().recoveryWindow() : Duration.ZERO;
        session.expiry(switchboard.later(() -> expire(session), window));
        call(() -> store().save(session.record())).whenComplete((saved, failure) -> {
            if (failure != null) {
                switchboard.warnings().warn(LOG, "saving a session of " + namespace.name() + " failed", failure);
            }
            session.stored().complete(null);
            byPid.remove(socket.pid(), socket);
        });
    }

    /**
     * The session a client that presents {@code pid} and last saw {@code offset} takes over, or
     * null: the client then starts afresh. A socket still connected here under that pid over
     * another connection is ended first: that connection is dead, though the heartbeat has not
     * said so yet. A session that cannot give the client everything it missed ends here, so that
     * the client starts with a new id rather than inherit part of the old session.
     *
     * <p>On the claimant's reading thread, which waits for the store's claim.
     *
     * @throws ClaimFailed when the store did not answer: the record is still there (a claim that
     *         the store runs late is undone), so the client should come back rather than start afresh
     */
    DetachedSession claim(String pid, String offset, Connection claimant) throws ClaimFailed {
        if (pid == null) {
            return null;
        }
        releaseStale(pid, claimant);
        DetachedSession formerly = byFormerPid.get(pid);
        String claimed = formerly != null ? formerly.pid() : pid;
        if (formerly != null) {
            // Claimed under its current pid, so after its record is saved, as releaseStale waits.
            formerly.stored().join();
        }
        Optional<SessionRecord> record;
        try {
            record = call(() -> store().claim(namespace.name(), claimed)).thenApply(this::markedClaimed).join();
        } catch (CompletionException | CancellationException failure) {
            namespace.switchboard().warnings().warn(LOG, "claiming a session of " + namespace.name()
                    + " failed; its client is told to come back", failure);
            throw new ClaimFailed();
        }
        DetachedSession session = record.map(this::savedHere).orElse(null);
        if (session == null && record.isPresent() && store().shared()) {
            // Saved by another node (or by this one before it lost the session): its log is not
            // here, the adapter's shared log sends the missed events again.
            session = takeIn(record.get(), offset, claimant);
        } else if (session != null && !session.recoverableFrom(offset)) {
            expireClaimed(session);
            session = null;
        }
        if (session == null) {
            namespace.switchboard().metrics().failedRecoveries.increment();
        } else {
            session.presentedPid(pid);
        }
        return session;
    }

    /**
     * Marks the session waiting here whose record the store just handed over, on the thread that
     * completes the claim: a store answers in order, so an expiry racing the claim, whose removal
     * of the record the store answers after it, finds the mark and tells the end (the store no
     * longer has the record to say so).
     */
    private Optional<SessionRecord> markedClaimed(Optional<SessionRecord> record) {
        record.map(this::savedHere).ifPresent(DetachedSession::claimedHere);
        return record;
    }

    /**
     * The session waiting here that saved {@code claimed}, or null. A session under the same id
     * and private id may wait here and still be stale: a Socket.IO client keeps its private id when
     * it recovers, so after recovering on another node (which saved the record since) it presents
     * the same one here again. Only the session's own record says when its window ends.
     */
    private DetachedSession savedHere(SessionRecord claimed) {
        return waitingAs(claimed.id(), claimed.pid(), claimed.expiresAt());
    }

    /** The session waiting here under this id, if its private id and window are these; else null. */
    private DetachedSession waitingAs(String socketId, String pid, Instant expiresAt) {
        DetachedSession candidate = detached.get(socketId);
        return candidate != null && candidate.pid().equals(pid) && candidate.expiresAt().equals(expiresAt)
                ? candidate : null;
    }

    /**
     * A session claimed from a shared store whose log is elsewhere: it waits here while the
     * adapter puts it in its rooms and logs into it, in order, every event after what the client
     * saw, then whatever comes next. Null, with the session ended, when that cannot be exact.
     */
    private DetachedSession takeIn(SessionRecord record, String offset, Connection claimant) {
        SwitchboardOptions options = namespace.switchboard().options();
        releaseClaimedElsewhere(record.id());
        // The node that held it keeps it waiting, counted and logging into memory, until its
        // window ends, unless told that its record is claimed.
        namespace.adapter().sessionTakenOver(record.id(), record.pid(), record.expiresAt());
        DetachedSession session = new DetachedSession(namespace, record, claimant.handshake(), offset,
                options.clock().instant().plus(options.recoveryWindow()));
        // Registered first, so that events routed to its id from now on are logged into it. Its
        // client is back: it is taken in whatever the caps on waiting sessions.
        register(session);
        // A value its client holds in place of an offset (after a volatile event) stands where the
        // record says: the node that held the session knew what it sent.
        String placed = record.placed(offset);
        String from = placed != null ? placed : record.since();
        boolean exact = from != null && call(() -> namespace.adapter().resend(record.id(), record.rooms(),
                record.roomHistory(), from, record.since(), record.unnamedThrough()))
                .exceptionally(failure -> {
                    namespace.switchboard().warnings().warn(LOG, "resending to a session of " + namespace.name()
                            + " failed", failure);
                    return false;
                })
                .join();
        if (!exact || !session.recoverableFrom(offset)) {
            expireClaimed(session);
            return null;
        }
        return session;
    }

    /**
     * A session this node still keeps under a socket id whose record was just claimed here from
     * another node: the client recovered elsewhere since (a native client with a new private id,
     * a Socket.IO client with the same) and is back. This node's old session is stale: its rooms
     * are those it had then, and every event to them since was delivered elsewhere. It ends
     * silently (the session lives on), and its rooms go before the session taken in joins the
     * record's: else the stale rooms stay, and the events the reader routes to them before the
     * resend would be logged and then sent again by it.
     */
    private void releaseClaimedElsewhere(String socketId) {
        DetachedSession stale = detached.get(socketId);
        if (stale != null) {
            endSilently(stale);
        }
    }

    /**
     * Another node claimed the record of a session: if it is the one waiting here (the same
     * private id and window, as {@link #savedHere} checks), its client recovered there. It ends
     * silently and leaves its rooms, as in {@link #releaseClaimedElsewhere}; another session
     * under that id (taken in here since) is not that record's and stays. If the record is one
     * the socket still connected here saved, its client came back there before this node noticed
     * the connection die: the connection ends, as {@link #releaseStale} ends it for a claim on
     * this node, and the session it leaves ends silently too. A socket that came back here since,
     * under the same ids (a socket.io-client keeps its pid), saved no such record, and stays. On
     * a callback thread: its disconnect listeners run.
     */
    void takenOverElsewhere(String socketId, String pid, Instant expiresAt) {
        DetachedSession stale = waitingAs(socketId, pid, expiresAt);
        if (stale != null) {
            endSilently(stale);
            return;
        }
        Socket live = byPid.get(pid);
        if (live != null && live.mayHaveSaved(expiresAt)) {
            namespace.switchboard().later(() -> {
                // Its private id may be another socket's by now, whose session shares its log.
                if (byPid.get(pid) != live) {
                    return;
                }
                live.connection().terminate(DisconnectReason.TRANSPORT_CLOSE);
                live.end(live.connection().endReason());
                DetachedSession left = detached.get(socketId);
                if (left != null && left.log() == live.log()) {
                    endSilently(left);
                }
            }, Duration.ZERO);
        }
    }

    /**
     * The adapter lost events meant for this node's sockets ({@link dev.switchboard.adapter.LocalNamespace#eventsLost}):
     * the logs of the sockets and of the sessions waiting here lack them. The sockets first: one
     * that ends meanwhile waits as a session before it stops being a socket.
     */
    void eventsLost() {
        for (Socket socket : namespace.sockets().values()) {
            lose(socket.log());
        }
        for (DetachedSession session : detached.values()) {
            lose(session.log());
        }
    }

    private static void lose(ReplayLog log) {
        synchronized (log) {
            log.lose();
        }
    }

    /** Ends a session whose client recovered on another node: no expiry told, its rooms left. */
    private void endSilently(DetachedSession stale) {
        if (stale.claimForExpiry()) {
            forget(stale);
            releaseRooms(stale.id(), stale.log());
        }
    }

    private void releaseStale(String pid, Connection claimant) {
        Socket stale = byPid.get(pid);
        if (stale == null || stale.connection() == claimant) {
            return;
        }
        stale.connection().terminate(DisconnectReason.TRANSPORT_CLOSE);
        // Another thread may be ending that connection and not have reached this socket yet (a
        // ping timeout leaves its sockets' ends to a callback thread). The socket ends as its
        // connection did; whichever thread detached its session, its record must be saved
        // before the store is asked for it.
        stale.end(stale.connection().endReason());
        DetachedSession session = detached.get(stale.id());
        if (session != null) {
            session.stored().join();
        }
    }

    /**
     * Hands a session to its returning client and replays what it missed, before anything new.
     *
     * @return false, with the session ended, when it expired meanwhile or its log no longer covers {@code offset}
     */
    boolean resume(Socket socket, DetachedSession session, String offset) {
        List<Frame> missed;
        synchronized (session.log()) {
            if (!session.claimForRecovery()) {
                return false;
            }
            missed = session.log().after(offset);
            if (missed != null) {
                session.log().confirm(offset);
                session.log().resumedFrom(offset);
                namespace.moveUserRoom(socket.id(), session.userId(), socket.userId());
                namespace.connect(socket, true, missed.stream().map(this::withoutAckRequest).toList());
                // Only once the socket is registered: a delivery that looks the id up in between
                // (sockets first, then sessions) would find neither and drop the frame. Found
                // here, the session refuses (recovered) and the delivery looks again.
                forget(session);
            }
        }
        if (missed == null) {
            ended(session, CompletableFuture.completedFuture(true));
            return false;
        }
        namespace.switchboard().metrics().recoveries.increment();
        return true;
    }

    /**
     * The server failed every ack it was waiting for when the connection dropped, so a replayed
     * event must not ask for one: the client's answer would be dropped as unknown.
     */
    private Frame withoutAckRequest(Frame frame) {
        Packet packet = frame.packet();
        if (packet.ackId() == 0) {
            return frame;
        }
        return Frame.encode(namespace.switchboard().codec(), packet.withAckId(0));
    }

    /**
     * Ends a session's wait whose record is still in the store: its window ran out, or it
     * overflowed. The application hears of it only if the store still had the record: a shared
     * store may have handed it to another node, where the client recovered. A session whose
     * record this node claimed already (taken in here, or kept here for a client that is being
     * checked again) is this node's to tell: its log overflowed meanwhile, and no other node can.
     */
    void expire(DetachedSession session) {
        if (session.claimForExpiry()) {
            ended(session, session.takenIn() ? CompletableFuture.completedFuture(true)
                    // After the save, or the record would outlive the session.
                    : session.stored().thenCompose(saved -> store().expire(session.pid()))
                            .thenApply(removed -> removed || session.wasClaimedHere()));
        }
    }

    /**
     * A session of a node that died, whose window ended unclaimed: this node tells the
     * application, with what the record kept (no handshake: the connection was another node's).
     */
    void orphanExpired(SessionRecord record) {
        Handshake none = new Handshake(URI.create(namespace.name()), Map.of(), Map.of(), null,
                record.expiresAt(), null);
        expireClaimed(new DetachedSession(namespace, record, none, null, record.expiresAt()));
    }

    /**
     * The shared store lost every record (Redis restarted empty). The sessions waiting here can no
     * longer be claimed, so they end now and the application hears of each, once: no other node
     * knows them. The connected sockets' records are written again, so that their clients can
     * still recover elsewhere should this node die.
     */
    void storeLost() {
        for (DetachedSession session : detached.values()) {
            if (session.claimForExpiry()) {
                ended(session, CompletableFuture.completedFuture(true));
                // A save of its record sent before the restart may reach the new store after it
                // (the client queues commands while it reconnects): a claim would find the session
                // again, take it in, and tell its end a second time. Removed after that save.
                warnOnFailure(call(() -> store().remove(session.pid())), "removing a session the store lost");
            }
        }
        saveAgain(List.copyOf(namespace.sockets().values()).iterator());
    }

    /**
     * Saves the records of {@code sockets} a batch at a time: all at once, a node's many thousands
     * would overflow the store's bounded queue of requests, and fail the emits sent meanwhile.
     */
    private void saveAgain(Iterator<Socket> sockets) {
        List<CompletableFuture<?>> batch = new ArrayList<>();
        while (sockets.hasNext() && batch.size() < SAVES_AT_ONCE) {
            Socket socket = sockets.next();
            if (socket.connected()) {
                batch.add(saved(socket));
            }
        }
        if (!batch.isEmpty()) {
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).thenRun(() -> saveAgain(sockets));
        }
    }

    /** Ends a session's wait after its record was claimed here: its client came back too late or was refused. */
    void expireClaimed(DetachedSession session) {
        if (session.claimForExpiry()) {
            ended(session, CompletableFuture.completedFuture(true));
        }
    }

    /**
     * Leaves every room of a socket id that neither a socket nor a waiting session holds any more.
     * A socket whose session is kept and that session each call this once they let go of the id:
     * the session may expire (or overflow) while its socket is still ending, and then the socket
     * lets go last. Checked under the id's log lock, after the caller's removal, so that whichever
     * lets go last sees the other gone.
     */
    void releaseRooms(String socketId, ReplayLog log) {
        boolean held;
        synchronized (log) {
            held = namespace.sockets().containsKey(socketId) || detached.containsKey(socketId);
        }
        if (!held) {
            namespace.adapter().delAll(socketId);
        }
    }

    /** A session stops waiting here: recovered, ended, or gone to another node. */
    private void forget(DetachedSession session) {
        if (detached.remove(session.id(), session)) {
            namespace.switchboard().sessionStoppedWaiting(session.countedFor());
        }
        if (session.formerPid() != null) {
            byFormerPid.remove(session.formerPid(), session);
        }
    }

    /** Frees a session that will not be recovered and, once it is known to be ours, tells the application. */
    private void ended(DetachedSession session, CompletableFuture<Boolean> ours) {
        forget(session);
        releaseRooms(session.id(), session.log());
        ours.exceptionally(failure -> {
            namespace.switchboard().warnings().warn(LOG, "removing a session of " + namespace.name() + " failed", failure);
            return true;
        }).thenAccept(expired -> {
            if (expired) {
                for (Consumer<DetachedSession> listener : expiryListeners) {
                    namespace.switchboard().hooks().run(() -> "session expiry listener of " + namespace.name()
                            + " failed", session.id(), null, () -> listener.accept(session));
                }
            }
        });
    }

    /** The session store did not answer a claim; see {@link #claim}. */
    static final class ClaimFailed extends Exception {
        ClaimFailed() {
            super(null, null, false, false);
        }
    }
}
