package dev.switchboard.adapter;

import java.util.Collections;
import java.util.List;

/**
 * This node's view of its cluster, for metrics and the dashboard: how many nodes are alive,
 * whether the link to the shared store (Redis) is up, and what publishing through it costs. A
 * server without a cluster adapter is a single node: {@link #SINGLE_NODE}, one node and no link.
 *
 * <pre>{@code
 * ClusterStatus cluster = server.metrics().cluster();
 * if (cluster.clustered() && !cluster.linkUp()) alert(cluster.nodes() + " nodes, Redis unreachable");
 * }</pre>
 *
 * @param clustered       whether the node shares a store with others; false: the other fields say one node, no link
 * @param nodes           nodes alive at the last heartbeat, this one included
 * @param linkUp          whether the last heartbeat reached the store; while it did not, new connections are refused
 * @param fenced          cut from the store longer than the node timeout: nodes still reaching it count this one
 *                        dead, and this one then closes its connections once back
 * @param fencings        times this node found itself counted dead and closed its connections
 * @param publishes       emits of this node read back from the store (the samples of {@code publishNanos})
 * @param publishNanos    total time from publishing those emits until they were read back, in nanoseconds
 * @param publishBuckets  how many of those took at most each of {@link #PUBLISH_BOUNDS_SECONDS} (and more than the
 *                        one before); the last count, one more than the bounds, is of those that took longer
 * @param publishFailures emits the store did not take within the publish timeout (their senders got an exception)
 * @param queryTimeouts   queries across nodes that timed out: a node silent too long, or the store unreachable
 */
public record ClusterStatus(boolean clustered, int nodes, boolean linkUp, boolean fenced, long fencings,
                            long publishes, long publishNanos, List<Long> publishBuckets, long publishFailures,
                            long queryTimeouts) {
    /** The upper bounds of the publish latency's buckets, in seconds: from half a millisecond to the default publish timeout. */
    public static final List<Double> PUBLISH_BOUNDS_SECONDS = List.of(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1.0, 2.5, 5.0);

    /** A server on its own. */
    public static final ClusterStatus SINGLE_NODE = new ClusterStatus(false, 1, false, false, 0, 0, 0,
            Collections.nCopies(PUBLISH_BOUNDS_SECONDS.size() + 1, 0L), 0, 0);

    public ClusterStatus {
        publishBuckets = List.copyOf(publishBuckets);
    }
}
