package dev.switchboard.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * The packet types of wire protocol version 1; see docs/PROTOCOL.md.
 *
 * <pre>{@code
 * PacketType type = PacketType.fromWireName("event");   // EVENT
 * }</pre>
 */
public enum PacketType {
    /** Server to client, first on a connection: its id, heartbeat and limits. */
    HELLO("hello"),
    /** Client to server, opens a socket on a namespace (with what recovers a session); the server's answer. */
    CONNECT("connect"),
    /** The namespace refused the socket. */
    CONNECT_ERROR("connect_error"),
    /** Either side closes one namespace's socket; the connection stays open. */
    DISCONNECT("disconnect"),
    /** An event with its arguments, either way. */
    EVENT("event"),
    /** The answer to an event that asked for one, either way. */
    ACK("ack"),
    /** The server refused a frame of this client. */
    ERROR("error"),
    /** The server's heartbeat. */
    PING("ping"),
    /** The client's answer to a ping, with the offset of the last event it has. */
    PONG("pong");

    private static final Map<String, PacketType> BY_WIRE_NAME = new HashMap<>();

    static {
        for (PacketType type : values()) {
            BY_WIRE_NAME.put(type.wireName, type);
        }
    }

    private final String wireName;

    PacketType(String wireName) {
        this.wireName = wireName;
    }

    /** The value of the {@code type} field on the wire. */
    public String wireName() {
        return wireName;
    }

    /** The type for a wire name, or {@code null} when the name is unknown. */
    public static PacketType fromWireName(String name) {
        return BY_WIRE_NAME.get(name);
    }
}
