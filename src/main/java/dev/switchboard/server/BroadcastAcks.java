package dev.switchboard.server;

import dev.switchboard.adapter.AckCollector;
import dev.switchboard.protocol.Arguments;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * Collects one answer per recipient of a broadcast with acks. Completes when every recipient
 * answered or ended without answering (its client dropped: it is not waited for), fails with
 * {@link AckTimeoutException} (carrying the answers so far) at the timeout.
 *
 * <p>All state is guarded by {@code this}: answers arrive on reading threads, the timeout on the
 * scheduler, the recipient count on the broadcasting thread.
 */
final class BroadcastAcks implements AckCollector {
    private final Namespace namespace;
    private final long ackId;
    private final String event;
    private final CompletableFuture<List<Arguments>> result = new CompletableFuture<>();
    private final List<Arguments> replies = new ArrayList<>();
    private final List<Socket> recipients = new ArrayList<>();
    private int expected;
    /** Recipients whose socket ended before they answered. */
    private int lost;
    private boolean counted;
    private Set<String> silentNodes = Set.of();
    private ScheduledFuture<?> timer;

    BroadcastAcks(Namespace namespace, long ackId, String event) {
        this.namespace = namespace;
        this.ackId = ackId;
        this.event = event;
    }

    CompletableFuture<List<Arguments>> result() {
        return result;
    }

    synchronized void recipient(Socket socket) {
        recipients.add(socket);
    }

    @Override
    public synchronized void expect(int count) {
        expected += count;
        counted = true;
        completeIfDone();
    }

    @Override
    public synchronized void accept(Arguments reply) {
        replies.add(reply);
        completeIfDone();
    }

    @Override
    public synchronized void lost() {
        lost++;
        completeIfDone();
    }

    @Override
    public synchronized void waitingFor(Set<String> nodes) {
        silentNodes = Set.copyOf(nodes);
    }

    synchronized void startTimer(Duration timeout) {
        if (!result.isDone()) {
            timer = namespace.switchboard().later(this::expire, timeout);
        }
    }

    private synchronized void expire() {
        if (result.isDone()) {
            return;
        }
        for (Socket socket : recipients) {
            socket.forgetAck(ackId);
        }
        namespace.switchboard().metrics().ackTimeouts.increment();
        String silent = silentNodes.isEmpty() ? "" : "; no count of recipients from node(s) " + silentNodes;
        result.completeExceptionally(new AckTimeoutException("broadcast '" + event + "': " + replies.size() + " of "
                + expected + " recipients answered in time" + silent, replies, silentNodes));
    }

    private void completeIfDone() {
        if (counted && replies.size() + lost >= expected && !result.isDone()) {
            if (timer != null) {
                timer.cancel(false);
            }
            result.complete(List.copyOf(replies));
        }
    }
}
