package dev.switchboard.protocol;

/**
 * Turns packets into text frames and back. The server core speaks only {@link Packet}s, so
 * another wire format (a Socket.IO-compatible one) is another implementation of this interface.
 *
 * <p>Implementations are stateless and thread-safe.
 */
public interface Codec {
    /** Encodes one packet as one text frame. */
    String encode(Packet packet);

    /**
     * Decodes one text frame.
     *
     * @throws ProtocolException if the frame is not a valid packet; its code says why
     */
    Packet decode(String frame) throws ProtocolException;
}
