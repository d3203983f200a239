package dev.switchboard.protocol;

import java.util.List;

/**
 * The server's first packet on a connection: the protocol version, the connection id and the
 * limits the client must keep to (docs/PROTOCOL.md, "Packets").
 *
 * <pre>{@code
 * Packet packet = codec.hello(new Hello(codec.version(), "Yc1", 25_000, 20_000, 1_048_576, 100, 200, List.of()));
 * long interval = codec.readHello(packet).pingIntervalMillis();
 * }</pre>
 *
 * @param version            the protocol version the server speaks
 * @param sid                the connection id
 * @param pingIntervalMillis how often the server pings
 * @param pingTimeoutMillis  how long it waits for the pong
 * @param maxPayload         the largest frame it accepts, in bytes; 0 when unknown
 * @param eventsPerSecond    the sustained event rate it allows; 0 when unknown
 * @param eventBurst         the burst of events it allows above that rate; 0 when unknown
 * @param upgrades           the transports the client may move the connection to from the one it
 *                           opened on: {@code websocket} for a Socket.IO long-polling session,
 *                           none otherwise (a client offered one probes it)
 */
public record Hello(long version, String sid, long pingIntervalMillis, long pingTimeoutMillis, long maxPayload,
                    double eventsPerSecond, long eventBurst, List<String> upgrades) {
    public Hello {
        upgrades = List.copyOf(upgrades);
    }
}
