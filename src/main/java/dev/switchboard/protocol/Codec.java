package dev.switchboard.protocol;

/**
 * Turns packets into text frames and back. The server core speaks only {@link Packet}s, and
 * builds and reads its control packets (hello, connect, connect_error, error, pong) here as
 * records, so another wire format (a Socket.IO-compatible one) is another implementation of this
 * interface.
 *
 * <p>Implementations are stateless and thread-safe.
 *
 * <pre>{@code
 * Codec codec = new JsonWireCodec();
 * Packet packet = codec.decode("{\"type\":\"event\",\"event\":\"hi\",\"args\":[1]}");
 * String frame = codec.encode(packet);
 * String confirmed = codec.confirmedOffset(codec.decode("{\"type\":\"pong\",\"offset\":\"17\"}"));   // "17"
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

    /** The server's first packet on a connection. */
    Packet hello(Hello hello);

    /**
     * What a {@link PacketType#HELLO} says. A field missing or of the wrong type reads as -1 for
     * the version, the server's defaults for the heartbeat (25000 and 20000 ms), 0 for a limit.
     */
    Hello readHello(Packet hello);

    /** A client's request to open a socket on {@code namespace}. */
    Packet connect(String namespace, ConnectRequest request);

    /** What a client's {@link PacketType#CONNECT} asks for. */
    ConnectRequest readConnect(Packet connect);

    /** The server's answer that a socket on {@code namespace} is open. */
    Packet connected(String namespace, ConnectAnswer answer);

    /** What a server's {@link PacketType#CONNECT} answers. */
    ConnectAnswer readConnected(Packet connected);

    /** The server's refusal of a socket on {@code namespace}. */
    Packet connectError(String namespace, ConnectRefusal refusal);

    /** What a {@link PacketType#CONNECT_ERROR} says. */
    ConnectRefusal readConnectError(Packet connectError);

    /** The server's report of a frame it refused, on {@code namespace}. */
    Packet error(String namespace, ErrorReport error);

    /** What an {@link PacketType#ERROR} reports. */
    ErrorReport readError(Packet error);

    /** A client's answer to {@code ping}, confirming the last event offset it received, if any. */
    Packet pong(String confirmedOffset);

    /** The event offset a {@link PacketType#PONG} confirms, or {@code null}. */
    String confirmedOffset(Packet pong);
}
