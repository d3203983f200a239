package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.Packet;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event received from a client: its name, its arguments (mapped to Java types on demand),
 * and the acknowledgement the client may be waiting for.
 *
 * <pre>{@code
 * socket.on("sum", event -> event.ack(event.arg(0, long.class) + event.arg(1, long.class)));
 * }</pre>
 */
public final class Event {
    private final Socket socket;
    private final String name;
    private final Arguments args;
    private final long ackId;
    /** The client's id for a message it retries until acked, or null. */
    private final String msgId;
    private final AtomicBoolean answered = new AtomicBoolean();

    Event(Socket socket, String name, Arguments args, long ackId, String msgId) {
        this.socket = socket;
        this.name = name;
        this.args = args;
        this.ackId = ackId;
        this.msgId = msgId;
    }

    /** The socket it came from. */
    public Socket socket() {
        return socket;
    }

    /** The event name. */
    public String name() {
        return name;
    }

    /** All arguments. */
    public Arguments args() {
        return args;
    }

    /** Argument {@code index} mapped to {@code type} (records, POJOs, scalars, {@code RawJson}). */
    public <T> T arg(int index, Class<T> type) {
        return args.get(index, type);
    }

    /** Argument {@code index} mapped to a generic type such as {@code List<Point>}. */
    public <T> T arg(int index, Type type) {
        return args.get(index, type);
    }

    /** Whether the client waits for an acknowledgement. */
    public boolean hasAck() {
        return ackId > 0;
    }

    /**
     * Answers the client's acknowledgement with these values. Only the first answer is sent;
     * without an ack requested it does nothing.
     */
    public void ack(Object... values) {
        if (hasAck() && answered.compareAndSet(false, true)) {
            java.util.List<dev.switchboard.protocol.RawJson> answer = JsonMapper.toRawList(values);
            if (msgId != null) {
                socket.seenMessages().answered(msgId, answer);
            }
            socket.sendDirect(Packet.ack(socket.namespace().name(), ackId, answer));
        }
    }

    /** Answers the acknowledgement with an error, as when a listener throws. */
    void fail(String message) {
        if (hasAck() && answered.compareAndSet(false, true)) {
            socket.sendDirect(new Packet(dev.switchboard.protocol.PacketType.ACK, socket.namespace().name(), null,
                    null, ackId, null, Map.of("error", JsonMapper.toRaw(Map.of("message", message)))));
        }
    }

    /** Answers with no values if nobody did, so the client does not wait for its timeout. */
    void ackIfUnanswered() {
        ack();
    }

}
