package dev.switchboard.transport;

import java.util.function.Consumer;

/**
 * Whole text messages that the HTTP layer in front of the container reads off a connection
 * itself, past the container's WebSocket session: the standalone server takes a client's
 * unfragmented text frames so, and leaves every other frame to the container. The endpoint says
 * where those messages go; until it has, the container delivers them as it does the rest.
 *
 * <pre>{@code
 * directText.deliverTo(message -> onText(message, true, session));
 * }</pre>
 */
public interface DirectText {
    /**
     * From now on, whole text messages go to {@code sink}, on the thread that read them and in
     * order with what the container delivers from the same connection.
     */
    void deliverTo(Consumer<String> sink);
}
