package dev.switchboard.protocol;

/**
 * The server's {@code connect}: the socket is open.
 *
 * <pre>{@code
 * Packet packet = codec.connected("/chat", new ConnectAnswer("EMwpbBapdFyw_Lu-BtSz", "I9_dOKAYODvGrtprdA_1", false));
 * }</pre>
 *
 * @param id        the socket's public id
 * @param pid       its private token for recovery
 * @param recovered whether the session of the request's {@code pid} was recovered
 */
public record ConnectAnswer(String id, String pid, boolean recovered) {
}
