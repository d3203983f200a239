package dev.switchboard.server;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The next ping of every connection, on one timer task instead of a scheduled task per connection
 * (about 110 bytes each). Every connection waits the same {@code pingInterval}, so they fall due in
 * the order they were queued: a queue, and one task armed for its head, are enough.
 *
 * <p>The task is trusted to fire on time (the scheduler counts monotonic time): when it fires, its
 * head is due whatever the clock says, and so is everything queued with the same due time or
 * earlier. Only the spacing between heads comes from the clock, held to at most one interval, so
 * that a clock set back delays a ping by at most an interval, and a clock set forward only pings early.
 *
 * <p>Threads: any thread queues and cancels; the timer thread pings. The queue and {@code armed}
 * are guarded by {@code this}; an entry's connection is volatile, cleared by its cancel.
 */
final class PingSchedule {
    /** A connection's place in the queue. */
    static final class Entry {
        /** Null once cancelled, so that an ended connection is not held until its entry is due. */
        private volatile Connection connection;
        private final long dueMillis;

        private Entry(Connection connection, long dueMillis) {
            this.dueMillis = dueMillis;
            this.connection = connection;
        }

        /** The connection ended: no ping for this entry (it leaves the queue when due). */
        void cancel() {
            connection = null;
        }
    }

    private final Clock clock;
    private final long intervalMillis;
    /** The server's timer thread, which must never run application code. */
    private final ScheduledExecutorService scheduler;
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    /** The due time the armed task was set for, or -1 when no task is armed. */
    private long armedFor = -1;

    PingSchedule(Clock clock, Duration interval, ScheduledExecutorService scheduler) {
        this.clock = clock;
        this.intervalMillis = interval.toMillis();
        this.scheduler = scheduler;
    }

    /** Pings {@code connection} one interval from now, unless the entry is cancelled first. */
    Entry add(Connection connection) {
        Entry entry;
        boolean arm;
        synchronized (this) {
            entry = new Entry(connection, clock.millis() + intervalMillis);
            queue.addLast(entry);
            arm = armedFor < 0;
            if (arm) {
                armedFor = entry.dueMillis;
            }
        }
        if (arm && !arm(intervalMillis)) {
            pingDue();
        }
        return entry;
    }

    /** Arms the task; false when the scheduler takes no more tasks (as a server closes). */
    private boolean arm(long delayMillis) {
        try {
            scheduler.schedule(this::pingDue, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /**
     * On the timer thread: pings what is due, then arms the task for the next head. Once the
     * scheduler takes no more tasks, it pings every connection still queued at once, as the
     * per-connection timers did, so that their heartbeats still end them.
     */
    private void pingDue() {
        while (true) {
            List<Connection> due = new ArrayList<>();
            long next;
            synchronized (this) {
                long dueBy = Math.max(armedFor, clock.millis());
                while (!queue.isEmpty() && queue.peekFirst().dueMillis <= dueBy) {
                    Connection connection = queue.pollFirst().connection;
                    if (connection != null) {
                        due.add(connection);
                    }
                }
                next = queue.isEmpty() ? -1 : Math.max(0, Math.min(intervalMillis, queue.peekFirst().dueMillis - dueBy));
                armedFor = queue.isEmpty() ? -1 : queue.peekFirst().dueMillis;
            }
            for (Connection connection : due) {
                connection.ping();
            }
            if (next < 0 || arm(next)) {
                return;
            }
        }
    }
}
