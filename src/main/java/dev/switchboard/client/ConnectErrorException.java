package dev.switchboard.client;

/**
 * Fails {@link ClientSocket#whenConnected()} when the socket will not connect: the server
 * answered {@code connect_error}, the client gave up reconnecting, or it was closed.
 *
 * <pre>{@code
 * try {
 *     socket.whenConnected().get(5, TimeUnit.SECONDS);
 * } catch (ExecutionException e) {
 *     if (e.getCause() instanceof ConnectErrorException refused) {
 *         System.out.println(refused.error().message());
 *     }
 * }
 * }</pre>
 */
public final class ConnectErrorException extends RuntimeException {
    private final transient ConnectError error;

    public ConnectErrorException(ConnectError error) {
        super(error.toString());
        this.error = error;
    }

    /** The error, with the server's {@code data} when it sent any. */
    public ConnectError error() {
        return error;
    }
}
