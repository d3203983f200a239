package dev.switchboard.protocol;

import java.util.Set;

/**
 * Event names that belong to the lifecycle: a client may not emit them, and the server refuses
 * them with {@code bad_event} (docs/PROTOCOL.md, "Events and acknowledgements").
 *
 * <pre>{@code
 * if (ReservedEvents.contains(name)) throw new IllegalArgumentException("'" + name + "' is reserved");
 * }</pre>
 */
public final class ReservedEvents {
    /** Every reserved name. */
    public static final Set<String> NAMES = Set.of("connect", "connect_error", "disconnect",
            "disconnecting", "error", "ping", "pong", "hello", "newListener", "removeListener", "refresh");

    private ReservedEvents() {
    }

    /** Whether {@code event} is reserved. */
    public static boolean contains(String event) {
        return NAMES.contains(event);
    }
}
