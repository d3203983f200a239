package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;

/**
 * Sees every event of a socket, whatever its name: incoming with {@link Socket#onAny}, outgoing
 * with {@link Socket#onAnyOutgoing}.
 *
 * <pre>{@code
 * socket.onAny((event, args) -> audit.log(socket.id(), event, args));
 * }</pre>
 */
@FunctionalInterface
public interface AnyListener {
    void onEvent(String event, Arguments args);
}
