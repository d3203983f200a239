package dev.switchboard.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop schedule: action {@code i} is due at {@code start + i / rate}, whatever happened
 * to the previous ones. The action gets its due time to carry in the payload, so a sender that
 * falls behind adds to the measured latency instead of silently slowing the load down.
 */
final class OpenLoop {
    /** One action of the schedule: number {@code i}, due at {@code dueNanos} (System.nanoTime()). */
    interface Action {
        void run(long i, long dueNanos);
    }

    /**
     * How a schedule went.
     *
     * @param sent        actions run
     * @param seconds     the scheduled duration
     * @param maxLagNanos the most any action ran after its due time
     * @param endLagNanos how long after the scheduled end the last action ran
     */
    record Result(long sent, double seconds, long maxLagNanos, long endLagNanos) {
        /** More than 1 % behind the schedule by its end: the generator, not the server, set the pace. */
        boolean behind() {
            return endLagNanos > seconds * 1e9 * 0.01;
        }
    }

    private OpenLoop() {
    }

    /** Runs {@code rate × seconds} actions on the calling thread, on schedule. */
    static Result run(double rate, double seconds, Action action) {
        long count = Math.max(1, Math.round(rate * seconds));
        double interval = 1e9 / rate;
        long start = System.nanoTime() + 1_000_000;
        long maxLag = 0;
        long lastRan = start;
        for (long i = 0; i < count; i++) {
            long due = start + (long) (i * interval);
            long now = System.nanoTime();
            while (now < due) {
                LockSupport.parkNanos(due - now);
                now = System.nanoTime();
            }
            maxLag = Math.max(maxLag, now - due);
            action.run(i, due);
            lastRan = now;
        }
        long scheduledEnd = start + (long) ((count - 1) * interval);
        return new Result(count, seconds, maxLag, Math.max(0, lastRan - scheduledEnd));
    }
}
