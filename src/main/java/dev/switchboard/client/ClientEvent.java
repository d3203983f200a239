package dev.switchboard.client;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Payload;
import dev.switchboard.protocol.ReceivedEvent;

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
public final class ClientEvent extends ReceivedEvent {
    private final ClientSocket socket;
    /** Which connection of the socket it arrived on: an answer after a reconnect would be stale. */
    private final long epoch;

    ClientEvent(ClientSocket socket, String name, Arguments args, long ackId, long epoch) {
        super(name, args, ackId);
        this.socket = socket;
        this.epoch = epoch;
    }

    /** The socket the event arrived on, to answer with more emits. */
    public ClientSocket socket() {
        return socket;
    }

    /** Answers the server; after the socket reconnected the server has given up, so nothing is sent. */
    @Override
    protected void sendAck(Payload values) {
        socket.sendAck(epoch, ackId(), values);
    }
}
