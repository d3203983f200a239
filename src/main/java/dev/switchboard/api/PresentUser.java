package dev.switchboard.api;

import java.util.Map;

/**
 * A user present in a room, once however many sockets it has there.
 *
 * <pre>{@code
 * chat.presence("general").thenAccept(users -> users.forEach(user -> show(user.userId() + (user.away() ? " (away)" : ""))));
 * }</pre>
 *
 * @param userId the user's id ({@code socket.userId()})
 * @param info   the public info the application set for the user or one of its sockets; empty if none
 * @param away   whether the user's only sockets there are waiting for their clients to recover
 */
public record PresentUser(String userId, Map<String, Object> info, boolean away) {
    public PresentUser {
        info = Map.copyOf(info);
    }

    /** The same user, away or not. */
    public PresentUser asAway(boolean nowAway) {
        return new PresentUser(userId, info, nowAway);
    }
}
