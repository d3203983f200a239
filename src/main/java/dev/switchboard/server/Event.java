package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.protocol.Payload;
import dev.switchboard.protocol.RawJson;
import dev.switchboard.protocol.ReceivedEvent;
import java.util.List;
import java.util.function.LongSupplier;

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
    protected void sendAck(Payload values) {
        answer((to, ackId) -> to.sendAck(ackId, values), () -> sizeOf(values));
    }

    /** What keeping an answer costs: the characters of its JSON and the bytes of its binaries. */
    private static long sizeOf(Payload values) {
        long size = 0;
        for (RawJson value : values.args()) {
            size += value.text().length();
        }
        for (byte[] attachment : values.attachments()) {
            size += attachment.length;
        }
        return size;
    }

    /**
     * Answers the acknowledgement with an error, {@code {"message": message}}, as when a listener
     * throws: for a listener that answers later and whose work failed. Only the first answer is
     * sent, whether {@code ack} or this; without an ack requested it does nothing.
     */
    public void fail(String message) {
        if (claimAnswer()) {
            answer((to, ackId) -> to.sendAckError(ackId, message), message::length);
        }
    }

    /**
     * Sends the one answer, and keeps it for a client that retries the message; {@code size} is
     * counted only then, not for every ack.
     */
    private void answer(SeenMessages.Answer answer, LongSupplier size) {
        if (msgId != null) {
            socket.seenMessages().answered(msgId, answer, size.getAsLong());
        }
        answer.sendTo(socket, ackId());
    }
}
