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
    HELLO("hello"),
    CONNECT("connect"),
    CONNECT_ERROR("connect_error"),
    DISCONNECT("disconnect"),
    EVENT("event"),
    ACK("ack"),
    ERROR("error"),
    PING("ping"),
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
