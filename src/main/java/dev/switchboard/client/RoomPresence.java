package dev.switchboard.client;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Who is in one room, kept up to date from the server's presence events: the list the socket
 * gets when it enters the room, then the diffs. Made by {@link ClientSocket#presence(String)}.
 *
 * <pre>{@code
 * chat.presence("general").onChange(room -> show(room.members()));   // "Ana", "Pedro (away)"
 * }</pre>
 *
 * <p>Its members are guarded by {@code this}; change listeners run on the client's event thread.
 */
public final class RoomPresence {
    private final String room;
    /** Guarded by {@code this}. */
    private final Map<String, PresenceMember> members = new TreeMap<>();
    private final List<Consumer<RoomPresence>> listeners = new CopyOnWriteArrayList<>();

    RoomPresence(String room) {
        this.room = room;
    }

    /** The room. */
    public String room() {
        return room;
    }

    /** The users present, sorted by id. */
    public synchronized List<PresenceMember> members() {
        return List.copyOf(members.values());
    }

    /** The user with this id, or {@code null} when it is not present. */
    public synchronized PresenceMember member(String userId) {
        return members.get(userId);
    }

    /** Calls {@code listener} after every change of the set. */
    public RoomPresence onChange(Consumer<RoomPresence> listener) {
        listeners.add(listener);
        return this;
    }

    void replace(List<PresenceMember> all) {
        synchronized (this) {
            members.clear();
            all.forEach(member -> members.put(member.userId(), member));
        }
        changed();
    }

    void put(PresenceMember member) {
        synchronized (this) {
            members.put(member.userId(), member);
        }
        changed();
    }

    void remove(String userId) {
        synchronized (this) {
            members.remove(userId);
        }
        changed();
    }

    private void changed() {
        for (Consumer<RoomPresence> listener : listeners) {
            try {
                listener.accept(this);
            } catch (RuntimeException e) {
                System.getLogger(RoomPresence.class.getName()).log(System.Logger.Level.WARNING,
                        "a presence listener of " + room + " threw", e);
            }
        }
    }
}
