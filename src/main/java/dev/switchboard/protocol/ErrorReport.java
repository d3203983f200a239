package dev.switchboard.protocol;

/**
 * The server's {@code error}: it refused a frame of the client.
 *
 * <pre>{@code
 * Packet packet = codec.error("/", new ErrorReport(e.code(), e.getMessage(), 0));
 * }</pre>
 *
 * @param code    one of {@link ProtocolException}'s codes, such as {@code bad_event}
 * @param message what was wrong, for people
 * @param ackId   the ack id of the refused event, which no ack will answer; 0 when none
 */
public record ErrorReport(String code, String message, long ackId) {
}
