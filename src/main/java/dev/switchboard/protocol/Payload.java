package dev.switchboard.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The arguments of an event or an ack as they travel: JSON values in which each binary value
 * ({@code byte[]} or {@code ByteBuffer}) is replaced by a placeholder, {@code
 * {"_placeholder":true,"num":N}}, plus the binaries themselves, in order ({@code attachments}).
 * Both wire formats carry it the same way: a text frame announcing the attachments, then one
 * binary frame per attachment (docs/PROTOCOL.md).
 *
 * <pre>{@code
 * Payload payload = Payload.of("avatar.png", new byte[] {1, 2, 3}, Map.of("thumb", new byte[] {4}));
 * payload.args();          // ["avatar.png", {"_placeholder":true,"num":0}, {"thumb":{"_placeholder":true,"num":1}}]
 * payload.attachments();   // [[1, 2, 3], [4]]
 * }</pre>
 *
 * <p>Binary values are found at the top level and inside {@code Map}s, {@code Collection}s and
 * object arrays, as Socket.IO's clients place them; a {@code byte[]} field of a record goes
 * through JSON-B like any other field. The attachments are copies, so the caller may reuse its
 * arrays once {@link #of} returns; nobody changes them afterwards.
 *
 * @param args        the JSON arguments, placeholders included
 * @param attachments the binary values, placeholder {@code num} N being element N
 */
public record Payload(List<RawJson> args, List<byte[]> attachments) {

    public Payload {
        args = List.copyOf(args);
        attachments = List.copyOf(attachments);
    }

    /**
     * Encodes Java values; a null array ({@code emit("e", null)}) is one null, and a payload
     * alone is taken as it is (a relay of received arguments).
     *
     * @throws IllegalArgumentException if a value cannot be mapped to JSON
     */
    public static Payload of(Object... values) {
        if (values == null) {
            return new Payload(List.of(RawJson.NULL), List.of());
        }
        if (values.length == 1 && values[0] instanceof Payload payload) {
            return payload;
        }
        List<byte[]> attachments = new ArrayList<>(0);
        RawJson[] args = new RawJson[values.length];
        for (int i = 0; i < values.length; i++) {
            Object value = values[i];
            // A received argument relayed (an echo, an ack with what came in) is JSON already, and
            // its binary values, if any, are attachments of the packet it came in: taken as it is.
            args[i] = value instanceof RawJson raw ? raw
                    : hasBinary(value) ? RawJson.trusted(encode(value, attachments, new StringBuilder()).toString())
                    : JsonMapper.toRaw(value);
        }
        return new Payload(List.of(args), attachments.isEmpty() ? List.of() : attachments);
    }

    /** Whether {@code value} is binary or a map, collection or array holding binary somewhere. */
    static boolean hasBinary(Object value) {
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            return true;
        }
        if (value instanceof Map<?, ?> map) {
            return map.values().stream().anyMatch(Payload::hasBinary);
        }
        if (value instanceof Collection<?> collection) {
            return collection.stream().anyMatch(Payload::hasBinary);
        }
        if (value instanceof Object[] array) {
            for (Object element : array) {
                if (hasBinary(element)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static StringBuilder encode(Object value, List<byte[]> attachments, StringBuilder out) {
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            attachments.add(copy(value));
            return out.append(placeholder(attachments.size() - 1));
        }
        if (!hasBinary(value)) {
            return out.append(JsonMapper.toRaw(value).text());
        }
        if (value instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                JsonMapper.quote(String.valueOf(entry.getKey()), out);
                encode(entry.getValue(), attachments, out.append(':'));
            }
            return out.append('}');
        }
        Iterable<?> elements = value instanceof Collection<?> collection ? collection : List.of((Object[]) value);
        out.append('[');
        boolean first = true;
        for (Object element : elements) {
            if (!first) {
                out.append(',');
            }
            first = false;
            encode(element, attachments, out);
        }
        return out.append(']');
    }

    private static byte[] copy(Object binary) {
        if (binary instanceof byte[] bytes) {
            return bytes.clone();
        }
        ByteBuffer buffer = ((ByteBuffer) binary).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** The JSON that stands for attachment {@code num}. */
    public static String placeholder(int num) {
        return "{\"_placeholder\":true,\"num\":" + num + "}";
    }

    /**
     * The attachment number {@code value} is a placeholder for, or -1 when it is none.
     */
    public static int placeholderNumber(RawJson value) {
        String text = value.text();
        if (text.isEmpty() || text.charAt(0) != '{' || !text.contains("_placeholder")) {
            return -1;
        }
        try {
            Map<String, RawJson> members = value.members();
            RawJson flag = members.get("_placeholder");
            RawJson num = members.get("num");
            if (members.size() != 2 || flag == null || !"true".equals(flag.text()) || num == null) {
                return -1;
            }
            return Integer.parseInt(num.text());
        } catch (ProtocolException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Checks that the placeholders in {@code args}, at any depth, name the attachments there are,
     * each exactly once, as a receiver must before it hands the values on.
     *
     * @throws ProtocolException if a placeholder names no attachment, or one is named twice or never
     */
    public static void checkPlaceholders(List<RawJson> args, int attachmentCount) throws ProtocolException {
        boolean[] seen = new boolean[attachmentCount];
        int found = 0;
        for (RawJson arg : args) {
            found += countPlaceholders(arg, seen);
        }
        if (found != attachmentCount) {
            throw ProtocolException.badPacket("the placeholders do not match the " + attachmentCount + " attachments");
        }
    }

    private static int countPlaceholders(RawJson value, boolean[] seen) throws ProtocolException {
        String text = value.text();
        if (!text.contains("_placeholder")) {
            return 0;
        }
        int num = placeholderNumber(value);
        if (num >= 0 || text.charAt(0) == '{' && value.members().containsKey("_placeholder")) {
            if (num < 0 || num >= seen.length || seen[num]) {
                throw ProtocolException.badPacket("a placeholder names no attachment, or one already named");
            }
            seen[num] = true;
            return 1;
        }
        int found = 0;
        List<RawJson> children = text.charAt(0) == '{' ? List.copyOf(value.members().values())
                : text.charAt(0) == '[' ? value.elements() : List.of();
        for (RawJson child : children) {
            found += countPlaceholders(child, seen);
        }
        return found;
    }
}
