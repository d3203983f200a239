package dev.switchboard.server;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Where the records of sessions waiting for their client are kept, by private id. The store
 * decides which returning client gets a session: {@link #claim} hands a record out once. The
 * replay log of what the client missed is not stored: it stays in memory on the node that held
 * the connection; with a {@link #shared()} store, another node recovers the session from its
 * adapter's log instead. {@link InMemorySessionStore} is the
 * default; a store on a network service (Redis, say) answers with futures that complete later.
 *
 * <pre>{@code
 * SwitchboardOptions.builder().sessionStore(new InMemorySessionStore()).build();
 * }</pre>
 *
 * <p>Threads: any thread calls, several at once. The server never calls it while holding a lock,
 * and waits for {@link #claim} on the reading thread of the client that claims.
 */
public interface SessionStore {
    /** Keeps a record until it is claimed or removed. */
    CompletableFuture<Void> save(SessionRecord record);

    /**
     * Removes and returns the record saved under {@code pid} for {@code namespace}; empty when
     * there is none, it belongs to another namespace, or another claimant took it first.
     */
    CompletableFuture<Optional<SessionRecord>> claim(String namespace, String pid);

    /** Forgets a record (its session ended); nothing happens when there is none. */
    CompletableFuture<Void> remove(String pid);

    /**
     * Removes the record of a session whose window ended on this node; completes with whether it
     * was still there. False means another node claimed it (and recovered it): the session did not
     * expire, so its expiry listeners do not run.
     */
    default CompletableFuture<Boolean> expire(String pid) {
        return remove(pid).thenApply(removed -> true);
    }

    /**
     * Whether the nodes of a cluster share this store. The server then also keeps the record of
     * every connected socket in it ({@link #saveConnected}, at connect and when its rooms or user
     * change), so that a client whose node died can recover on another node; a node that claims a
     * record whose session it does not hold asks its adapter to send the missed events again.
     */
    default boolean shared() {
        return false;
    }

    /**
     * Keeps the record of a connected socket while its node lives (only called when {@link #shared()}).
     * A claim takes it like any other record.
     */
    default CompletableFuture<Void> saveConnected(SessionRecord record) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Hands {@code listener} each record of a session whose node died and whose window ended with
     * no node claiming it, so that one node tells its application (once in the whole cluster).
     * The server registers its listener when it starts; a store of one node has no such records.
     */
    default void onOrphanExpired(Consumer<SessionRecord> listener) {
    }

    /** How many records are kept, for tests and metrics. */
    int size();
}
