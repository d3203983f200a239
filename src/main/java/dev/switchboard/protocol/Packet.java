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
 * @param attachments the binary values the arguments' placeholders ({@link Payload}) stand for,
 *                    in order; never changed once in a packet, shared by every frame made of it
 */
public record Packet(PacketType type, String namespace, String event, List<RawJson> args, long ackId,
                     String offset, Map<String, RawJson> fields, List<byte[]> attachments) {

    /** The default namespace. */
    public static final String ROOT_NAMESPACE = "/";
    /**
     * The field in which a decoded packet announces how many binary frames follow it on the wire;
     * {@link #withAttachments} removes it when they have arrived.
     */
    public static final String ATTACHMENTS_FIELD = "attachments";

    public Packet {
        namespace = namespace == null ? ROOT_NAMESPACE : namespace;
        args = args == null ? null : List.copyOf(args);
        fields = fields == null || fields.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        attachments = attachments == null ? List.of() : List.copyOf(attachments);
    }

    /** A packet without binary attachments. */
    public Packet(PacketType type, String namespace, String event, List<RawJson> args, long ackId,
                  String offset, Map<String, RawJson> fields) {
        this(type, namespace, event, args, ackId, offset, fields, List.of());
    }

    /** An event; {@code ackId} 0 asks for no acknowledgement. */
    public static Packet event(String namespace, String event, List<RawJson> args, long ackId) {
        return new Packet(PacketType.EVENT, namespace, event, args, ackId, null, null);
    }

    /** An event whose arguments may hold binary values. */
    public static Packet event(String namespace, String event, Payload payload, long ackId) {
        return new Packet(PacketType.EVENT, namespace, event, payload.args(), ackId, null, null, payload.attachments());
    }

    /** The answer to the event that carried {@code ackId}. */
    public static Packet ack(String namespace, long ackId, List<RawJson> args) {
        return new Packet(PacketType.ACK, namespace, null, args, ackId, null, null);
    }

    /** The answer to the event that carried {@code ackId}, whose values may be binary. */
    public static Packet ack(String namespace, long ackId, Payload payload) {
        return new Packet(PacketType.ACK, namespace, null, payload.args(), ackId, null, null, payload.attachments());
    }

    /** A packet with only type-specific fields. */
    public static Packet of(PacketType type, String namespace, Map<String, RawJson> fields) {
        return new Packet(type, namespace, null, null, 0, null, fields);
    }

    /** This packet with an offset. */
    public Packet withOffset(String newOffset) {
        return new Packet(type, namespace, event, args, ackId, newOffset, fields, attachments);
    }

    /** This packet asking for another ack id, 0 for none. */
    public Packet withAckId(long newAckId) {
        return new Packet(type, namespace, event, args, newAckId, offset, fields, attachments);
    }

    /**
     * How many binary frames the wire announced after this packet's text: what a decoder still
     * waits for before the packet is whole. A negative or unreadable count reads as -1.
     */
    public int expectedAttachments() {
        RawJson raw = fields.get(ATTACHMENTS_FIELD);
        if (raw == null) {
            return 0;
        }
        try {
            int count = Integer.parseInt(raw.text());
            return count < 0 ? -1 : count;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** This packet with the binary frames that followed it, no longer announcing them. */
    public Packet withAttachments(List<byte[]> received) {
        Map<String, RawJson> rest = new LinkedHashMap<>(fields);
        rest.remove(ATTACHMENTS_FIELD);
        return new Packet(type, namespace, event, args, ackId, offset, rest, received);
    }

    /** The payload this packet carries: its arguments and their attachments. */
    public Payload payload() {
        return new Payload(args == null ? List.of() : args, attachments);
    }

    /** The attachments' total size in bytes. */
    public long attachmentBytes() {
        long total = 0;
        for (byte[] attachment : attachments) {
            total += attachment.length;
        }
        return total;
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
