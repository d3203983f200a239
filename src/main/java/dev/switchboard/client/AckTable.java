package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * The acks one {@link ClientSocket} waits for, by ack id: the future of each
 * {@code emitWithAck} and the timer that fails it. An answer, a timeout or the client's close
 * settles an entry once; an event sent on a connection that then dropped keeps waiting until its
 * timeout (the server does not replay acks, so nothing else would end it). At-least-once emits
 * are not here: {@link AtLeastOnceQueue} waits for their acks itself.
 *
 * <p>Guarded by the client's lock: every method is called with it held, and the timers take it.
 * Futures complete on the client's callback queue, never under the lock.
 */
final class AckTable {
    private final SwitchboardClient client;
    private final Map<Long, PendingAck> pending = new HashMap<>();

    AckTable(SwitchboardClient client) {
        this.client = client;
    }

    /**
     * Waits for the answer to {@code ackId}; after {@code timeout} runs {@code onTimeout}, then
     * fails the future with {@link AckTimeoutException}.
     */
    void await(long ackId, String event, Duration timeout, CompletableFuture<Arguments> future, Runnable onTimeout) {
        PendingAck ack = new PendingAck(future);
        pending.put(ackId, ack);
        ack.timer = client.schedule(timeout.toMillis(), () -> client.locked(() -> {
            if (pending.remove(ackId) == ack) {
                onTimeout.run();
                client.callbacks.settle(future, new AckTimeoutException(event, timeout));
            }
        }));
    }

    /**
     * Settles the future of {@code ackId} with {@code result} (the {@link Arguments}, or the
     * exception to fail it with).
     *
     * @return whether something waited for it
     */
    boolean settle(long ackId, Object result) {
        PendingAck ack = pending.remove(ackId);
        if (ack == null) {
            return false;
        }
        SwitchboardClient.cancel(ack.timer);
        client.callbacks.settle(ack.future, result);
        return true;
    }

    /** Fails every entry with {@code error}: the client is closing. */
    void failAll(Throwable error) {
        for (PendingAck ack : pending.values()) {
            SwitchboardClient.cancel(ack.timer);
            client.callbacks.settle(ack.future, error);
        }
        pending.clear();
    }

    /** An emitWithAck waiting for its answer. */
    private static final class PendingAck {
        final CompletableFuture<Arguments> future;
        ScheduledFuture<?> timer;

        PendingAck(CompletableFuture<Arguments> future) {
            this.future = future;
        }
    }
}
