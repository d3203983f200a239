package dev.switchboard.server;

/**
 * Handles an event whose first argument is mapped to {@code T}.
 *
 * <pre>{@code
 * socket.on("message", ChatMessage.class, (message, event) -> event.ack("stored"));
 * }</pre>
 *
 * @param <T> the Java type of the first argument
 */
@FunctionalInterface
public interface PayloadListener<T> {
    void onEvent(T payload, Event event) throws Exception;
}
