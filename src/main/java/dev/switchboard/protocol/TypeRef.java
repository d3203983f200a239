package dev.switchboard.protocol;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * Captures a generic type for JSON-B.
 *
 * <pre>{@code
 * List<Point> points = event.arg(0, new TypeRef<List<Point>>() { }.type());
 * }</pre>
 *
 * @param <T> the type to capture
 */
public abstract class TypeRef<T> {
    private final Type type;

    protected TypeRef() {
        Type superclass = getClass().getGenericSuperclass();
        if (!(superclass instanceof ParameterizedType parameterized)) {
            throw new IllegalStateException("TypeRef needs a type argument");
        }
        this.type = parameterized.getActualTypeArguments()[0];
    }

    /** The captured type. */
    public Type type() {
        return type;
    }
}
