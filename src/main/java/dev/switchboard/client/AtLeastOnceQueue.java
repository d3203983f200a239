package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Frame;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The at-least-once emits of one {@link ClientSocket} ({@link ClientOptions#retries()} above 0),
 * kept in emit order until the server acknowledges them. Only the head is ever sent, one at a
 * time, so that the server sees the emits in order, resends included; each carries a message id
 * with which the server runs its handler once. The head is resent after its timeout, and after a
 * reconnection that recovered the session; it fails when its sends run out, and so does every
 * emit already sent when the session is lost (resending it could run the handler twice).
 *
 * <p>The queue is guarded by the client's lock: every method but {@link #nextMessageId()} is
 * called with it held, and the timers take it. Futures complete on the client's callback queue.
 */
final class AtLeastOnceQueue {
    private static final System.Logger LOG = System.getLogger(SwitchboardClient.class.getName());

    private final SwitchboardClient client;
    private final String namespace;
    private final String msgIdPrefix = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36) + "-";
    private final AtomicLong msgIds = new AtomicLong();  // any thread
    private final ArrayDeque<ReliableEmit> emits = new ArrayDeque<>();  // the head may be in flight

    AtLeastOnceQueue(SwitchboardClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** A message id unique to this socket; any thread. */
    String nextMessageId() {
        return msgIdPrefix + msgIds.incrementAndGet();
    }

    /**
     * Queues an emit whose frame carries {@code ackId} and a message id; {@code future} is null
     * for a plain emit.
     */
    void add(String event, Frame frame, long ackId, Duration timeout, CompletableFuture<Arguments> future) {
        emits.add(new ReliableEmit(event, frame, ackId, timeout, future, client.nextEmitSequence()));
    }

    int size() {
        return emits.size();
    }

    /** The order number of the head when it may be sent now, else {@link Long#MAX_VALUE}. */
    long readySince() {
        ReliableEmit head = emits.peek();
        return head == null || head.inFlight ? Long.MAX_VALUE : head.sequence;
    }

    /** The frame of the head, which {@link #readySince()} names. */
    Frame headFrame() {
        return emits.peek().frame;
    }

    /**
     * Sends the head, or fails it when it has been sent 1 + retries times. Sends after a
     * reconnection count too: an event that makes the server drop the connection must not be
     * resent forever.
     */
    void sendHead() {
        ReliableEmit head = emits.peek();
        if (head.sends > client.options().retries()) {
            emits.poll();
            settle(head, new AckTimeoutException(head.event, head.timeout, "no acknowledgement for event '"
                    + head.event + "' after " + head.sends + " sends (" + head.timeout.toMillis() + " ms each)"));
            return;
        }
        if (!client.fits(head.frame)) {
            emits.poll();
            settle(head, new IllegalArgumentException("the event is " + head.frame.bytes()
                    + " bytes; the server accepts at most " + client.maxPayload()));
            return;
        }
        head.inFlight = true;
        int send = ++head.sends;
        client.send(head.frame);
        head.timer = client.schedule(head.timeout.toMillis(), () -> client.locked(() -> timedOut(head, send)));
    }

    private void timedOut(ReliableEmit emit, int send) {
        if (emits.peek() != emit || !emit.inFlight || emit.sends != send) {
            return;
        }
        emit.inFlight = false;
        client.sendEvents();
    }

    /**
     * Settles the head with {@code result} if {@code ackId} is its ack, and lets the next one go.
     *
     * @return whether the ack was the head's
     */
    boolean acknowledged(long ackId, Object result) {
        ReliableEmit head = emits.peek();
        if (head == null || head.ackId != ackId) {
            return false;
        }
        SwitchboardClient.cancel(head.timer);
        emits.poll();
        settle(head, result);
        client.sendEvents();
        return true;
    }

    /** The connection dropped: the head is resent after the next connect, and no timeout runs while offline. */
    void pause() {
        ReliableEmit head = emits.peek();
        if (head != null && head.inFlight) {
            head.inFlight = false;
            SwitchboardClient.cancel(head.timer);
        }
    }

    /**
     * The new session knows none of the old one's message ids: an emit already sent there may
     * have been handled, and resending it could run the handler twice.
     */
    void failSentToTheLostSession() {
        emits.removeIf(emit -> {
            if (emit.sends == 0) {
                return false;
            }
            SwitchboardClient.cancel(emit.timer);
            settle(emit, new SessionLostException(emit.event));
            return true;
        });
    }

    /** Fails every emit with {@code error}: the client is closing. */
    void failAll(Throwable error) {
        for (ReliableEmit emit : emits) {
            SwitchboardClient.cancel(emit.timer);
            if (emit.future != null) {
                client.callbacks.settle(emit.future, error);
            }
        }
        emits.clear();
    }

    private void settle(ReliableEmit emit, Object result) {
        if (emit.future != null) {
            client.callbacks.settle(emit.future, result);
        } else if (result instanceof Throwable error) {
            LOG.log(Level.WARNING, "event {0} on {1} was not delivered: {2}", emit.event, namespace, error.getMessage());
        }
    }

    /** An at-least-once emit. */
    private static final class ReliableEmit {
        final String event;
        final Frame frame;           // the same ack id and msgId on every send
        final long ackId;
        final Duration timeout;
        final CompletableFuture<Arguments> future;  // null for emit()
        final long sequence;         // its place in the order of emits, see SwitchboardClient.sendEvents
        boolean inFlight;
        int sends;                   // counts against retries; also tells a stale timer from the current one
        ScheduledFuture<?> timer;

        ReliableEmit(String event, Frame frame, long ackId, Duration timeout, CompletableFuture<Arguments> future,
                     long sequence) {
            this.event = event;
            this.frame = frame;
            this.ackId = ackId;
            this.timeout = timeout;
            this.future = future;
            this.sequence = sequence;
        }
    }
}
