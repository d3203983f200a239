package dev.switchboard.server;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where the records of sessions waiting for their client are kept, by private id. The store
 * decides which returning client gets a session: {@link #claim} hands a record out once. The
 * replay log of what the client missed is not stored: it stays in memory on the node that held
 * the connection, so a client recovers only on that node. {@link InMemorySessionStore} is the
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

    /** How many records are kept, for tests and metrics. */
    int size();
}
