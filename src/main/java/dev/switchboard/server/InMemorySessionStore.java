package dev.switchboard.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions in a concurrent map, for one node.
 *
 * <pre>{@code
 * SessionStore store = new InMemorySessionStore();
 * }</pre>
 */
public final class InMemorySessionStore implements SessionStore {
    private final Map<String, DetachedSession> byPid = new ConcurrentHashMap<>();

    @Override
    public void put(DetachedSession session) {
        byPid.put(session.pid(), session);
    }

    @Override
    public DetachedSession take(String pid) {
        return pid == null ? null : byPid.remove(pid);
    }

    @Override
    public void remove(DetachedSession session) {
        byPid.remove(session.pid(), session);
    }

    @Override
    public int size() {
        return byPid.size();
    }
}
