package dev.switchboard.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One protocol packet, independent of how it is encoded: a type, a namespace, and for events an
 * event name, arguments and an ack id. Type-specific fields (a hello's heartbeat, a connect's
 * auth, an error's code) travel in {@link #fields()} as raw JSON.
 *
 * <pre>{@code
 * Packet chat = Packet.event("/chat", "message", JsonMapper.toRawList("Maciel", "hi"), 0);
 * String token = packet.stringField("pid");
 * }</pre>
 *
 * @param type      what the packet means
 * @param namespace the namespace, {@code "/"} by default
 * @param event     the event name ({@link PacketType#EVENT} only), else {@code null}
 * @param args      the arguments of an event or an ack, else {@code null}
 * @param ackId     the ack id (1 or more), or 0 when none is asked for or answered
 * @param offset    where a server-sent event stands in the server's log, else {@code null}
 * @param fields    further top-level fields by name, in order
 */
public record Packet(PacketType type, String namespace, String event, List<RawJson> args, long ackId,
                     String offset, Map<String, RawJson> fields) {

    /** The default namespace. */
    public static final String ROOT_NAMESPACE = "/";

    public Packet {
        namespace = namespace == null ? ROOT_NAMESPACE : namespace;
        args = args == null ? null : List.copyOf(args);
        fields = fields == null || fields.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** An event; {@code ackId} 0 asks for no acknowledgement. */
    public static Packet event(String namespace, String event, List<RawJson> args, long ackId) {
        return new Packet(PacketType.EVENT, namespace, event, args, ackId, null, null);
    }

    /** The answer to the event that carried {@code ackId}. */
    public static Packet ack(String namespace, long ackId, List<RawJson> args) {
        return new Packet(PacketType.ACK, namespace, null, args, ackId, null, null);
    }

    /** A packet with only type-specific fields. */
    public static Packet of(PacketType type, String namespace, Map<String, RawJson> fields) {
        return new Packet(type, namespace, null, null, 0, null, fields);
    }

    /** This packet with an offset. */
    public Packet withOffset(String newOffset) {
        return new Packet(type, namespace, event, args, ackId, newOffset, fields);
    }

    /** A type-specific field, or {@code null} when absent. */
    public RawJson field(String name) {
        return fields.get(name);
    }

    /** A string field, or {@code null} when absent, {@code null} or not a string. */
    public String stringField(String name) {
        RawJson raw = fields.get(name);
        return raw == null ? null : raw.stringValue();
    }
}
