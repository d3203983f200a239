package dev.switchboard.protocol;

import java.lang.reflect.Type;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An event received from the other side, on the server or in the Java client: its name, its
 * arguments mapped to Java types on demand, and the one acknowledgement the sender may wait for.
 *
 * <pre>{@code
 * socket.on("sum", event -> event.ack(event.arg(0, long.class) + event.arg(1, long.class)));
 * }</pre>
 */
public abstract class ReceivedEvent {
    private final String name;
    private final Arguments args;
    private final long ackId;
    private final AtomicBoolean answered = new AtomicBoolean();

    protected ReceivedEvent(String name, Arguments args, long ackId) {
        this.name = name;
        this.args = args;
        this.ackId = ackId;
    }

    /** The event name. */
    public final String name() {
        return name;
    }

    /** All arguments. */
    public final Arguments args() {
        return args;
    }

    /**
     * Argument {@code index} mapped to {@code type} (records, POJOs, scalars, {@link RawJson});
     * a missing argument reads as {@code null}.
     *
     * @throws IllegalArgumentException if the JSON does not fit the type
     */
    public final <T> T arg(int index, Class<T> type) {
        return args.get(index, type);
    }

    /** Argument {@code index} mapped to a generic type such as {@code List<Point>}. */
    public final <T> T arg(int index, Type type) {
        return args.get(index, type);
    }

    /** Whether the sender waits for an acknowledgement. */
    public final boolean hasAck() {
        return ackId > 0;
    }

    /** The sender's ack id, 0 when none was asked for. */
    protected final long ackId() {
        return ackId;
    }

    /**
     * Answers the acknowledgement with these values, from any thread, later too; {@code byte[]}
     * and {@code ByteBuffer} values go as binary ({@link Payload}). Only the first answer is sent;
     * without an ack requested it does nothing.
     *
     * @throws IllegalArgumentException if a value cannot be mapped to JSON
     */
    public final void ack(Object... values) {
        if (!hasAck() || answered.get()) {
            return;
        }
        // Encoded first, so that a value JSON-B cannot map does not use up the one answer.
        Payload encoded = Payload.of(values);
        if (claimAnswer()) {
            sendAck(encoded);
        }
    }

    /** Takes the one answer; false when it was given already or none was asked for. */
    protected final boolean claimAnswer() {
        return hasAck() && answered.compareAndSet(false, true);
    }

    /** Sends the answer; called at most once. */
    protected abstract void sendAck(Payload values);

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + " " + args + (hasAck() ? ", ack " + ackId : "") + "]";
    }
}
