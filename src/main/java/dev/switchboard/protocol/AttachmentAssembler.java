package dev.switchboard.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts a packet back together from its text and the binary frames that follow it on the wire
 * (docs/PROTOCOL.md, "Binary arguments"), within two bounds: how many attachments one packet
 * may announce, and how many bytes the text and its attachments may total. Whatever breaks the
 * sequence (too many attachments, a text frame while attachments are due, a binary frame with
 * none due, placeholders that do not match) is a {@link ProtocolException} after which the
 * assembler holds nothing: the caller closes the connection, as Socket.IO's reference server does.
 *
 * <pre>{@code
 * AttachmentAssembler assembler = new AttachmentAssembler(10, 1 << 20);
 * Packet whole = assembler.onText(codec.decode(text), text.length());   // null: binaries due
 * whole = assembler.onBinary(bytes);                                    // the packet once all came
 * }</pre>
 *
 * <p>Not thread-safe: one per connection, fed by its reading thread.
 */
public final class AttachmentAssembler {
    private final int maxAttachments;
    private final long maxBytes;
    /** The packet whose attachments are due, or null. */
    private Packet pending;
    private int expected;
    private List<byte[]> received = List.of();
    private long bytes;

    /**
     * @param maxAttachments the most binary frames one packet may announce
     * @param maxBytes       the most bytes a packet's text and attachments may total
     */
    public AttachmentAssembler(int maxAttachments, long maxBytes) {
        this.maxAttachments = maxAttachments;
        this.maxBytes = maxBytes;
    }

    /**
     * A decoded text frame.
     *
     * @param textBytes its size, counted with its attachments against the payload limit
     * @return the packet when it is whole, null while its attachments are due
     * @throws ProtocolException if attachments were still due, or it announces too many
     */
    public Packet onText(Packet packet, long textBytes) throws ProtocolException {
        if (pending != null) {
            throw fail(ProtocolException.BAD_ATTACHMENTS, "a text frame came while " + (expected - received.size())
                    + " binary frames were still due");
        }
        int count = packet.expectedAttachments();
        if (count == 0) {
            return packet.fields().containsKey(Packet.ATTACHMENTS_FIELD) ? packet.withAttachments(List.of()) : packet;
        }
        if (count < 0 || count > maxAttachments) {
            throw fail(ProtocolException.BAD_ATTACHMENTS, "a packet may carry up to " + maxAttachments + " attachments");
        }
        pending = packet;
        expected = count;
        received = new ArrayList<>(count);
        bytes = textBytes;
        return null;
    }

    /**
     * One binary frame.
     *
     * @return the packet when this was its last attachment, else null
     * @throws ProtocolException if no packet waits for it, the packet grew past the payload
     *                           limit, or its placeholders do not match its attachments
     */
    public Packet onBinary(byte[] data) throws ProtocolException {
        if (pending == null) {
            throw fail(ProtocolException.BAD_ATTACHMENTS, "a binary frame with no packet waiting for it");
        }
        bytes += data.length;
        if (bytes > maxBytes) {
            throw fail(ProtocolException.TOO_BIG, "the packet and its attachments exceed " + maxBytes + " bytes");
        }
        received.add(data);
        if (received.size() < expected) {
            return null;
        }
        Packet whole = pending.withAttachments(received);
        reset();
        Payload.checkPlaceholders(whole.args() == null ? List.of() : whole.args(), expected);
        return whole;
    }

    /** Whether a packet waits for binary frames. */
    public boolean waiting() {
        return pending != null;
    }

    private ProtocolException fail(String code, String message) {
        reset();
        return new ProtocolException(code, message);
    }

    private void reset() {
        pending = null;
        received = List.of();
        bytes = 0;
    }
}
