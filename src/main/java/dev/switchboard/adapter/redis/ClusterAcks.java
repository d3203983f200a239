package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.AckCollector;
import java.util.HashSet;
import java.util.Set;

/**
 * The origin's side of a broadcast with acks across nodes. Every node that delivers it reports
 * how many of its sockets it reached; the collector is told the total only once every node that
 * was alive at the emit reported or was found dead, so it never completes before a slow node
 * counted. Answers go straight to the collector.
 *
 * <p>Guarded by {@code this}: counts come on the log reader and inbox threads, the live node set
 * on the scheduler.
 */
final class ClusterAcks {
    private final AckCollector collector;
    private final Set<String> waiting;
    private int total;
    private boolean counted;

    ClusterAcks(AckCollector collector, Set<String> nodes) {
        this.collector = collector;
        this.waiting = new HashSet<>(nodes);
        collector.waitingFor(waiting);
    }

    /** Where this node's own sockets send their answers. */
    AckCollector collector() {
        return collector;
    }

    synchronized void counted(String node, int recipients) {
        if (counted) {
            return;
        }
        waiting.remove(node);
        total += recipients;
        tellIfCounted();
    }

    synchronized void liveNodes(Set<String> live) {
        if (!counted) {
            waiting.retainAll(live);
            tellIfCounted();
        }
    }

    private void tellIfCounted() {
        collector.waitingFor(waiting);
        if (waiting.isEmpty()) {
            counted = true;
            collector.expect(total);
        }
    }
}
