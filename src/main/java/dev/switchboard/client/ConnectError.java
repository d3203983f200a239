package dev.switchboard.client;

import dev.switchboard.protocol.RawJson;
import java.util.Objects;

/**
 * Why a namespace socket could not connect: the server's {@code connect_error} (unknown
 * namespace, a middleware said no), or a client-side failure to reach the server (then
 * {@code data} is JSON {@code null}).
 *
 * <pre>{@code
 * socket.onConnectError(error -> log.info("refused: " + error.message() + " " + error.data()));
 * }</pre>
 *
 * @param message a human-readable reason
 * @param data    extra details from the server, JSON {@code null} when there are none
 */
public record ConnectError(String message, RawJson data) {
    public ConnectError {
        message = message == null ? "" : message;
        data = data == null ? RawJson.NULL : data;
    }

    /** A client-side error without details. */
    static ConnectError of(String message) {
        return new ConnectError(message, RawJson.NULL);
    }

    @Override
    public String toString() {
        return data.isNull() ? message : message + " " + Objects.toString(data);
    }
}
