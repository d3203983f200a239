package dev.switchboard.transport;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * Joins the parts of one text or binary message as a container delivers them and enforces the size limit
 * itself, so containers can keep small read buffers (Tomcat's 8 KiB) while messages up to
 * {@code maxBytes} are accepted.
 *
 * <p>Used by the one thread that reads a connection; not thread-safe.
 *
 * <pre>{@code
 * String message = assembler.append(part, last);   // null until the last part
 * if (message != null) connection.onText(message, assembler.lastTextBytes());
 * byte[] data = assembler.appendBinary(buffer, last);
 * if (data != null) connection.onBinary(data);
 * }</pre>
 */
public final class MessageAssembler {
    /**
     * Parts one message may arrive in. Containers split a message at their buffer size (Tomcat:
     * 8 KiB, so 128 parts for 1 MiB); far more parts means a peer streaming empty fragments.
     */
    static final int MAX_PARTS = 4096;

    private final int maxBytes;
    private StringBuilder parts;
    private ByteArrayOutputStream binaryParts;
    /** The size and number of parts of the message being joined, text or binary (a container never interleaves them). */
    private int bytes;
    private int count;
    /** The size of the last whole text message {@link #append} returned, in UTF-8. */
    private int lastTextBytes;

    public MessageAssembler(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * Adds one part.
     *
     * @return the whole message when {@code last}, else {@code null}
     * @throws MessageTooBigException when the message grows past the limit; the parts are dropped
     */
    public String append(String part, boolean last) throws MessageTooBigException {
        count(dev.switchboard.protocol.Frame.utf8Length(part));
        if (last && parts == null) {
            lastTextBytes = bytes;
            bytes = 0;
            count = 0;
            return part;
        }
        if (parts == null) {
            parts = new StringBuilder(Math.min(maxBytes, part.length() * 2));
        }
        parts.append(part);
        if (!last) {
            return null;
        }
        String message = parts.toString();
        parts = null;
        lastTextBytes = bytes;
        bytes = 0;
        count = 0;
        return message;
    }

    /**
     * Adds one part of a binary message.
     *
     * @return the whole message's bytes when {@code last}, else {@code null}
     * @throws MessageTooBigException when the message grows past the limit; the parts are dropped
     */
    public byte[] appendBinary(ByteBuffer part, boolean last) throws MessageTooBigException {
        count(part.remaining());
        if (binaryParts == null) {
            binaryParts = new ByteArrayOutputStream(Math.min(maxBytes, part.remaining() * (last ? 1 : 2)));
        }
        byte[] chunk = new byte[part.remaining()];
        part.get(chunk);
        binaryParts.writeBytes(chunk);
        if (!last) {
            return null;
        }
        byte[] message = binaryParts.toByteArray();
        binaryParts = null;
        bytes = 0;
        count = 0;
        return message;
    }

    /** The size in UTF-8 of the last whole text message {@link #append} returned, counted already for the limit. */
    public int lastTextBytes() {
        return lastTextBytes;
    }

    private void count(int partBytes) throws MessageTooBigException {
        bytes += partBytes;
        if (bytes > maxBytes || ++count > MAX_PARTS) {
            parts = null;
            binaryParts = null;
            bytes = 0;
            count = 0;
            throw new MessageTooBigException(maxBytes);
        }
    }

    /** A message over the size limit or in too many parts; the connection is closed with 1009. */
    public static final class MessageTooBigException extends Exception {
        public MessageTooBigException(int maxBytes) {
            super("message larger than " + maxBytes + " bytes or in more than " + MAX_PARTS + " parts", null, false, false);
        }
    }
}
