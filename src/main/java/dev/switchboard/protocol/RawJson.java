package dev.switchboard.protocol;

import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One JSON value kept as the exact text it arrived as, so that nothing (an integer past 2^53, a
 * decimal's digits) is lost until the application asks for a Java type.
 *
 * <pre>{@code
 * socket.on("raw", event -> {
 *     RawJson first = event.arg(0, RawJson.class);
 *     Map<?, ?> asMap = first.as(Map.class);
 * });
 * }</pre>
 */
public final class RawJson {
    /** The JSON literal {@code null}. */
    public static final RawJson NULL = new RawJson("null");

    private final String text;

    private RawJson(String text) {
        this.text = text;
    }

    /**
     * Wraps text that is already known to be exactly one valid JSON value.
     *
     * @throws ProtocolException if the text is not one JSON value
     */
    public static RawJson of(String json) throws ProtocolException {
        JsonScanner.validate(json);
        return new RawJson(json);
    }

    /** Wraps text the caller has validated (the scanner, the JSON-B writer). */
    static RawJson trusted(String json) {
        return new RawJson(json);
    }

    /** The JSON text, exactly as received or encoded. */
    public String text() {
        return text;
    }

    /** Maps this value to a Java type with JSON-B. */
    public <T> T as(Class<T> type) {
        return JsonMapper.fromJson(this, type);
    }

    /** Maps this value to a generic Java type (for example a {@code List<Point>}) with JSON-B. */
    public <T> T as(Type type) {
        return JsonMapper.fromJson(this, type);
    }

    /**
     * The elements of this JSON array, each as its exact text: for another wire format that
     * carries arguments in an array.
     *
     * @throws ProtocolException if this is not an array
     */
    public List<RawJson> elements() throws ProtocolException {
        JsonScanner in = new JsonScanner(text);
        in.skipWhitespace();
        if (in.peek() != '[') {
            throw ProtocolException.badPacket("expected an array");
        }
        in.expect('[');
        List<RawJson> elements = new ArrayList<>();
        if (!in.consume(']')) {
            do {
                elements.add(in.readValue(1));
            } while (in.consume(','));
            in.expect(']');
        }
        return elements;
    }

    /**
     * The members of this JSON object by name, in order, each value as its exact text.
     *
     * @throws ProtocolException if this is not an object
     */
    public Map<String, RawJson> members() throws ProtocolException {
        JsonScanner in = new JsonScanner(text);
        in.skipWhitespace();
        if (in.peek() != '{') {
            throw ProtocolException.badPacket("expected an object");
        }
        in.expect('{');
        Map<String, RawJson> members = new LinkedHashMap<>();
        if (!in.consume('}')) {
            do {
                String name = in.readString();
                in.expect(':');
                members.put(name, in.readValue(1));
            } while (in.consume(','));
            in.expect('}');
        }
        return members;
    }

    /** This value as a Java string, or {@code null} when it is not a JSON string. */
    public String stringValue() {
        if (text.isEmpty() || text.charAt(0) != '"') {
            return null;
        }
        try {
            return new JsonScanner(text).readString();
        } catch (ProtocolException e) {
            return null;
        }
    }

    /** Whether this is the JSON literal {@code null}. */
    public boolean isNull() {
        return "null".equals(text);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RawJson raw && raw.text.equals(text);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(text);
    }

    @Override
    public String toString() {
        return text;
    }
}
