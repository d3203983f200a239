package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The acks one {@link Socket}'s client owes, by ack id: for {@code emitWithAck} (with a timer
 * that purges the entry and fails it) and for a broadcast's ack (no timer: its collector gives
 * up and forgets it). At most {@link SwitchboardOptions#maxPendingAcks()} at a time, so a client
 * that never answers costs bounded memory; every entry still owed when the socket ends is
 * failed. Each entry is settled once, whichever comes first of the answer, the timeout and the
 * end, since each of them removes it from the map first.
 *
 * <p>Thread-safe: the reading thread answers, any thread emits, the timer thread times out and
 * the thread that ends the socket fails what is left. Outcomes run through {@link Hooks}, so a
 * throwing callback is logged and counted instead of breaking the thread that settled it.
 */
final class AckTable {
    private final Switchboard switchboard;
    private final String namespace;
    private final String socketId;
    private final Map<Long, PendingAck> pending = new ConcurrentHashMap<>();

    AckTable(Switchboard switchboard, String namespace, String socketId) {
        this.switchboard = switchboard;
        this.namespace = namespace;
        this.socketId = socketId;
    }

    /** Whether the client owes as many acks as it may. */
    boolean full() {
        return pending.size() >= switchboard.options().maxPendingAcks();
    }

    int size() {
        return pending.size();
    }

    /**
     * Waits for the answer to a broadcast's ack, until it comes, the socket ends ({@code onLost})
     * or {@link #forget}.
     */
    void await(long ackId, Consumer<Arguments> onReply, Runnable onLost) {
        pending.put(ackId, new PendingAck(onReply, failure -> onLost.run()));
    }

    /** Waits for the answer to {@code ackId}; after {@code timeout}, purges it and fails it with what {@code timedOut} makes. */
    void await(long ackId, Duration timeout, Consumer<Arguments> onReply, Consumer<RuntimeException> onFailure,
               Supplier<RuntimeException> timedOut) {
        PendingAck ack = new PendingAck(onReply, onFailure);
        pending.put(ackId, ack);
        ack.timer = switchboard.later(() -> {
            if (pending.remove(ackId) != null) {
                onFailure.accept(timedOut.get());
            }
        }, timeout);
    }

    /**
     * Drops the entry of {@code ackId} without settling it.
     *
     * @return whether it was there (nothing else settled it yet)
     */
    boolean forget(long ackId) {
        PendingAck ack = pending.remove(ackId);
        if (ack != null) {
            ack.cancelTimer();
        }
        return ack != null;
    }

    /**
     * Settles {@code ackId} with the client's answer: its arguments, or an error.
     *
     * @return whether anything waited for it
     */
    boolean answer(long ackId, Arguments reply, RuntimeException error) {
        PendingAck ack = pending.remove(ackId);
        if (ack == null) {
            return false;
        }
        settle(ack, error != null ? () -> ack.onFailure.accept(error) : () -> ack.onReply.accept(reply));
        return true;
    }

    /** Fails every entry still owed: the socket ended. */
    void failAll(String why) {
        for (Long ackId : pending.keySet()) {
            PendingAck ack = pending.remove(ackId);
            if (ack != null) {
                settle(ack, () -> ack.onFailure.accept(new AckFailedException(why)));
            }
        }
    }

    /**
     * Hands an ack's outcome to what waits for it. A future keeps whatever the application's
     * stages on it throw; an adapter's collector might not, and must not break the reading thread.
     */
    private void settle(PendingAck ack, Runnable outcome) {
        ack.cancelTimer();
        switchboard.hooks().run(() -> "ack callback on " + namespace + " failed", socketId, null, outcome::run);
    }

    /** An ack the client owes; its timer is set once scheduled (absent for broadcasts). */
    private static final class PendingAck {
        final Consumer<Arguments> onReply;
        final Consumer<RuntimeException> onFailure;
        volatile ScheduledFuture<?> timer;

        PendingAck(Consumer<Arguments> onReply, Consumer<RuntimeException> onFailure) {
            this.onReply = onReply;
            this.onFailure = onFailure;
        }

        void cancelTimer() {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
        }
    }
}
