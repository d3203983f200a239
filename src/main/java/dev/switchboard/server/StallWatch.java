package dev.switchboard.server;

import java.time.Clock;

/**
 * Notices when the server itself stood still: the whole process frozen, starved of CPU, or in a
 * long collection. Meanwhile clients went on sending, the kernel held their frames, and the
 * server reads them as one burst once it runs again; the rate limit must not take that burst
 * for the client's. A timer ticks every {@value #TICK_MILLIS} ms; a gap of
 * {@value #STALL_MILLIS} ms or more between ticks is a stall.
 *
 * <p>Threads: the timer alone writes {@code lastTick} and {@code latest}; the reading threads of
 * all connections read them. {@code latest} is written before {@code lastTick}, so a reader
 * that sees the new tick sees the stall it ended.
 */
final class StallWatch {
    static final long TICK_MILLIS = 100;
    /** Ten ticks late: a stall, not a busy timer thread. */
    static final long STALL_MILLIS = 1000;

    private record Stall(long start, long end) {
        long overlap(long from, long to) {
            return Math.max(0, Math.min(end, to) - Math.max(start, from));
        }
    }

    private final Clock clock;
    private volatile long lastTick;
    /** The latest stall the timer saw end. */
    private volatile Stall latest = new Stall(0, 0);

    StallWatch(Clock clock) {
        this.clock = clock;
        this.lastTick = clock.millis();
    }

    /** Runs on the timer every {@link #TICK_MILLIS}. */
    void tick() {
        long now = clock.millis();
        if (now - lastTick >= STALL_MILLIS) {
            latest = new Stall(lastTick, now);
        }
        lastTick = now;
    }

    /**
     * How long the server stood still within {@code (from, to]}, in milliseconds: the latest stall
     * the timer saw, or the one it has not seen end yet because the reading thread runs first. A
     * stall that ended more than {@link #STALL_MILLIS} before {@code to} counts for nothing: its
     * backlog has been read, and a client idle since before it must not bank it for a later burst.
     */
    long stalledMillis(long from, long to) {
        long tick = lastTick;
        long ongoing = to - tick >= STALL_MILLIS ? new Stall(tick, to).overlap(from, to) : 0;
        Stall seen = latest;
        long recent = to - seen.end() <= STALL_MILLIS ? seen.overlap(from, to) : 0;
        return Math.max(ongoing, recent);
    }
}
