package dev.switchboard.protocol;

/**
 * Turns packets into text frames and back. The server core speaks only {@link Packet}s, so
 * another wire format (a Socket.IO-compatible one) is another implementation of this interface.
 *
 * <p>Implementations are stateless and thread-safe.
 *
 * <pre>{@code
 * Codec codec = new JsonWireCodec();
 * Packet packet = codec.decode("{\"type\":\"event\",\"event\":\"hi\",\"args\":[1]}");
 * String frame = codec.encode(packet);
 * }</pre>
 */
public interface Codec {
    /** The protocol version this codec speaks, announced to clients in {@code hello.v}. */
    int version();

    /** Encodes one packet as one text frame. */
    String encode(Packet packet);

    /**
     * Decodes one text frame.
     *
     * @throws ProtocolException if the frame is not a valid packet; its code says why
     */
    Packet decode(String frame) throws ProtocolException;
}
