package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * The acks one {@link ClientSocket} waits for, by ack id: the future of each
 * {@code emitWithAck} and the timer that fails it. An answer, a timeout or the client's close
 * settles an entry once, and so does a drop once its event was sent: the server fails the acks it
 * owes at a drop and does not replay them, so no answer can come. At-least-once emits are not
 * here: {@link AtLeastOnceQueue} waits for their acks itself, and resends their events.
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
        PendingAck ack = new PendingAck(event, future);
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

    /**
     * Fails every entry but those of {@code unsent} with {@link DisconnectedException}: the
     * connection their events went out on is gone, and with it their answers.
     */
    void failSent(Set<Long> unsent) {
        pending.entrySet().removeIf(entry -> {
            if (unsent.contains(entry.getKey())) {
                return false;
            }
            PendingAck ack = entry.getValue();
            SwitchboardClient.cancel(ack.timer);
            client.callbacks.settle(ack.future, new DisconnectedException(ack.event));
            return true;
        });
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
        final String event;
        final CompletableFuture<Arguments> future;
        ScheduledFuture<?> timer;

        PendingAck(String event, CompletableFuture<Arguments> future) {
            this.event = event;
            this.future = future;
        }
    }
}
