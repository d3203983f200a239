package dev.switchboard.server;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Listeners of one kind on one socket: added and removed rarely, read on every event, so
 * copy-on-write like {@code CopyOnWriteArrayList}. Unlike that class, an empty list is one small
 * object: a server holds one socket per connection, and most sockets never get most kinds of
 * listener ({@code onAny}, {@code onDisconnecting}, ...).
 */
final class ListenerList<T> implements Iterable<T> {
    /** Replaced whole, never modified; written under this object's lock, read without it. */
    private volatile List<T> items = List.of();

    synchronized void add(T item) {
        List<T> next = new ArrayList<>(items);
        next.add(item);
        items = List.copyOf(next);
    }

    /** Removes one occurrence; returns whether there was one, so that a caller can claim an item once. */
    synchronized boolean remove(T item) {
        List<T> next = new ArrayList<>(items);
        if (!next.remove(item)) {
            return false;
        }
        items = List.copyOf(next);
        return true;
    }

    boolean isEmpty() {
        return items.isEmpty();
    }

    @Override
    public Iterator<T> iterator() {
        return items.iterator();
    }
}
