package dev.switchboard.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A clock and a scheduler that move only when a test says so, for the server's heartbeats,
 * ack timeouts and recovery windows: a test of a 2-minute window takes milliseconds, and
 * "after exactly 45 s, not one millisecond before" is a plain assertion instead of a race.
 * Due tasks run on the thread that calls {@link #advance}.
 *
 * <pre>{@code
 * VirtualTime time = new VirtualTime();
 * SwitchboardOptions options = SwitchboardOptions.builder().clock(time.clock()).scheduler(time).build();
 * time.advance(Duration.ofSeconds(25));   // the first ping goes out
 * }</pre>
 */
public final class VirtualTime extends AbstractExecutorService implements ScheduledExecutorService {
    private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

    /** Guarded by {@code this}. */
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private long nowNanos;
    private long sequence;
    private boolean shutdown;

    /** A clock showing this virtual time. */
    public Clock clock() {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return EPOCH.plusNanos(now());
            }
        };
    }

    private synchronized long now() {
        return nowNanos;
    }

    /**
     * The process stood still (stopped, starved, collecting) for {@code duration}: time moves on and
     * nothing runs. The next {@link #advance} runs what fell due meanwhile, late and in order, as a
     * process that resumes does.
     */
    public synchronized void freeze(Duration duration) {
        nowNanos += duration.toNanos();
    }

    /** Moves time forward, running every task that falls due on the way, in order. */
    public void advance(Duration duration) {
        long target;
        synchronized (this) {
            target = nowNanos + duration.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.dueNanos > target) {
                    nowNanos = target;
                    return;
                }
                tasks.poll();
                nowNanos = Math.max(nowNanos, next.dueNanos);
            }
            next.run();
            synchronized (this) {
                if (next.periodNanos > 0 && !next.cancelled && !shutdown) {
                    next.dueNanos += next.periodNanos;
                    tasks.add(next);
                }
            }
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(command, delay, 0, unit);
    }

    private synchronized Task add(Runnable command, long delay, long period, TimeUnit unit) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }
        Task task = new Task(command, nowNanos + Math.max(0, unit.toNanos(delay)), unit.toNanos(period), sequence++);
        tasks.add(task);
        return task;
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("the server schedules Runnables only");
    }

    /** Runs every {@code period} of virtual time; a task takes no time, so rate and delay are one. */
    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return add(command, initialDelay, Math.max(1, period), unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return add(command, initialDelay, Math.max(1, delay), unit);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> pending = new ArrayList<>(tasks);
        tasks.clear();
        return pending;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    /** One timer, periodic when its period is above 0; cancelling it takes it out of the queue. */
    private final class Task implements ScheduledFuture<Object>, Runnable {
        private final Runnable command;
        private final long periodNanos;
        private final long order;
        /** Guarded by the enclosing VirtualTime; moves on after each run of a periodic task. */
        private long dueNanos;
        private volatile boolean cancelled;
        private volatile boolean done;

        Task(Runnable command, long dueNanos, long periodNanos, long order) {
            this.command = command;
            this.dueNanos = dueNanos;
            this.periodNanos = periodNanos;
            this.order = order;
        }

        @Override
        public void run() {
            if (!cancelled) {
                done = periodNanos == 0;
                command.run();
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            synchronized (VirtualTime.this) {
                return unit.convert(dueNanos - nowNanos, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public int compareTo(Delayed other) {
            Task that = (Task) other;
            int byTime = Long.compare(dueNanos, that.dueNanos);
            return byTime != 0 ? byTime : Long.compare(order, that.order);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done) {
                return false;
            }
            cancelled = true;
            synchronized (VirtualTime.this) {
                tasks.remove(this);
            }
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() {
            if (cancelled) {
                throw new CancellationException();
            }
            return null;
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            return get();
        }
    }
}
