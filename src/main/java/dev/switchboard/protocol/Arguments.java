package dev.switchboard.protocol;

import java.lang.reflect.Type;
import java.util.List;

/**
 * The arguments of an event or an acknowledgement, kept as raw JSON and mapped to Java types on
 * demand with JSON-B.
 *
 * <pre>{@code
 * Arguments args = reply.get();
 * String status = args.get(0, String.class);
 * List<Point> points = args.get(1, new TypeRef<List<Point>>() {}.type());
 * }</pre>
 */
public final class Arguments {
    private static final Arguments EMPTY = new Arguments(List.of());

    private final List<RawJson> values;

    private Arguments(List<RawJson> values) {
        this.values = values;
    }

    /** Wraps already-encoded arguments. */
    public static Arguments of(List<RawJson> values) {
        return values == null || values.isEmpty() ? EMPTY : new Arguments(List.copyOf(values));
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
        return JsonMapper.fromJson(raw(index), type);
    }

    /** Argument {@code index} mapped to a generic type such as {@code List<Point>}. */
    public <T> T get(int index, Type type) {
        return JsonMapper.fromJson(raw(index), type);
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
