package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.AckCollector;
import dev.switchboard.protocol.Arguments;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The origin's side of a broadcast with acks across nodes. Every node that delivers it reports
 * how many of its sockets it reached; the collector is told the total only once every node that
 * was alive at the emit reported or was found dead, so it never completes before a slow node
 * counted. Answers go straight to the collector, and so do recipients whose socket ended before
 * they answered. A node found dead after it counted owes no more answers: its recipients still
 * silent are lost, as they would be on one node when their sockets end.
 *
 * <p>Guarded by {@code this}: counts come on the log reader and inbox threads, answers on the
 * inbox, the live node set on the scheduler.
 */
final class ClusterAcks {
    private final AckCollector collector;
    /** This node, whose own recipients answer the collector straight, never through here. */
    private final String self;
    private final Set<String> waiting;
    /** Per other node that counted and is not yet found dead: its recipients whose answer (or end) has not come. */
    private final Map<String, Integer> owed = new HashMap<>();
    /**
     * Nodes found dead: those that had not counted count none, and the recipients still owed by
     * those that had are lost. What such a node says later (it was cut from Redis or frozen, not
     * dead, and closes its sockets once it finds itself fenced) is not counted again.
     */
    private final Set<String> gone = new HashSet<>();
    private int total;
    private boolean counted;

    ClusterAcks(AckCollector collector, String self, Set<String> nodes) {
        this.collector = collector;
        this.self = self;
        this.waiting = new HashSet<>(nodes);
        collector.waitingFor(waiting);
    }

    /** Where this node's own sockets send their answers. */
    AckCollector collector() {
        return collector;
    }

    synchronized void counted(String node, int recipients) {
        if (counted || gone.contains(node)) {
            return;
        }
        waiting.remove(node);
        if (!node.equals(self)) {
            // Answers may come before the count (they travel apart): those already settled their part.
            owed.merge(node, recipients, Integer::sum);
        }
        total += recipients;
        tellIfCounted();
    }

    /** A recipient on {@code node} answered. */
    synchronized void answered(String node, Arguments reply) {
        if (gone.contains(node)) {
            return;
        }
        owed.merge(node, -1, Integer::sum);
        collector.accept(reply);
    }

    /** A recipient on {@code node} will not answer: its socket ended first. */
    synchronized void lost(String node) {
        if (gone.contains(node)) {
            return;
        }
        owed.merge(node, -1, Integer::sum);
        collector.lost();
    }

    synchronized void liveNodes(Set<String> live) {
        if (!counted) {
            waiting.forEach(node -> {
                if (!live.contains(node)) {
                    gone.add(node);
                }
            });
            waiting.retainAll(live);
            tellIfCounted();
        }
        owed.entrySet().removeIf(node -> {
            if (live.contains(node.getKey())) {
                return false;
            }
            gone.add(node.getKey());
            for (int silent = 0; silent < node.getValue(); silent++) {
                collector.lost();
            }
            return true;
        });
    }

    private void tellIfCounted() {
        collector.waitingFor(waiting);
        if (waiting.isEmpty()) {
            counted = true;
            collector.expect(total);
        }
    }
}
