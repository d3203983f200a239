package dev.switchboard.demo;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The last few values of a feed, for pages that arrive late: a timer adds, any thread copies.
 *
 * <pre>{@code
 * Recent<Point> points = new Recent<>(300);
 * points.add(point);
 * socket.emit("history", points.list());
 * }</pre>
 */
final class Recent<T> {
    private final int capacity;
    private final Deque<T> values = new ArrayDeque<>();

    Recent(int capacity) {
        this.capacity = capacity;
    }

    /** Adds a value, forgetting the oldest once full. */
    synchronized void add(T value) {
        if (values.size() == capacity) {
            values.removeFirst();
        }
        values.addLast(value);
    }

    /** The values, oldest first. */
    synchronized List<T> list() {
        return List.copyOf(values);
    }
}
