package dev.switchboard.transport;

import java.util.function.Consumer;

/**
 * Whole text messages that the HTTP layer in front of the container reads off a connection
 * itself, past the container's WebSocket session: the standalone server takes a client's
 * unfragmented text frames so, and leaves every other frame to the container. The endpoint says
 * where those messages go; until it has, the container delivers them as it does the rest. The
 * layer also refuses a data frame longer than the largest message before the container buffers
 * it, and tells the endpoint.
 *
 * <pre>{@code
 * directText.deliverTo(message -> onText(message, true, session), () -> tooBig(session));
 * }</pre>
 */
public interface DirectText {
    /**
     * From now on, whole text messages go to {@code sink}, on the thread that read them and in
     * order with what the container delivers from the same connection; a frame longer than the
     * largest message is reported to {@code tooBig} there, in that order, and nothing the client
     * sends after it is delivered.
     */
    void deliverTo(Consumer<String> sink, Runnable tooBig);
}
