package dev.switchboard.protocol;

import java.lang.reflect.Type;
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
