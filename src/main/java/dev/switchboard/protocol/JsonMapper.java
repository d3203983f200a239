package dev.switchboard.protocol;

import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbException;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps Java values to JSON and back with JSON-B (Yasson), with fast paths for the common scalar
 * types. One shared, thread-safe JSON-B instance serves the whole JVM.
 *
 * <pre>{@code
 * RawJson json = JsonMapper.toRaw(new Point(1, 2));   // {"x":1,"y":2}
 * Point p = JsonMapper.fromJson(json, Point.class);
 * }</pre>
 */
public final class JsonMapper {
    /** 2^53 - 1: the largest integer a JavaScript number holds exactly. */
    public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

    private static final Jsonb JSONB = JsonbBuilder.create();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JsonMapper() {
    }

    /** Encodes any value as JSON: {@code null}, scalars, records, POJOs, collections, maps, {@link RawJson}. */
    public static RawJson toRaw(Object value) {
        if (value == null) {
            return RawJson.NULL;
        }
        if (value instanceof RawJson raw) {
            return raw;
        }
        if (value instanceof String string) {
            StringBuilder out = new StringBuilder(string.length() + 2);
            quote(string, out);
            return RawJson.trusted(out.toString());
        }
        if (value instanceof Boolean || value instanceof Integer || value instanceof Long
                || value instanceof Short || value instanceof Byte || value instanceof BigInteger) {
            return RawJson.trusted(value.toString());
        }
        if (value instanceof BigDecimal decimal) {
            return RawJson.trusted(decimal.toString());
        }
        if (value instanceof jakarta.json.JsonValue json) {
            return RawJson.trusted(json.toString());
        }
        try {
            return RawJson.trusted(JSONB.toJson(value));
        } catch (JsonbException e) {
            throw new IllegalArgumentException("cannot encode " + value.getClass().getName() + " as JSON: "
                    + e.getMessage(), e);
        }
    }

    /** Encodes each value with {@link #toRaw(Object)}; a null array ({@code emit("e", null)}) is one null. */
    public static List<RawJson> toRawList(Object... values) {
        if (values == null) {
            return List.of(RawJson.NULL);
        }
        List<RawJson> list = new ArrayList<>(values.length);
        for (Object value : values) {
            list.add(toRaw(value));
        }
        return list;
    }

    /**
     * Decodes JSON to a Java type.
     *
     * @throws IllegalArgumentException if the JSON does not fit the type
     */
    @SuppressWarnings("unchecked")
    public static <T> T fromJson(RawJson json, Type type) {
        if (type == RawJson.class) {
            return (T) json;
        }
        if (type == Object.class && json.isNull()) {
            return null;
        }
        if (type == String.class) {
            // The commonest argument (a room, a name): read directly, not through a JSON-B parser.
            String value = json.stringValue();
            if (value != null) {
                return (T) value;
            }
        }
        try {
            return JSONB.fromJson(json.text(), type);
        } catch (JsonbException e) {
            throw new IllegalArgumentException("JSON " + abbreviate(json.text()) + " does not fit "
                    + type.getTypeName() + ": " + e.getMessage(), e);
        }
    }

    /** Appends {@code value} as a JSON string; lone surrogates are escaped so the frame stays valid UTF-8. */
    public static void quote(String value, StringBuilder out) {
        out.append('"');
        int runStart = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
                continue;
            }
            out.append(value, runStart, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append("\\u").append(HEX[c >> 12 & 15]).append(HEX[c >> 8 & 15])
                        .append(HEX[c >> 4 & 15]).append(HEX[c & 15]);
            }
            runStart = i + 1;
        }
        out.append(value, runStart, value.length()).append('"');
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
