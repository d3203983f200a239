package dev.switchboard.protocol.socketio;

import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.ConnectAnswer;
import dev.switchboard.protocol.ConnectRefusal;
import dev.switchboard.protocol.ConnectRequest;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.ErrorReport;
import dev.switchboard.protocol.Hello;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.protocol.JsonWireCodec;
import dev.switchboard.protocol.Packet;
import dev.switchboard.protocol.PacketType;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.RawJson;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Socket.IO protocol v5 inside Engine.IO protocol v4 text packets, the wire format of the official
 * Socket.IO clients (docs/PROTOCOL.md, "The Socket.IO wire format"). One text is one Engine.IO
 * packet: {@code 0} open (the server's hello), {@code 2} ping, {@code 3} pong, {@code 4} message,
 * whose body is one Socket.IO packet such as {@code 42/chat,7["message","hi"]}.
 *
 * <pre>{@code
 * Codec codec = new SocketIoCodec(true);
 * Packet event = codec.decode("42/chat,7[\"message\",\"hi\"]");   // EVENT on /chat, ack id 7
 * String text = codec.encode(Packet.ack("/chat", 7, JsonMapper.toRawList("stored")));   // 43/chat,7["stored"]
 * }</pre>
 *
 * <p>Engine.IO's close ({@code 1}) and noop ({@code 6}) belong to the transport, which handles
 * them before the codec ({@link #isEngineClose}, {@link #isEngineNoop}). A packet with binary
 * arguments is a BINARY_EVENT ({@code 5}) or BINARY_ACK ({@code 6}) announcing its attachment
 * count, {@code 451-["file",{"_placeholder":true,"num":0}]}, followed by one binary frame per
 * attachment; decoding puts the count in {@link Packet#ATTACHMENTS_FIELD} for
 * {@link dev.switchboard.protocol.AttachmentAssembler}. Immutable and thread-safe.
 */
public final class SocketIoCodec implements Codec {
    /** The Engine.IO protocol version, asked for in the {@code EIO} query parameter. */
    public static final int ENGINE_IO_VERSION = 4;
    /** The Socket.IO protocol version. */
    public static final int VERSION = 5;

    private static final char OPEN = '0';
    private static final char CLOSE = '1';
    private static final char PING = '2';
    private static final char PONG = '3';
    private static final char MESSAGE = '4';
    private static final char NOOP = '6';

    private static final char SIO_CONNECT = '0';
    private static final char SIO_DISCONNECT = '1';
    private static final char SIO_EVENT = '2';
    private static final char SIO_ACK = '3';
    private static final char SIO_CONNECT_ERROR = '4';
    private static final char SIO_BINARY_EVENT = '5';
    private static final char SIO_BINARY_ACK = '6';

    /** The longest attachment count read; the assembler's bound is far below. */
    private static final int MAX_ATTACHMENT_DIGITS = 6;
    /** The longest ack id: 2^53-1 has 16 digits. */
    private static final int MAX_ACK_ID_DIGITS = 16;

    /** Builds and reads the control packets whose fields both wire formats share. */
    private static final JsonWireCodec NATIVE = new JsonWireCodec();

    private final boolean recoveryEnabled;

    /**
     * @param recoveryEnabled whether the server recovers sessions: connect answers then carry a
     *                        {@code pid} and events their offset as the last argument, as the
     *                        reference server does with connection state recovery on
     */
    public SocketIoCodec(boolean recoveryEnabled) {
        this.recoveryEnabled = recoveryEnabled;
    }

    /** Whether {@code text} is Engine.IO's close packet, which ends the whole connection. */
    public static boolean isEngineClose(String text) {
        return text.length() == 1 && text.charAt(0) == CLOSE;
    }

    /** Whether {@code text} is Engine.IO's noop packet, which carries nothing. */
    public static boolean isEngineNoop(String text) {
        return text.length() == 1 && text.charAt(0) == NOOP;
    }

    @Override
    public int version() {
        return VERSION;
    }

    @Override
    public boolean rotatesPrivateId() {
        return false;
    }

    /** An event that asks for an ack carries no offset, as on the reference server (see {@link #encodeEvent}). */
    @Override
    public boolean showsOffset(Packet event) {
        return event.ackId() == 0;
    }

    /**
     * socket.io-client takes the last element of an event it is not asked to ack, the name first,
     * for its offset whenever it is a string (socket.js, {@code emitEvent}): from an event without
     * an offset, the last argument that is a string, or the name when there are none.
     */
    @Override
    public String offsetTakenFrom(Packet event) {
        if (!recoveryEnabled || event.ackId() > 0 || event.offset() != null) {
            return null;
        }
        List<RawJson> args = event.args();
        return args == null || args.isEmpty() ? event.event() : args.get(args.size() - 1).stringValue();
    }

    /**
     * engine.io-client closes its WebSocket without a close code whenever it closes a transport
     * ({@code io.engine.close()}, a Manager that closes), which containers report as 1000 or
     * 1005; the reference server counts any close as a transport close. A client that leaves
     * sends DISCONNECT first.
     */
    @Override
    public boolean normalCloseLeaves() {
        return false;
    }

    // ---- encoding ----

    @Override
    public String encode(Packet packet) {
        return switch (packet.type()) {
            case HELLO -> OPEN + object(packet.fields());
            case PING -> String.valueOf(PING);
            case PONG -> String.valueOf(PONG);
            case CONNECT -> message(SIO_CONNECT, packet).append(object(packet.fields())).toString();
            case CONNECT_ERROR -> message(SIO_CONNECT_ERROR, packet).append(object(packet.fields())).toString();
            case DISCONNECT -> message(SIO_DISCONNECT, packet).toString();
            case EVENT -> encodeEvent(packet);
            case ACK -> appendArray(message(packet.attachments().isEmpty() ? SIO_ACK : SIO_BINARY_ACK, packet)
                    .append(wireAckId(packet.ackId())).append('['), packet.args() == null ? List.of() : packet.args())
                    .append(']').toString();
            case ERROR -> throw new IllegalArgumentException("Socket.IO has no error packet");
        };
    }

    private String encodeEvent(Packet packet) {
        StringBuilder out = message(packet.attachments().isEmpty() ? SIO_EVENT : SIO_BINARY_EVENT, packet);
        if (packet.ackId() > 0) {
            out.append(wireAckId(packet.ackId()));
        }
        out.append('[');
        JsonMapper.quote(packet.event(), out);
        if (packet.args() != null && !packet.args().isEmpty()) {
            appendArray(out.append(','), packet.args());
        }
        // As the reference server: the offset rides as the last argument of events it may replay.
        if (recoveryEnabled && packet.offset() != null && packet.ackId() == 0) {
            out.append(',');
            JsonMapper.quote(packet.offset(), out);
        }
        return out.append(']').toString();
    }

    /** Socket.IO counts ack ids from 0, the core from 1 (0 is none): the wire id is one less. */
    private static long wireAckId(long ackId) {
        return ackId - 1;
    }

    /**
     * An Engine.IO message carrying a Socket.IO packet of {@code type}, up to its namespace; a
     * binary packet's attachment count comes first.
     */
    private static StringBuilder message(char type, Packet packet) {
        StringBuilder out = new StringBuilder(64).append(MESSAGE).append(type);
        if (!packet.attachments().isEmpty()) {
            out.append(packet.attachments().size()).append('-');
        }
        if (!Packet.ROOT_NAMESPACE.equals(packet.namespace())) {
            out.append(packet.namespace()).append(',');
        }
        return out;
    }

    private static StringBuilder appendArray(StringBuilder out, List<RawJson> values) {
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(values.get(i).text());
        }
        return out;
    }

    private static String object(Map<String, RawJson> fields) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, RawJson> field : fields.entrySet()) {
            if (out.length() > 1) {
                out.append(',');
            }
            JsonMapper.quote(field.getKey(), out);
            out.append(':').append(field.getValue().text());
        }
        return out.append('}').toString();
    }

    // ---- decoding ----

    @Override
    public Packet decode(String text) throws ProtocolException {
        if (text.isEmpty()) {
            throw bad("empty packet");
        }
        char type = text.charAt(0);
        return switch (type) {
            case OPEN -> Packet.of(PacketType.HELLO, Packet.ROOT_NAMESPACE, RawJson.of(text.substring(1)).members());
            case PING, PONG -> {
                if (text.length() > 1) {
                    throw bad("a ping or pong carries nothing over WebSocket after the upgrade");
                }
                yield Packet.of(type == PING ? PacketType.PING : PacketType.PONG, Packet.ROOT_NAMESPACE, null);
            }
            case MESSAGE -> decodeMessage(text);
            default -> throw bad("unknown Engine.IO packet type '" + type + "'");
        };
    }

    private Packet decodeMessage(String text) throws ProtocolException {
        if (text.length() < 2) {
            throw bad("an empty message");
        }
        char type = text.charAt(1);
        int pos = 2;
        int attachments = 0;
        if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK) {
            int dash = text.indexOf('-', pos);
            if (dash < 0 || dash == pos || dash - pos > MAX_ATTACHMENT_DIGITS || !digitsOnly(text, pos, dash)) {
                throw bad("a binary packet starts with its attachment count and '-'");
            }
            attachments = Integer.parseInt(text, pos, dash, 10);
            pos = dash + 1;
            type = type == SIO_BINARY_EVENT ? SIO_EVENT : SIO_ACK;
        }
        String namespace = Packet.ROOT_NAMESPACE;
        if (pos < text.length() && text.charAt(pos) == '/') {
            int comma = text.indexOf(',', pos);
            int end = comma < 0 ? text.length() : comma;
            namespace = text.substring(pos, end);
            pos = comma < 0 ? end : comma + 1;
        }
        int digits = pos;
        while (digits < text.length() && Character.isDigit(text.charAt(digits))) {
            digits++;
        }
        long ackId = 0;
        if (digits > pos) {
            if (digits - pos > MAX_ACK_ID_DIGITS) {
                throw bad("the ack id is too long");
            }
            ackId = Long.parseLong(text, pos, digits, 10) + 1;
            if (ackId > JsonMapper.MAX_SAFE_INTEGER) {
                throw bad("the ack id must be below 2^53-1");
            }
        }
        String body = text.substring(digits);
        RawJson payload = body.isEmpty() ? null : RawJson.of(body);
        Packet packet = decodePacket(type, namespace, ackId, digits > pos, payload);
        return attachments == 0 ? packet : new Packet(packet.type(), packet.namespace(), packet.event(), packet.args(),
                packet.ackId(), packet.offset(), Map.of(Packet.ATTACHMENTS_FIELD, JsonMapper.toRaw(attachments)));
    }

    private static boolean digitsOnly(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Character.isDigit(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static Packet decodePacket(char type, String namespace, long ackId, boolean hasAckId, RawJson payload)
            throws ProtocolException {
        return switch (type) {
            case SIO_CONNECT -> decodeConnect(namespace, payload);
            case SIO_DISCONNECT -> {
                if (payload != null) {
                    throw bad("a disconnect carries nothing");
                }
                yield Packet.of(PacketType.DISCONNECT, namespace, null);
            }
            case SIO_EVENT -> decodeEvent(namespace, ackId, payload);
            case SIO_ACK -> {
                if (!hasAckId || payload == null) {
                    throw bad("an ack needs an id and an array of arguments");
                }
                yield Packet.ack(namespace, ackId, arguments(payload.elements()));
            }
            case SIO_CONNECT_ERROR -> Packet.of(PacketType.CONNECT_ERROR, namespace,
                    payload == null ? null : payload.members());
            default -> throw bad("unknown Socket.IO packet type '" + type + "'");
        };
    }

    /** The CONNECT payload is the auth object, with the session's {@code pid} and {@code offset} in it on recovery. */
    private static Packet decodeConnect(String namespace, RawJson payload) throws ProtocolException {
        if (payload == null) {
            return Packet.of(PacketType.CONNECT, namespace, null);
        }
        Map<String, RawJson> auth = new LinkedHashMap<>(payload.members());
        RawJson pid = auth.remove("pid");
        RawJson offset = auth.remove("offset");
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("auth", RawJson.of(object(auth)));
        if (pid != null && pid.stringValue() != null) {
            fields.put("pid", pid);
        }
        return Packet.of(PacketType.CONNECT, namespace, fields)
                .withOffset(offset == null ? null : offset.stringValue());
    }

    private static Packet decodeEvent(String namespace, long ackId, RawJson payload) throws ProtocolException {
        if (payload == null) {
            throw new ProtocolException(ProtocolException.BAD_EVENT, "an event needs an array with its name first");
        }
        List<RawJson> elements = payload.elements();
        String name = elements.isEmpty() ? null : elements.get(0).stringValue();
        if (name == null || name.isEmpty() || name.length() > JsonWireCodec.MAX_EVENT_NAME_LENGTH) {
            throw new ProtocolException(ProtocolException.BAD_EVENT,
                    "an event's name is a string of 1 to " + JsonWireCodec.MAX_EVENT_NAME_LENGTH + " characters");
        }
        return Packet.event(namespace, name, arguments(elements.subList(1, elements.size())), ackId);
    }

    private static List<RawJson> arguments(List<RawJson> args) throws ProtocolException {
        if (args.size() > JsonWireCodec.MAX_ARGS) {
            throw bad("more than " + JsonWireCodec.MAX_ARGS + " arguments");
        }
        return args;
    }

    private static ProtocolException bad(String message) {
        return new ProtocolException(ProtocolException.BAD_PACKET, message);
    }

    // ---- control packets ----

    @Override
    public Packet hello(Hello hello) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("sid", JsonMapper.toRaw(hello.sid()));
        fields.put("upgrades", JsonMapper.toRaw(hello.upgrades()));
        fields.put("pingInterval", JsonMapper.toRaw(hello.pingIntervalMillis()));
        fields.put("pingTimeout", JsonMapper.toRaw(hello.pingTimeoutMillis()));
        fields.put("maxPayload", JsonMapper.toRaw(hello.maxPayload()));
        return Packet.of(PacketType.HELLO, Packet.ROOT_NAMESPACE, fields);
    }

    @Override
    public String wireFormat() {
        return "socket.io";
    }

    @Override
    public Hello readHello(Packet hello) {
        return new Hello(ENGINE_IO_VERSION, hello.stringField("sid"), longField(hello, "pingInterval", 25_000),
                longField(hello, "pingTimeout", 20_000), longField(hello, "maxPayload", 0), 0, 0, upgrades(hello));
    }

    /** The open packet's upgrades; none where the field is missing or not a list of names. */
    private static List<String> upgrades(Packet hello) {
        RawJson raw = hello.field("upgrades");
        try {
            String[] names = raw == null ? new String[0] : JsonMapper.fromJson(raw, String[].class);
            return names == null ? List.of() : Arrays.stream(names).filter(Objects::nonNull).toList();
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private static long longField(Packet packet, String name, long fallback) {
        RawJson raw = packet.field(name);
        try {
            return raw == null ? fallback : Long.parseLong(raw.text());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    @Override
    public Packet connect(String namespace, ConnectRequest request) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        if (request.auth() != null) {
            try {
                fields.putAll(request.auth().members());
            } catch (ProtocolException e) {
                throw new IllegalArgumentException("Socket.IO's auth payload is an object", e);
            }
        }
        if (request.pid() != null) {
            fields.put("pid", JsonMapper.toRaw(request.pid()));
            fields.put("offset", JsonMapper.toRaw(request.offset()));
        }
        return Packet.of(PacketType.CONNECT, namespace, fields);
    }

    @Override
    public ConnectRequest readConnect(Packet connect) {
        // decode() put the auth, pid and offset where the native protocol has them.
        return NATIVE.readConnect(connect);
    }

    @Override
    public Packet connected(String namespace, ConnectAnswer answer) {
        Map<String, RawJson> fields = new LinkedHashMap<>();
        fields.put("sid", JsonMapper.toRaw(answer.id()));
        if (recoveryEnabled) {
            fields.put("pid", JsonMapper.toRaw(answer.pid()));
        }
        return Packet.of(PacketType.CONNECT, namespace, fields);
    }

    /** Socket.IO's answer does not say whether it recovered: the client compares the {@code pid} with its own. */
    @Override
    public ConnectAnswer readConnected(Packet connected) {
        return new ConnectAnswer(connected.stringField("sid"), connected.stringField("pid"), false);
    }

    /** The same {@code message} and {@code data} fields as the native protocol's. */
    @Override
    public Packet connectError(String namespace, ConnectRefusal refusal) {
        return NATIVE.connectError(namespace, refusal);
    }

    @Override
    public ConnectRefusal readConnectError(Packet connectError) {
        return NATIVE.readConnectError(connectError);
    }

    /** None: a Socket.IO server closes the connection on a packet it cannot take. */
    @Override
    public Packet error(String namespace, ErrorReport error) {
        return null;
    }

    @Override
    public ErrorReport readError(Packet error) {
        return new ErrorReport(ProtocolException.BAD_PACKET, error.stringField("message"), 0);
    }

    /** Socket.IO's disconnect carries no reason. */
    @Override
    public Packet disconnect(String namespace, DisconnectReason reason) {
        return Packet.of(PacketType.DISCONNECT, namespace, null);
    }

    @Override
    public String readDisconnect(Packet disconnect) {
        return null;
    }

    /**
     * Socket.IO acks carry arguments only: a failed listener answers with one argument, {@code
     * {"error":"message"}}, which the client's callback receives.
     */
    @Override
    public Packet ackError(String namespace, long ackId, String message) {
        return Packet.ack(namespace, ackId, List.of(JsonMapper.toRaw(Map.of("error", message))));
    }

    @Override
    public RawJson readAckError(Packet ack) {
        return null;
    }

    /** Socket.IO has no message ids: the event goes as it is. */
    @Override
    public Packet withMessageId(Packet event, String messageId) {
        return event;
    }

    @Override
    public String messageId(Packet event) {
        return null;
    }

    /** Engine.IO's pong confirms nothing. */
    @Override
    public Packet pong(String confirmedOffset) {
        return Packet.of(PacketType.PONG, Packet.ROOT_NAMESPACE, null);
    }

    @Override
    public String confirmedOffset(Packet pong) {
        return null;
    }
}
