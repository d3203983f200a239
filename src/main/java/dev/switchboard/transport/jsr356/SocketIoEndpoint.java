package dev.switchboard.transport.jsr356;

import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Switchboard;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.io.IOException;
import java.util.List;

/**
 * The Socket.IO endpoint at {@code /socket.io/}: Engine.IO v4 over WebSocket, for the official
 * Socket.IO clients ({@code io(url, { transports: ["websocket"] })}), served by the same
 * {@link Switchboard} as {@link SwitchboardEndpoint}, with the same namespaces, rooms and sessions.
 * It is deployed as that one is: found by the container's annotation scanning in a WAR,
 * registered by the standalone server.
 *
 * <pre>{@code
 * const socket = io("http://localhost:8080/chat", { transports: ["websocket"], auth: { name: "Maciel" } });
 * }</pre>
 *
 * <p>Threads: as {@link SwitchboardEndpoint}.
 */
@ServerEndpoint(value = SocketIoEndpoint.PATH, configurator = SwitchboardConfigurator.class)
public class SocketIoEndpoint extends SwitchboardEndpoint {
    /** The endpoint path under the application's context path, as the Socket.IO clients default to. */
    public static final String PATH = "/socket.io/";

    private final Codec codec;

    /** For containers that create endpoints without the configurator. */
    public SocketIoEndpoint() {
        this(SwitchboardRegistry.require());
    }

    SocketIoEndpoint(Switchboard switchboard) {
        super(switchboard);
        // Over WebSocket from the start, there is nothing to upgrade to.
        this.codec = new SocketIoCodec(switchboard.options().recoveryEnabled(), List.of());
    }

    /** Engine.IO v4 only, as the reference server (which answers other versions with an error). */
    @Override
    CloseReason refusal(Handshake handshake) {
        if (!String.valueOf(SocketIoCodec.ENGINE_IO_VERSION).equals(handshake.query("EIO"))) {
            return new CloseReason(CloseReason.CloseCodes.PROTOCOL_ERROR, "Unsupported protocol version");
        }
        return null;
    }

    @Override
    Codec codec() {
        return codec;
    }

    /** Engine.IO's noop is nothing; its close ends the connection as the client leaving (1000). */
    @Override
    boolean handledByTransport(Session session, String message) {
        if (SocketIoCodec.isEngineNoop(message)) {
            return true;
        }
        if (SocketIoCodec.isEngineClose(message)) {
            try {
                session.close(new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "client close"));
            } catch (IOException e) {
                // Gone already: the container reports the close either way.
            }
            return true;
        }
        return false;
    }
}
