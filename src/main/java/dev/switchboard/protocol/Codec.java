package dev.switchboard.protocol;

/**
 * Turns packets into text frames and back, and builds and reads the packets whose fields are the
 * wire format's business: the control packets (hello, connect, connect_error, error, disconnect,
 * pong) and the extras of events and acks. The server core speaks only {@link Packet}s and these
 * records, so another wire format (a Socket.IO-compatible one) is another implementation of this
 * interface and leaves the server untouched.
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

    /** The wire format's name in the figures: {@code native} for Switchboard's own. */
    default String wireFormat() {
        return "native";
    }

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

    /**
     * The server's report of a frame it refused, on {@code namespace}, or {@code null} when this
     * wire format has no such report: the server then closes the connection, as a server of that
     * format would.
     */
    Packet error(String namespace, ErrorReport error);

    /** What an {@link PacketType#ERROR} reports. */
    ErrorReport readError(Packet error);

    /** The end of one namespace socket; {@code reason} is {@code null} from the client, which needs to give none. */
    Packet disconnect(String namespace, DisconnectReason reason);

    /**
     * The reason text a {@link PacketType#DISCONNECT} gives, or {@code null}; a text outside
     * {@link DisconnectReason}'s set is passed on as it is, for a newer server's reasons.
     */
    String readDisconnect(Packet disconnect);

    /** The answer to the event that carried {@code ackId}: it failed, for {@code message}. */
    Packet ackError(String namespace, long ackId, String message);

    /** The error an {@link PacketType#ACK} answers with, or {@code null} when it carries arguments. */
    RawJson readAckError(Packet ack);

    /** {@code event} with the id that lets the server drop it when it is sent again (at-least-once emits). */
    Packet withMessageId(Packet event, String messageId);

    /** The message id an {@link PacketType#EVENT} carries, or {@code null}. */
    String messageId(Packet event);

    /** A client's answer to {@code ping}, confirming the last event offset it received, if any. */
    Packet pong(String confirmedOffset);

    /** The event offset a {@link PacketType#PONG} confirms, or {@code null}. */
    String confirmedOffset(Packet pong);

    /**
     * Whether a recovered socket gets a new private id in its connect answer (the native
     * protocol), rather than keeping the one its client presented (Socket.IO, whose clients tell
     * a recovery by the same id coming back).
     */
    default boolean rotatesPrivateId() {
        return true;
    }

    /**
     * Whether the client sees the offset of this event, so that it can name it when it recovers.
     * One it cannot see must not be logged for it once sent: a client that had it would present
     * the offset before it and be sent it again.
     */
    default boolean showsOffset(Packet event) {
        return true;
    }

    /**
     * What the client holds for its last offset once it has this event, which carries no offset
     * (a volatile one), when it takes something for one; null when it keeps the offset it had,
     * as a native client does.
     */
    default String offsetTakenFrom(Packet event) {
        return null;
    }

    /**
     * Whether a client closing its connection normally (1000) leaves, its sockets ending as
     * {@code client disconnect} with no session kept; false where clients say they leave with a
     * {@code disconnect} packet per socket and close a transport without one when they mean to
     * come back (Socket.IO).
     */
    default boolean normalCloseLeaves() {
        return true;
    }
}
