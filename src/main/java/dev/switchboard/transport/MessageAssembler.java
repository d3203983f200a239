package dev.switchboard.transport;

/**
 * Joins the parts of one text message as a container delivers them and enforces the size limit
 * itself, so containers can keep small read buffers (Tomcat's 8 KiB) while messages up to
 * {@code maxBytes} are accepted.
 *
 * <p>Used by the one thread that reads a connection; not thread-safe.
 *
 * <pre>{@code
 * String message = assembler.append(part, last);   // null until the last part
 * if (message != null) connection.onText(message);
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
    private int bytes;
    private int count;

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
        bytes += dev.switchboard.protocol.Frame.utf8Length(part);
        if (bytes > maxBytes || ++count > MAX_PARTS) {
            parts = null;
            bytes = 0;
            count = 0;
            throw new MessageTooBigException(maxBytes);
        }
        if (last && parts == null) {
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
        bytes = 0;
        count = 0;
        return message;
    }

    /** A message over the size limit or in too many parts; the connection is closed with 1009. */
    public static final class MessageTooBigException extends Exception {
        public MessageTooBigException(int maxBytes) {
            super("message larger than " + maxBytes + " bytes or in more than " + MAX_PARTS + " parts", null, false, false);
        }
    }
}
