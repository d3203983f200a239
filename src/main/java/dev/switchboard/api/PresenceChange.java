package dev.switchboard.api;

/**
 * The payload of {@code presence:join}, {@code presence:leave}, {@code presence:away},
 * {@code presence:back} and {@code presence:update}: one user of a room changed.
 *
 * @param room the room
 * @param user the user as it is now (for a leave: as it was last)
 */
public record PresenceChange(String room, PresentUser user) {
}
