package dev.switchboard.api;

import java.util.List;

/**
 * The payload of {@code presence:list}: everyone in a room, sent once to a socket that enters it.
 *
 * @param room  the room
 * @param users the users present, sorted by id
 */
public record PresenceList(String room, List<PresentUser> users) {
}
