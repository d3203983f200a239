package dev.switchboard.server;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Session records in a concurrent map, for one node; every answer is complete at once.
 *
 * <pre>{@code
 * SessionStore store = new InMemorySessionStore();
 * }</pre>
 */
public final class InMemorySessionStore implements SessionStore {
    private final Map<String, SessionRecord> byPid = new ConcurrentHashMap<>();

    @Override
    public CompletableFuture<Void> save(SessionRecord record) {
        byPid.put(record.pid(), record);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Optional<SessionRecord>> claim(String namespace, String pid) {
        SessionRecord record = byPid.get(pid);
        boolean claimed = record != null && record.namespace().equals(namespace) && byPid.remove(pid, record);
        return CompletableFuture.completedFuture(claimed ? Optional.of(record) : Optional.empty());
    }

    @Override
    public CompletableFuture<Void> remove(String pid) {
        byPid.remove(pid);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public int size() {
        return byPid.size();
    }
}
