package dev.switchboard.server;

import java.time.Clock;

/**
 * A token bucket: {@code perSecond} events sustained, {@code burst} at once. Used by the one
 * thread that reads a connection; not thread-safe.
 *
 * <p>The bucket counts events when the server reads them, which is when the client sent them
 * unless the server stood still: then what the client sent meanwhile waited in the kernel and
 * arrives at once. The time of such a stall ({@link StallWatch}) is credited to the client beyond
 * the burst, for as long as the stall lasted (at least a second) after it, so that the backlog
 * of a client within the rate is read without a refusal. A client gains at most what the rate
 * allowed it during the stall.
 */
final class EventRateLimit {
    private static final long MIN_CATCH_UP_MILLIS = 1000;

    private final Clock clock;
    private final StallWatch stalls;
    private final double perMilli;
    private final int burst;
    private double tokens;
    private long lastRefill;
    private long windowStart;
    private int refusedInWindow;
    /** The bucket's size while the backlog of a stall is read: the burst plus the stall's share. */
    private double catchUpCapacity;
    private long catchUpUntil;

    EventRateLimit(Clock clock, StallWatch stalls, double perSecond, int burst) {
        this.clock = clock;
        this.stalls = stalls;
        this.perMilli = perSecond / 1000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastRefill = clock.millis();
        this.windowStart = lastRefill;
    }

    /** Takes a token if there is one. */
    boolean tryAcquire() {
        long now = clock.millis();
        long stalled = stalls.stalledMillis(lastRefill, now);
        if (stalled > 0) {
            // Added to, not replaced: a stall may be seen in pieces, event by event, until the timer sees it end.
            catchUpCapacity = capacity(now) + stalled * perMilli;
            catchUpUntil = Math.max(catchUpUntil, now + Math.max(stalled, MIN_CATCH_UP_MILLIS));
        }
        tokens = Math.min(capacity(now), tokens + (now - lastRefill) * perMilli);
        lastRefill = now;
        if (now - windowStart >= 1000) {
            windowStart = now;
            refusedInWindow = 0;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        refusedInWindow++;
        return false;
    }

    private double capacity(long now) {
        return now < catchUpUntil ? catchUpCapacity : burst;
    }

    /**
     * A flood: more events refused within one second than the burst allows. Counting per second,
     * not in a row, so a client that ignores the refusals cannot stay connected by pacing itself
     * just above the refill rate.
     */
    boolean flooding() {
        return refusedInWindow > burst;
    }
}
