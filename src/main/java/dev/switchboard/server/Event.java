package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.protocol.ReceivedEvent;
import java.util.List;
import java.util.Map;

/**
 * One event received from a client: its name, its arguments (mapped to Java types on demand),
 * and the acknowledgement the client may be waiting for.
 *
 * <pre>{@code
 * socket.on("sum", event -> event.ack(event.arg(0, long.class) + event.arg(1, long.class)));
 * }</pre>
 */
public final class Event extends ReceivedEvent {
    private final Socket socket;
    /** The client's id for a message it retries until acked, or null. */
    private final String msgId;

    Event(Socket socket, String name, Arguments args, long ackId, String msgId) {
        super(name, args, ackId);
        this.socket = socket;
        this.msgId = msgId;
    }

    /** The socket it came from. */
    public Socket socket() {
        return socket;
    }

    @Override
    protected void sendAck(List<RawJson> values) {
        if (msgId != null) {
            socket.seenMessages().answered(msgId, values);
        }
        socket.sendAck(ackId(), values);
    }

    /** Answers the acknowledgement with an error, as when a listener throws. */
    void fail(String message) {
        if (claimAnswer()) {
            socket.sendDirect(new Packet(PacketType.ACK, socket.namespace().name(), null, null, ackId(), null,
                    Map.of("error", JsonMapper.toRaw(Map.of("message", message)))));
        }
    }
}
