package dev.switchboard.protocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Wire protocol version 1: one JSON object per text frame (docs/PROTOCOL.md); since 1.1 an event
 * or ack with binary arguments announces {@code "attachments":N} and is followed by N binary
 * frames, which {@link AttachmentAssembler} joins to it.
 *
 * <pre>{@code
 * Codec codec = new JsonWireCodec();
 * String frame = codec.encode(Packet.event("/", "hello", List.of(JsonMapper.toRaw("world")), 0));
 * Packet back = codec.decode(frame);
 * }</pre>
 *
 * <p>Open to extension so that a test or a diagnostic can watch what passes through it.
 */
public class JsonWireCodec implements Codec {
    /** The protocol version this codec speaks, sent in {@code hello.v}. */
    public static final int VERSION = 1;
    /** The longest event name accepted. */
    public static final int MAX_EVENT_NAME_LENGTH = 128;
    /** The most arguments one event or ack may carry. */
    public static final int MAX_ARGS = 256;
    /**
     * The longest {@code msgId} accepted: a socket remembers its client's last ids (and the
     * server's clients make ids of a few dozen characters), so their length must not be the
     * client's to choose up to a message's size.
     */
    public static final int MAX_MESSAGE_ID_LENGTH = 128;

    /** Nesting levels of the frame above a field's value (the packet) and an argument (the packet, args). */
    private static final int FIELD_LEVEL = 1;
    private static final int ARGUMENT_LEVEL = 2;

    @Override
    public int version() {
        return VERSION;
    }

    @Override
    public String encode(Packet packet) {
        StringBuilder out = new StringBuilder(roughLength(packet));
        out.append("{\"type\":\"").append(packet.type().wireName()).append('"');
        if (!Packet.ROOT_NAMESPACE.equals(packet.namespace())) {
            out.append(",\"nsp\":");
            JsonMapper.quote(packet.namespace(), out);
        }
        if (packet.event() != null) {
            out.append(",\"event\":");
            JsonMapper.quote(packet.event(), out);
        }
        if (packet.args() != null) {
            out.append(",\"args\":[");
            List<RawJson> args = packet.args();
            for (int i = 0; i < args.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(args.get(i).text());
            }
            out.append(']');
        }
        if (packet.ackId() > 0) {
            out.append(",\"ack\":").append(packet.ackId());
        }
        if (!packet.attachments().isEmpty()) {
            out.append(",\"").append(Packet.ATTACHMENTS_FIELD).append("\":").append(packet.attachments().size());
        }
        if (packet.offset() != null) {
            out.append(",\"offset\":");
            JsonMapper.quote(packet.offset(), out);
        }
        if (!packet.fields().isEmpty()) {
            for (Map.Entry<String, RawJson> field : packet.fields().entrySet()) {
                out.append(',');
                JsonMapper.quote(field.getKey(), out);
                out.append(':').append(field.getValue().text());
            }
        }
        return out.append('}').toString();
    }

    /**
     * About the length of {@link #encode}'s text, fields aside, so that the builder is sized once
     * instead of grown and copied two or three times for an event with a payload.
     */
    private static int roughLength(Packet packet) {
        int length = 64 + packet.namespace().length();
        if (packet.event() != null) {
            length += packet.event().length();
        }
        if (packet.args() != null) {
            for (RawJson arg : packet.args()) {
                length += arg.text().length() + 1;
            }
        }
        if (packet.offset() != null) {
            length += packet.offset().length();
        }
        return length;
    }

    @Override
    public Packet hello(Hello hello) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("v", JsonMapper.toRaw(hello.version()));
        fields.put("sid", JsonMapper.toRaw(hello.sid()));
        fields.put("pingInterval", JsonMapper.toRaw(hello.pingIntervalMillis()));
        fields.put("pingTimeout", JsonMapper.toRaw(hello.pingTimeoutMillis()));
        fields.put("maxPayload", JsonMapper.toRaw(hello.maxPayload()));
        fields.put("eventsPerSecond", JsonMapper.toRaw(hello.eventsPerSecond()));
        fields.put("eventBurst", JsonMapper.toRaw(hello.eventBurst()));
        return Packet.of(PacketType.HELLO, Packet.ROOT_NAMESPACE, fields);
    }

    @Override
    public Hello readHello(Packet hello) {
        return new Hello(longField(hello, "v", -1), hello.stringField("sid"),
                longField(hello, "pingInterval", 25_000), longField(hello, "pingTimeout", 20_000),
                longField(hello, "maxPayload", 0), numberField(hello, "eventsPerSecond", Double::parseDouble, 0.0),
                longField(hello, "eventBurst", 0), List.of());
    }

    @Override
    public Packet connect(String namespace, ConnectRequest request) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        if (request.auth() != null) {
            fields.put("auth", request.auth());
        }
        if (request.pid() != null) {
            fields.put("pid", JsonMapper.toRaw(request.pid()));
        }
        return Packet.of(PacketType.CONNECT, namespace, fields).withOffset(request.offset());
    }

    @Override
    public ConnectRequest readConnect(Packet connect) {
        return new ConnectRequest(connect.field("auth"), connect.stringField("pid"), connect.offset());
    }

    @Override
    public Packet connected(String namespace, ConnectAnswer answer) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("id", JsonMapper.toRaw(answer.id()));
        fields.put("pid", JsonMapper.toRaw(answer.pid()));
        fields.put("recovered", JsonMapper.toRaw(answer.recovered()));
        return Packet.of(PacketType.CONNECT, namespace, fields);
    }

    @Override
    public ConnectAnswer readConnected(Packet connected) {
        RawJson recovered = connected.field("recovered");
        return new ConnectAnswer(connected.stringField("id"), connected.stringField("pid"),
                recovered != null && "true".equals(recovered.text()));
    }

    @Override
    public Packet connectError(String namespace, ConnectRefusal refusal) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("message", JsonMapper.toRaw(refusal.message()));
        if (refusal.data() != null) {
            fields.put("data", refusal.data());
        }
        return Packet.of(PacketType.CONNECT_ERROR, namespace, fields);
    }

    @Override
    public ConnectRefusal readConnectError(Packet connectError) {
        return new ConnectRefusal(connectError.stringField("message"), connectError.field("data"));
    }

    @Override
    public Packet error(String namespace, ErrorReport error) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("code", JsonMapper.toRaw(error.code()));
        fields.put("message", JsonMapper.toRaw(error.message()));
        // After code and message, where version 1 frames have always carried it.
        if (error.ackId() > 0) {
            fields.put("ack", JsonMapper.toRaw(error.ackId()));
        }
        return Packet.of(PacketType.ERROR, namespace, fields);
    }

    @Override
    public ErrorReport readError(Packet error) {
        return new ErrorReport(error.stringField("code"), error.stringField("message"), error.ackId());
    }

    @Override
    public Packet disconnect(String namespace, DisconnectReason reason) {
        return Packet.of(PacketType.DISCONNECT, namespace,
                reason == null ? null : Map.of("reason", JsonMapper.toRaw(reason.text())));
    }

    @Override
    public String readDisconnect(Packet disconnect) {
        return disconnect.stringField("reason");
    }

    @Override
    public Packet ackError(String namespace, long ackId, String message) {
        return new Packet(PacketType.ACK, namespace, null, null, ackId, null,
                Map.of("error", JsonMapper.toRaw(Map.of("message", message))));
    }

    @Override
    public RawJson readAckError(Packet ack) {
        return ack.field("error");
    }

    @Override
    public Packet withMessageId(Packet event, String messageId) {
        Map<String, RawJson> fields = new LinkedHashMap<>(event.fields());
        fields.put("msgId", JsonMapper.toRaw(messageId));
        return new Packet(event.type(), event.namespace(), event.event(), event.args(), event.ackId(), event.offset(),
                fields, event.attachments());
    }

    @Override
    public String messageId(Packet event) {
        return event.stringField("msgId");
    }

    @Override
    public Packet pong(String confirmedOffset) {
        return Packet.of(PacketType.PONG, Packet.ROOT_NAMESPACE, null).withOffset(confirmedOffset);
    }

    @Override
    public String confirmedOffset(Packet pong) {
        return pong.offset();
    }

    private static long longField(Packet packet, String name, long fallback) {
        return numberField(packet, name, Long::parseLong, fallback);
    }

    private static <T> T numberField(Packet packet, String name, Function<String, T> parse, T fallback) {
        RawJson raw = packet.field(name);
        if (raw == null) {
            return fallback;
        }
        try {
            return parse.apply(raw.text());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    @Override
    public Packet decode(String frame) throws ProtocolException {
        JsonScanner in = new JsonScanner(frame);
        String typeName = null;
        String namespace = null;
        String event = null;
        List<RawJson> args = null;
        long ackId = 0;
        String offset = null;
        Map<String, RawJson> fields = new LinkedHashMap<>();

        in.expect('{');
        if (!in.consume('}')) {
            do {
                String key = in.readString();
                in.expect(':');
                switch (key) {
                    case "type" -> typeName = readStringField(in, "type");
                    case "nsp" -> namespace = readStringField(in, "nsp");
                    case "event" -> event = readEventName(in);
                    case "args" -> args = readArgs(in);
                    case "ack" -> ackId = readAckId(in);
                    case "offset" -> offset = readStringField(in, "offset");
                    case "msgId" -> fields.put(key, readMessageId(in));
                    default -> fields.put(key, in.readValue(FIELD_LEVEL));
                }
            } while (in.consume(','));
            in.expect('}');
        }
        in.expectEnd();

        if (typeName == null) {
            throw ProtocolException.badPacket("missing field 'type'");
        }
        PacketType type = PacketType.fromWireName(typeName);
        if (type == null) {
            throw ProtocolException.badPacket("unknown packet type '" + typeName + "'");
        }
        if (namespace != null && (namespace.isEmpty() || namespace.charAt(0) != '/')) {
            throw ProtocolException.badPacket("'nsp' must start with '/'");
        }
        if (type == PacketType.EVENT && event == null) {
            throw new ProtocolException(ProtocolException.BAD_EVENT, "missing field 'event'");
        }
        if (type == PacketType.ACK && ackId == 0) {
            throw ProtocolException.badPacket("missing field 'ack'");
        }
        if ((type == PacketType.EVENT || type == PacketType.ACK) && args == null && !fields.containsKey("error")) {
            args = List.of();
        }
        return new Packet(type, namespace, event, args, ackId, offset, fields);
    }

    private static String readStringField(JsonScanner in, String name) throws ProtocolException {
        if (in.peek() != '"') {
            throw ProtocolException.badPacket("'" + name + "' must be a string");
        }
        return in.readString();
    }

    private static String readEventName(JsonScanner in) throws ProtocolException {
        if (in.peek() != '"') {
            throw new ProtocolException(ProtocolException.BAD_EVENT, "'event' must be a string");
        }
        String name = in.readString();
        if (name.isEmpty() || name.length() > MAX_EVENT_NAME_LENGTH) {
            throw new ProtocolException(ProtocolException.BAD_EVENT,
                    "event names are 1 to " + MAX_EVENT_NAME_LENGTH + " characters");
        }
        return name;
    }

    private static RawJson readMessageId(JsonScanner in) throws ProtocolException {
        RawJson id = in.readValue(FIELD_LEVEL);
        String text = id.stringValue();
        if (text != null && text.length() > MAX_MESSAGE_ID_LENGTH) {
            throw ProtocolException.badPacket("'msgId' is at most " + MAX_MESSAGE_ID_LENGTH + " characters");
        }
        return id;
    }

    private static long readAckId(JsonScanner in) throws ProtocolException {
        char first = in.peek();
        if (first < '0' || first > '9') {
            throw ProtocolException.badPacket("'ack' must be a positive whole number");
        }
        long id = in.readLong();
        if (id < 1 || id > JsonMapper.MAX_SAFE_INTEGER) {
            throw ProtocolException.badPacket("'ack' must be between 1 and 2^53-1");
        }
        return id;
    }

    /**
     * Checks that a JSON array of arguments is one a receiving client reads: at most {@link
     * #MAX_ARGS} of them, nested no deeper than an event's arguments may be. Else a client drops
     * the whole frame.
     *
     * @throws ProtocolException naming what a client would refuse
     */
    public static void checkArgs(String argsJson) throws ProtocolException {
        JsonScanner in = new JsonScanner(argsJson);
        readArgs(in);
        in.expectEnd();
    }

    private static List<RawJson> readArgs(JsonScanner in) throws ProtocolException {
        if (in.peek() != '[') {
            throw ProtocolException.badPacket("'args' must be an array");
        }
        in.expect('[');
        if (in.consume(']')) {
            return List.of();
        }
        List<RawJson> args = new ArrayList<>();
        do {
            if (args.size() == MAX_ARGS) {
                throw ProtocolException.badPacket("more than " + MAX_ARGS + " arguments");
            }
            args.add(in.readValue(ARGUMENT_LEVEL));
        } while (in.consume(','));
        in.expect(']');
        // Immutable here, so that the packet keeps the list as it is; one or two arguments, the
        // usual, are held without an array.
        return List.of(args.toArray(RawJson[]::new));
    }
}
