package dev.switchboard.protocol;

import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The arguments of an event or an acknowledgement, kept as raw JSON and mapped to Java types on
 * demand with JSON-B.
 *
 * <pre>{@code
 * Arguments args = reply.get();
 * String status = args.get(0, String.class);
 * List<Point> points = args.get(1, new TypeRef<List<Point>>() {}.type());
 * byte[] avatar = args.get(2, byte[].class);             // a binary argument
 * }</pre>
 *
 * <p>A binary argument travels as a placeholder plus an attachment ({@link Payload}): asked for
 * as {@code byte[]} or {@code ByteBuffer} it reads as its bytes; a placeholder nested in an
 * object or array reads as its bytes through {@link #attachment(int)}, by its {@code num}.
 */
public final class Arguments {
    private static final Arguments EMPTY = new Arguments(List.of(), List.of());

    private final List<RawJson> values;
    private final List<byte[]> attachments;

    private Arguments(List<RawJson> values, List<byte[]> attachments) {
        this.values = values;
        this.attachments = attachments;
    }

    /** Wraps already-encoded arguments. */
    public static Arguments of(List<RawJson> values) {
        return of(values, List.of());
    }

    /** Wraps already-encoded arguments and the attachments their placeholders stand for. */
    public static Arguments of(List<RawJson> values, List<byte[]> attachments) {
        return (values == null || values.isEmpty()) && attachments.isEmpty() ? EMPTY
                : new Arguments(values == null ? List.of() : List.copyOf(values), List.copyOf(attachments));
    }

    /** The arguments a packet carries. */
    public static Arguments from(Packet packet) {
        return of(packet.args(), packet.attachments());
    }

    /** How many arguments there are. */
    public int size() {
        return values.size();
    }

    /** Whether there are none. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /**
     * Argument {@code index} mapped to {@code type}; a missing argument reads as JSON {@code null}.
     *
     * @throws IllegalArgumentException if the JSON does not fit the type
     */
    public <T> T get(int index, Class<T> type) {
        return get(index, (Type) type);
    }

    /** Argument {@code index} mapped to a generic type such as {@code List<Point>}. */
    @SuppressWarnings("unchecked")
    public <T> T get(int index, Type type) {
        if (type == byte[].class || type == ByteBuffer.class) {
            int num = Payload.placeholderNumber(raw(index));
            if (num >= 0 && num < attachments.size()) {
                byte[] bytes = attachment(num);
                return (T) (type == byte[].class ? bytes : ByteBuffer.wrap(bytes).asReadOnlyBuffer());
            }
        }
        return JsonMapper.fromJson(raw(index), type);
    }

    /**
     * A copy of attachment {@code num}, for a placeholder nested in an argument.
     *
     * @throws IndexOutOfBoundsException if there is no such attachment
     */
    public byte[] attachment(int num) {
        return attachments.get(num).clone();
    }

    /** How many binary attachments the arguments carry. */
    public int attachmentCount() {
        return attachments.size();
    }

    /**
     * The arguments to send on as they came, binaries included: for a relay such as {@code
     * event.ack(event.args().payload())} or {@code room.emit("file", event.args().payload())}.
     */
    public Payload payload() {
        return new Payload(values, attachments);
    }

    /** Argument {@code index} as the exact JSON text received; JSON {@code null} when missing. */
    public RawJson raw(int index) {
        return index >= 0 && index < values.size() ? values.get(index) : RawJson.NULL;
    }

    /** All arguments as raw JSON. */
    public List<RawJson> list() {
        return values;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
