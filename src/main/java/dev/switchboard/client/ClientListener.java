package dev.switchboard.client;

/**
 * Handles one event from the server on a {@link ClientSocket}.
 *
 * <p>Runs on a client thread (see {@link SwitchboardClient} for the threading model), so it must
 * not block; exceptions it throws are logged and do not harm the connection.
 *
 * <pre>{@code
 * socket.on("greet", event -> {
 *     String name = event.arg(0, String.class);
 *     event.ack("hello " + name);
 * });
 * }</pre>
 */
@FunctionalInterface
public interface ClientListener {
    /** Called once for every matching event. */
    void onEvent(ClientEvent event);
}
