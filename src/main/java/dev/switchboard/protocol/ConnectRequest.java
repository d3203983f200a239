package dev.switchboard.protocol;

/**
 * A client's {@code connect}: it opens a socket on a namespace, or recovers its session there.
 *
 * <pre>{@code
 * Packet packet = codec.connect("/chat", new ConnectRequest(JsonMapper.toRaw(auth), null, null));
 * String pid = codec.readConnect(packet).pid();
 * }</pre>
 *
 * @param auth   what the client sends its namespace's middleware, or {@code null}
 * @param pid    the private token of the session to recover, or {@code null}
 * @param offset the last event offset received in that session, or {@code null}
 */
public record ConnectRequest(RawJson auth, String pid, String offset) {
}
