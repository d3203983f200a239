package dev.switchboard.testing;

import dev.switchboard.server.InMemorySessionStore;
import dev.switchboard.server.SessionRecord;
import dev.switchboard.server.SessionStore;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A session store whose claims fail while it is down, as a cluster node's do when it is cut from
 * Redis: the server says hello, then refuses the returning client's recovery with 1013 and keeps
 * the session. Records are kept in memory throughout.
 */
public final class ClaimFailingStore implements SessionStore {
    private final InMemorySessionStore kept = new InMemorySessionStore();
    private volatile boolean down;

    /** Whether claims fail from now on. */
    public void down(boolean down) {
        this.down = down;
    }

    @Override
    public CompletableFuture<Void> save(SessionRecord record) {
        return kept.save(record);
    }

    @Override
    public CompletableFuture<Optional<SessionRecord>> claim(String namespace, String pid) {
        return down ? CompletableFuture.failedFuture(new IllegalStateException("store unreachable")) : kept.claim(namespace, pid);
    }

    @Override
    public CompletableFuture<Void> remove(String pid) {
        return kept.remove(pid);
    }

    @Override
    public int size() {
        return kept.size();
    }
}
