package dev.switchboard.server;

/**
 * Handles one incoming event. A listener that throws fails the event: the client's ack, if it
 * asked for one, carries an error, and the connection goes on.
 *
 * <pre>{@code
 * socket.on("move", event -> {
 *     Point to = event.arg(0, Point.class);
 *     event.ack(board.move(to));
 * });
 * }</pre>
 */
@FunctionalInterface
public interface EventListener {
    void onEvent(Event event) throws Exception;
}
