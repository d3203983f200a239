package dev.switchboard.protocol;

/**
 * The server's {@code connect_error}: the namespace refused the socket.
 *
 * <pre>{@code
 * Packet packet = codec.connectError("/admin", new ConnectRefusal("not an admin", null));
 * }</pre>
 *
 * @param message why, for people
 * @param data    details for the client's code, or {@code null}
 */
public record ConnectRefusal(String message, RawJson data) {
}
