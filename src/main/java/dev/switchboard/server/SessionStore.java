package dev.switchboard.server;

/**
 * Where sessions wait for their client to come back, found by their private id. In memory by
 * default; a clustered store lets a client recover on another node.
 *
 * <pre>{@code
 * SwitchboardOptions.builder().sessionStore(new InMemorySessionStore()).build();
 * }</pre>
 */
public interface SessionStore {
    /** Keeps a session until {@link #take} or {@link #remove}. */
    void put(DetachedSession session);

    /** Finds a session by private id and removes it, or returns {@code null}. */
    DetachedSession take(String pid);

    /** Forgets a session (its window ended). */
    void remove(DetachedSession session);

    /** How many sessions wait. */
    int size();
}
