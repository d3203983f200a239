package dev.switchboard.adapter;

import java.util.Set;

/**
 * Who a broadcast reaches: sockets in any of {@code rooms} (every socket when empty) that are in
 * none of the {@code except} rooms.
 *
 * <pre>{@code
 * adapter.broadcast(frame, new BroadcastOptions(Set.of("lobby"), Set.of(senderId), false));
 * }</pre>
 *
 * @param rooms     target rooms; empty means the whole namespace
 * @param except    rooms whose sockets are left out (a socket id is a room, so this excludes a sender)
 * @param droppable drop rather than queue for recipients that are behind (volatile)
 */
public record BroadcastOptions(Set<String> rooms, Set<String> except, boolean droppable) {
    public BroadcastOptions {
        rooms = Set.copyOf(rooms);
        except = Set.copyOf(except);
    }

    /** Everyone in the namespace. */
    public static BroadcastOptions everyone() {
        return new BroadcastOptions(Set.of(), Set.of(), false);
    }
}
