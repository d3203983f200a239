package dev.switchboard.client;

import java.util.Map;

/**
 * A user in a room's presence set, as the server's presence events describe it.
 *
 * @param userId the user's id
 * @param info   its public info (empty if none)
 * @param away   whether its only connections dropped and may still come back
 */
public record PresenceMember(String userId, Map<String, Object> info, boolean away) {
    public PresenceMember {
        info = info == null ? Map.of() : Map.copyOf(info);
    }
}
