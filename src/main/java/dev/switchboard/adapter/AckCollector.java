package dev.switchboard.adapter;

import dev.switchboard.protocol.Arguments;
import java.util.Set;

/**
 * Gathers the answers to one broadcast that asked for acknowledgements. The adapter tells it how
 * many recipients the frame reached; each recipient's answer arrives through {@link #accept}.
 *
 * <pre>{@code
 * int reached = deliverToLocalSockets(frame, collector);
 * collector.expect(reached);
 * }</pre>
 */
public interface AckCollector {
    /** Adds {@code recipients} to the number of answers to wait for; may be called once per node. */
    void expect(int recipients);

    /** One recipient's answer. */
    void accept(Arguments reply);

    /** One recipient will not answer: its socket ended before it did. Nothing by default. */
    default void lost() {
    }

    /**
     * The nodes of a cluster that have not yet said how many recipients they reached, each time
     * that changes; a timeout names them.
     */
    default void waitingFor(Set<String> nodes) {
    }
}
