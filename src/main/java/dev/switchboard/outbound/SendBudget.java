package dev.switchboard.outbound;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A bound on the bytes queued for sending across all the connections of a server: each queue is
 * bounded on its own, but thousands of full queues would still exhaust the heap. Every
 * {@link OutboundQueue} of a server reserves its frames here as well; a reservation that does
 * not fit is refused, and the server then cuts the queues with the most waiting first. A queue
 * with nothing waiting always takes its next frame, so a client that keeps up is never cut for
 * what others hold, and the bound is passed by at most one frame per connection. Replayed
 * frames do not count here: the replay log that holds them is bounded on its own.
 *
 * <p>Thread-safe: any offering thread reserves, any writer releases.
 */
public final class SendBudget {
    private final long maxBytes;
    private final AtomicLong queuedBytes = new AtomicLong();

    /** A budget of {@code maxBytes} queued across the queues that share it. */
    public SendBudget(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the send budget must be positive");
        }
        this.maxBytes = maxBytes;
    }

    /** A budget nothing can exhaust, for a queue on its own. */
    public static SendBudget unbounded() {
        return new SendBudget(Long.MAX_VALUE);
    }

    /** Reserves {@code bytes} if they fit, never letting the count pass the bound even briefly. */
    boolean tryReserve(long bytes) {
        long queued;
        do {
            queued = queuedBytes.get();
            if (queued + bytes > maxBytes) {
                return false;
            }
        } while (!queuedBytes.compareAndSet(queued, queued + bytes));
        return true;
    }

    /** Reserves {@code bytes} whatever the bound: the next frame of a peer that keeps up. */
    void reserve(long bytes) {
        queuedBytes.addAndGet(bytes);
    }

    void release(long bytes) {
        queuedBytes.addAndGet(-bytes);
    }

    /** Whether {@code bytes} more would fit now. */
    public boolean fits(long bytes) {
        return queuedBytes.get() + bytes <= maxBytes;
    }

    /** Bytes queued or in flight on all the queues of this budget. */
    public long queuedBytes() {
        return queuedBytes.get();
    }

    /** The bound. */
    public long maxBytes() {
        return maxBytes;
    }
}
