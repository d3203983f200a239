package dev.switchboard.adapter.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * A request sent to every other node, waiting for one answer from each live node. A node found
 * dead stops being waited for; at the timeout the request fails naming the nodes still silent.
 *
 * <p>All state is guarded by {@code this}: answers come on the cluster's inbox thread, the live
 * node set and the timeout on its scheduler.
 */
final class PendingRequest {
    private final String description;
    private final Duration timeout;
    private final Set<String> waiting;
    private final List<ClusterMessage> answers = new ArrayList<>();
    private final CompletableFuture<List<ClusterMessage>> result = new CompletableFuture<>();
    private ScheduledFuture<?> timer;
    /** Why the request's publish failed, if it did: named when it times out. */
    private Throwable publishFailure;

    PendingRequest(String description, Set<String> nodes, Duration timeout) {
        this.description = description;
        this.timeout = timeout;
        this.waiting = new HashSet<>(nodes);
    }

    CompletableFuture<List<ClusterMessage>> result() {
        return result;
    }

    synchronized void timer(ScheduledFuture<?> scheduled) {
        timer = scheduled;
        completeIfDone();
    }

    synchronized void answer(ClusterMessage answer) {
        if (waiting.remove(answer.from())) {
            answers.add(answer);
            completeIfDone();
        }
    }

    /** Nodes that are no longer alive are not waited for. */
    synchronized void liveNodes(Set<String> live) {
        waiting.retainAll(live);
        completeIfDone();
    }

    synchronized void fail(Throwable failure) {
        finish();
        result.completeExceptionally(new ClusterException(description + " failed: " + failure.getMessage(), Set.of(),
                failure));
    }

    /**
     * Sending the request failed on this node's side; it may still reach the others (a command
     * that timed out on a frozen Redis runs when it thaws), so it is not failed before its timeout.
     */
    synchronized void publishFailed(Throwable failure) {
        publishFailure = failure;
    }

    synchronized void expire() {
        if (!result.isDone()) {
            String publish = publishFailure == null ? "" : " (sending it failed: " + publishFailure.getMessage() + ")";
            result.completeExceptionally(new ClusterException(description + ": no answer from node(s) " + waiting
                    + " within " + timeout.toMillis() + " ms" + publish, waiting, publishFailure));
        }
    }

    private void completeIfDone() {
        if (waiting.isEmpty() && !result.isDone()) {
            finish();
            result.complete(List.copyOf(answers));
        }
    }

    private void finish() {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
