package dev.switchboard.client;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The presence sets of one socket, one per room, fed by the server's {@code presence:*} events
 * (docs/PROTOCOL.md, "Presence"). Sets exist from the socket's start, so a list that arrives
 * before the application asks for its room is kept. A fresh session (not recovered) starts them
 * empty: the server sends each room's list again when the socket enters it.
 */
final class PresenceTracker {
    /** The payload of {@code presence:list}; public for JSON-B. */
    public record Listing(String room, List<PresenceMember> users) {
    }

    /** The payload of the diffs; public for JSON-B. */
    public record Change(String room, PresenceMember user) {
    }

    private final ClientSocket socket;
    private final Map<String, RoomPresence> rooms = new ConcurrentHashMap<>();

    PresenceTracker(ClientSocket socket) {
        this.socket = socket;
        socket.on("presence:list", Listing.class, listing -> room(listing.room()).replace(listing.users()));
        for (String event : List.of("presence:join", "presence:away", "presence:back", "presence:update")) {
            socket.on(event, Change.class, change -> room(change.room()).put(change.user()));
        }
        socket.on("presence:leave", Change.class, change -> room(change.room()).remove(change.user().userId()));
        socket.onConnect(this::connected);
    }

    RoomPresence room(String room) {
        return rooms.computeIfAbsent(room, RoomPresence::new);
    }

    private void connected() {
        if (!socket.recovered()) {
            rooms.values().forEach(room -> room.replace(List.of()));
        }
    }
}
