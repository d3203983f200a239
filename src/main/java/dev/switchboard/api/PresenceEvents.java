package dev.switchboard.api;

/**
 * The events presence pushes to the members of a tracked room (docs/PROTOCOL.md, "Presence"):
 * the list once, then diffs.
 *
 * <pre>{@code
 * client.on(PresenceEvents.JOIN, PresenceChange.class, change -> show(change.user()));
 * }</pre>
 */
public final class PresenceEvents {
    /** The whole list, to a socket that enters a room ({@link PresenceList}). */
    public static final String LIST = "presence:list";
    /** A user's first socket entered ({@link PresenceChange}, as the following). */
    public static final String JOIN = "presence:join";
    /** A user's last socket left for good. */
    public static final String LEAVE = "presence:leave";
    /** A user's only sockets dropped and wait for recovery. */
    public static final String AWAY = "presence:away";
    /** An away user has a connected socket again. */
    public static final String BACK = "presence:back";
    /** A user's info changed. */
    public static final String UPDATE = "presence:update";
    /** The most a user's or socket's info may take as JSON, in characters. */
    public static final int MAX_INFO_CHARS = 1024;

    private PresenceEvents() {
    }
}
