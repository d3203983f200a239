package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.Frame;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;

/**
 * A socket whose connection dropped unexpectedly, kept for the recovery window: its id, user,
 * data and rooms stay, and the events addressed to it are logged for its return.
 *
 * <pre>{@code
 * chat.onSessionExpired(session -> chat.emit("left", session.data().get("name")));
 * }</pre>
 *
 * <p>On a cluster with a shared store it may also be a session another node held, taken in by
 * this node for its returning client (no handshake of its own: the one it came back with).
 *
 * <p>Its state changes under the lock of its {@link ReplayLog}, the same lock deliveries take
 * (the protocol is stated on {@link Recovery}).
 */
public final class DetachedSession implements RemoteSocket {
    private enum State { WAITING, RECOVERED, EXPIRED }

    private final Namespace namespace;
    private final String id;
    private final String pid;
    private final String userId;
    private final Handshake handshake;
    private final Map<String, Object> data;
    private final ReplayLog log;
    private final SeenMessages seenMessages;
    private final Instant expiresAt;
    /** Where the socket joined the adapter's log (see {@link SessionRecord#since()}). */
    private final String since;
    /** Whether it was claimed from a shared store and taken in here: the store no longer has its record. */
    private final boolean takenIn;
    /**
     * A private id its client may hold instead of {@link #pid}: the one it recovered with, when its
     * connection dropped before it was seen to read the answer naming the new one; or null.
     */
    private final String formerPid;
    /** The private id its returning client presented; set by the claim, before the socket that resumes it is made. */
    private volatile String presentedPid;
    /** Whether it is within the caps on waiting sessions; set when it is made, read as it is kept, on that thread. */
    private boolean withinCaps = true;
    /** The client address key it counts for against those caps; set as it is listed, before anyone can see it. */
    private String countedFor;
    /**
     * Whether this node claimed its record from the store for the returning client: set on the
     * thread that completes the claim, before the store's next answer is read.
     */
    private volatile boolean claimedHere;
    /** Completed once the store has its record (or failed to take it), whatever thread saved it. */
    private final CompletableFuture<Void> stored = new CompletableFuture<>();
    /** Guarded by the log lock. */
    private State state = State.WAITING;
    /** Guarded by the log lock. */
    private ScheduledFuture<?> expiry;

    DetachedSession(Socket socket, Instant expiresAt) {
        this.namespace = socket.namespace();
        this.id = socket.id();
        this.pid = socket.pid();
        this.userId = socket.userId();
        // Without the connect's auth: up to a message's size, the client's to choose, and kept for
        // the whole window by a client that drops as often as it likes; its return brings its auth again.
        this.handshake = socket.handshake().withAuth(null);
        this.data = socket.data();
        this.log = socket.log();
        this.seenMessages = socket.seenMessages();
        this.expiresAt = expiresAt;
        this.since = socket.since();
        this.takenIn = false;
        this.formerPid = socket.formerPid();
    }

    /**
     * A session another node held, claimed from a shared store: its log starts empty after
     * {@code offset} (what the client holds, placed as the record says) and is filled from the
     * adapter's log. The answers to
     * the client's messages it remembered stay on that node.
     */
    DetachedSession(Namespace namespace, SessionRecord record, Handshake handshake, String offset, Instant expiresAt) {
        SwitchboardOptions options = namespace.switchboard().options();
        this.namespace = namespace;
        this.id = record.id();
        this.pid = record.pid();
        this.userId = record.userId();
        this.handshake = handshake;
        this.data = new ConcurrentHashMap<>(record.data());
        this.log = new ReplayLog(options.recoveryMaxEvents(), options.recoveryMaxBytes());
        this.log.startAfter(record.placed(offset), offset, record.unnamedThrough());
        this.seenMessages = new SeenMessages();
        this.expiresAt = expiresAt;
        this.since = record.since();
        this.takenIn = true;
        this.formerPid = null;
        stored.complete(null);
    }

    boolean takenIn() {
        return takenIn;
    }

    /** This node claimed its record: the store no longer has it, so its end is this node's to tell. */
    void claimedHere() {
        claimedHere = true;
    }

    boolean wasClaimedHere() {
        return claimedHere;
    }

    String since() {
        return since;
    }

    @Override
    public String id() {
        return id;
    }

    /** The private id a client presents to recover. */
    public String pid() {
        return pid;
    }

    @Override
    public String userId() {
        return userId;
    }

    /** The handshake of the connection it dropped from, without the connect's auth payload (JSON {@code null}). */
    @Override
    public Handshake handshake() {
        return handshake;
    }

    @Override
    public Set<String> rooms() {
        return namespace.adapter().socketRooms(id);
    }

    @Override
    public Map<String, Object> data() {
        return data;
    }

    String formerPid() {
        return formerPid;
    }

    String presentedPid() {
        return presentedPid;
    }

    void presentedPid(String pid) {
        presentedPid = pid;
    }

    /** The namespace it belongs to. */
    public Namespace namespace() {
        return namespace;
    }

    String countedFor() {
        return countedFor;
    }

    void countedFor(String address) {
        countedFor = address;
    }

    boolean withinCaps() {
        return withinCaps;
    }

    void withinCaps(boolean within) {
        withinCaps = within;
    }

    /** When the window ends. */
    public Instant expiresAt() {
        return expiresAt;
    }

    ReplayLog log() {
        return log;
    }

    SeenMessages seenMessages() {
        return seenMessages;
    }

    CompletableFuture<Void> stored() {
        return stored;
    }

    /** What the store keeps of this session: everything but the live log. */
    SessionRecord record() {
        return namespace.record(id, pid, userId, data, log, expiresAt, since, true);
    }

    /** The window's timer, set once it is scheduled; one that comes after the wait ended is called off. */
    void expiry(ScheduledFuture<?> timer) {
        synchronized (log) {
            expiry = timer;
            if (state != State.WAITING) {
                cancelExpiry();
            }
        }
    }

    /**
     * Logs a frame the client missed.
     *
     * @return false when the session no longer waits (recovered or expired): route elsewhere
     */
    boolean append(Frame frame) {
        boolean overflowed;
        synchronized (log) {
            if (state != State.WAITING) {
                return false;
            }
            overflowed = log.append(frame);
        }
        if (overflowed) {
            // The client can no longer get everything: free the memory now, not at the window's end.
            namespace.recovery().expire(this);
        }
        return true;
    }

    /** Whether it still waits for its client (neither recovered nor expired). */
    boolean waiting() {
        synchronized (log) {
            return state == State.WAITING;
        }
    }

    /** Whether a client that last saw {@code offset} could get everything it missed now. */
    boolean recoverableFrom(String offset) {
        synchronized (log) {
            return state == State.WAITING && log.covers(offset);
        }
    }

    /** Marks the session recovered; false if it already expired. Caller holds the log lock. */
    boolean claimForRecovery() {
        if (state != State.WAITING) {
            return false;
        }
        state = State.RECOVERED;
        cancelExpiry();
        return true;
    }

    /** Marks the session expired; false if it was recovered or expired before. */
    boolean claimForExpiry() {
        synchronized (log) {
            if (state != State.WAITING) {
                return false;
            }
            state = State.EXPIRED;
            cancelExpiry();
            return true;
        }
    }

    private void cancelExpiry() {
        if (expiry != null) {
            expiry.cancel(false);
        }
    }
}
