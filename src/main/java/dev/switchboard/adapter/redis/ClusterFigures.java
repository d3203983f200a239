package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.ClusterStatus;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What this node counts about its cluster for {@link ClusterStatus}:
 * publish latency (from an emit's publishing until its node reads it back from the log), publish
 * failures, query timeouts and fencings.
 *
 * <p>An emit's two ends meet by the entry's id, in either order: the reader may see the entry
 * before the publisher sees Redis' answer. Whichever comes first leaves its time in {@code
 * halves}; the second takes it and records the sample. Thread-safe: the publishing threads, the
 * readers, the inbox and the scheduler all count here.
 */
final class ClusterFigures {
    /**
     * Bounds {@code halves}: an entry whose other end never comes (its emit timed out, or Redis
     * restarted empty before it was read) would otherwise stay; past this, the halves are
     * dropped, losing a few samples rather than memory.
     */
    private static final int MAX_HALVES = 10_000;
    private static final long[] BOUNDS_NANOS = ClusterStatus.PUBLISH_BOUNDS_SECONDS.stream()
            .mapToLong(seconds -> Math.round(seconds * 1e9)).toArray();

    ClusterFigures() {
        Arrays.setAll(publishBuckets, i -> new LongAdder());
    }

    /** One end of an emit: when it was published, or when it was read back. */
    private record Half(boolean published, long nanos) {
    }

    private final Map<String, Half> halves = new ConcurrentHashMap<>();
    private final LongAdder publishes = new LongAdder();
    private final LongAdder publishNanos = new LongAdder();
    /** By {@link ClusterStatus#PUBLISH_BOUNDS_SECONDS}, and one past the last. */
    private final LongAdder[] publishBuckets = new LongAdder[BOUNDS_NANOS.length + 1];
    private final LongAdder publishFailures = new LongAdder();
    private final LongAdder queryTimeouts = new LongAdder();
    private final LongAdder fencings = new LongAdder();

    /** Redis took the entry {@code id}, published at {@code startNanos} ({@link System#nanoTime()}). */
    void published(String id, long startNanos) {
        meet(id, new Half(true, startNanos));
    }

    /** This node read back its own entry {@code id}. */
    void readBack(String id) {
        meet(id, new Half(false, System.nanoTime()));
    }

    private void meet(String id, Half half) {
        if (halves.size() >= MAX_HALVES) {
            halves.clear();
        }
        Half[] other = new Half[1];
        // Atomic per id: the two ends may arrive at once.
        halves.compute(id, (key, waiting) -> {
            other[0] = waiting;
            return waiting == null ? half : null;
        });
        if (other[0] != null) {
            Half published = half.published() ? half : other[0];
            Half read = half.published() ? other[0] : half;
            long nanos = Math.max(0, read.nanos() - published.nanos());
            publishes.increment();
            publishNanos.add(nanos);
            int bucket = 0;
            while (bucket < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[bucket]) {
                bucket++;
            }
            publishBuckets[bucket].increment();
        }
    }

    void publishFailed() {
        publishFailures.increment();
    }

    void queryTimedOut() {
        queryTimeouts.increment();
    }

    void fenced() {
        fencings.increment();
    }

    long publishes() {
        return publishes.sum();
    }

    long publishNanos() {
        return publishNanos.sum();
    }

    List<Long> publishBuckets() {
        return Arrays.stream(publishBuckets).map(LongAdder::sum).toList();
    }

    long publishFailures() {
        return publishFailures.sum();
    }

    long queryTimeouts() {
        return queryTimeouts.sum();
    }

    long fencings() {
        return fencings.sum();
    }
}
