package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.RawJson;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event from the server, handed to a {@link ClientListener}.
 *
 * <pre>{@code
 * socket.on("add", event -> {
 *     int a = event.arg(0, Integer.class);
 *     int b = event.arg(1, Integer.class);
 *     if (event.hasAck()) {
 *         event.ack(a + b);
 *     }
 * });
 * }</pre>
 */
public final class ClientEvent {
    private final ClientSocket socket;
    private final String name;
    private final Arguments args;
    private final long ackId;
    private final long epoch;
    private final AtomicBoolean acked = new AtomicBoolean();

    ClientEvent(ClientSocket socket, String name, Arguments args, long ackId, long epoch) {
        this.socket = socket;
        this.name = name;
        this.args = args;
        this.ackId = ackId;
        this.epoch = epoch;
    }

    /** The event name. */
    public String name() {
        return name;
    }

    /** All arguments, as raw JSON mapped on demand. */
    public Arguments args() {
        return args;
    }

    /**
     * Argument {@code index} mapped to {@code type}; a missing argument reads as {@code null}.
     *
     * @throws IllegalArgumentException if the JSON does not fit the type
     */
    public <T> T arg(int index, Class<T> type) {
        return args.get(index, type);
    }

    /** The socket the event arrived on, to answer with more emits. */
    public ClientSocket socket() {
        return socket;
    }

    /** Whether the server asked for an acknowledgement. */
    public boolean hasAck() {
        return ackId > 0;
    }

    /**
     * Answers the server's acknowledgement request with {@code values}, from any thread, later
     * too. Only the first call sends; later ones, calls on an event without ack, and calls after
     * the socket disconnected (the server has given up on it) do nothing.
     *
     * @throws IllegalArgumentException if a value cannot be mapped to JSON
     */
    public void ack(Object... values) {
        if (ackId == 0 || acked.get()) {
            return;
        }
        // Encoded first, so that a value JSON-B cannot map does not use up the one answer.
        List<RawJson> raw = ClientSocket.toRaw(values);
        if (acked.compareAndSet(false, true)) {
            socket.sendAck(epoch, ackId, raw);
        }
    }

    @Override
    public String toString() {
        return "ClientEvent[" + name + " " + args + (hasAck() ? ", ack " + ackId : "") + "]";
    }
}
