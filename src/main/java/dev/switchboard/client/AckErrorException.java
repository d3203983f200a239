package dev.switchboard.client;

import dev.switchboard.protocol.RawJson;
import java.util.Map;

/**
 * Fails the future of {@link ClientSocket#emitWithAck} when the server answered with
 * {@code error} instead of {@code args}: the handler failed, or the event was refused (then
 * {@link #code()} is the server's {@code error.code}, such as {@code rate_limited}).
 *
 * <pre>{@code
 * try {
 *     socket.emitWithAck("transfer", order).join();
 * } catch (CompletionException e) {
 *     if (e.getCause() instanceof AckErrorException refused) {
 *         System.out.println(refused.getMessage() + " " + refused.error());
 *     }
 * }
 * }</pre>
 */
public final class AckErrorException extends RuntimeException {
    private final transient RawJson error;
    private final String code;

    public AckErrorException(String message, String code, RawJson error) {
        super(message);
        this.code = code;
        this.error = error == null ? RawJson.NULL : error;
    }

    /** The server's {@code error} value as received, usually {@code {"message": "..."}}. */
    public RawJson error() {
        return error;
    }

    /** The {@code error.code} of a refused event, or {@code null} when a handler failed. */
    public String code() {
        return code;
    }

    /** Builds the exception from an {@code ack} packet's {@code error} field. */
    static AckErrorException fromAckError(RawJson error) {
        String message = "the server answered with an error";
        if (error != null && error.text().startsWith("{")) {
            try {
                Object text = error.as(Map.class).get("message");
                if (text != null) {
                    message = text.toString();
                }
            } catch (IllegalArgumentException e) {
                // Keep the generic message; error() still has the raw value.
            }
        }
        return new AckErrorException(message, null, error);
    }
}
