package dev.switchboard.client;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Runs application callbacks one at a time, in the order they were queued, on whichever thread
 * calls {@link #drain()} first. State changes queue their callbacks while holding the client lock
 * and drain after releasing it, so callbacks see events in the order they happened, never run
 * concurrently, and never run under the lock (a callback may call back into the client).
 */
final class CallbackQueue {
    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    // Both guarded by this.
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean draining;
    private long added;

    /** Queues a callback; it runs at the next {@link #drain()}. */
    void add(Runnable callback) {
        synchronized (this) {
            queue.add(callback);
            added++;
        }
    }

    /**
     * Queues the completion of {@code future} with {@code result}, or its failure when
     * {@code result} is a {@link Throwable}, so that its dependents run like any callback.
     */
    @SuppressWarnings("unchecked")
    <T> void settle(CompletableFuture<T> future, Object result) {
        if (result instanceof Throwable error) {
            add(() -> future.completeExceptionally(error));
        } else {
            add(() -> future.complete((T) result));
        }
    }

    /** How many callbacks were ever queued: tells a caller whether it queued any. */
    synchronized long added() {
        return added;
    }

    /**
     * Runs queued callbacks until none are left. Returns at once when another thread (or this
     * thread, further up the stack) is already draining: that one will run what was queued.
     */
    void drain() {
        synchronized (this) {
            if (draining) {
                return;
            }
            draining = true;
        }
        while (true) {
            Runnable next;
            synchronized (this) {
                next = queue.poll();
                if (next == null) {
                    draining = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (Throwable e) {
                // An application error (or a failed test assertion) must not stop the delivery
                // of later callbacks, nor leave `draining` stuck.
                LOG.log(Level.WARNING, "a Switchboard client listener threw", e);
            }
        }
    }
}
