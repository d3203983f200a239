package dev.switchboard.transport.jsr356;

import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.util.concurrent.CompletableFuture;

/**
 * The Socket.IO endpoint at {@code /socket.io/}: Engine.IO v4 over WebSocket, for the official
 * Socket.IO clients, served by the same {@link Switchboard} as {@link SwitchboardEndpoint}, with
 * the same namespaces, rooms and sessions. A client that connects here directly ({@code
 * transports: ["websocket"]}) gets a connection of its own; one that carries the {@code sid} of a
 * long-polling session upgrades that session ({@code 2probe}, {@code 3probe}, {@code 5}). It is
 * deployed as {@link SwitchboardEndpoint} is: found by the container's annotation scanning in a
 * WAR, registered by the standalone server.
 *
 * <pre>{@code
 * const socket = io("http://localhost:8080/chat", { auth: { name: "Maciel" } });
 * }</pre>
 *
 * <p>Threads: as {@link SwitchboardEndpoint}.
 */
@ServerEndpoint(value = SocketIoEndpoint.PATH, configurator = SwitchboardConfigurator.class)
public class SocketIoEndpoint extends SwitchboardEndpoint {
    /** The endpoint path under the application's context path, as the Socket.IO clients default to. */
    public static final String PATH = "/socket.io/";

    private static final String PROBE = "2probe";
    private static final String PROBE_ANSWER = "3probe";
    private static final String UPGRADE = "5";

    private final EngineIo engine;
    /** The polling session this WebSocket takes over, until it has; read and written on the reading thread. */
    private EngineIo.Upgrade upgrade;
    private SessionTransport upgradeTransport;
    /** Completes once {@code 3probe} is written: the WebSocket carries one send at a time. */
    private CompletableFuture<Void> probeAnswered = CompletableFuture.completedFuture(null);

    /** For containers that create endpoints without the configurator. */
    public SocketIoEndpoint() {
        this(SwitchboardRegistry.require());
    }

    SocketIoEndpoint(Switchboard switchboard) {
        super(switchboard);
        this.engine = EngineIo.of(switchboard);
    }

    @Override
    boolean open(Session session, SessionTransport opened, Handshake handshake) {
        String refusal = EngineIo.refusal(handshake);
        if (refusal != null || !"websocket".equals(handshake.query("transport"))) {
            refuse(session, new CloseReason(CloseReason.CloseCodes.PROTOCOL_ERROR,
                    refusal != null ? refusal : "Transport unknown"));
            return false;
        }
        String sid = handshake.query("sid");
        if (sid == null) {
            return super.open(session, opened, handshake);
        }
        upgrade = engine.upgrading(sid);
        if (upgrade == null) {
            refuse(session, new CloseReason(CloseReason.CloseCodes.PROTOCOL_ERROR, "Session ID unknown"));
            return false;
        }
        upgradeTransport = opened;
        return true;
    }

    @Override
    Codec codec() {
        return engine.codec();
    }

    /**
     * Engine.IO's own packets: noop is nothing, close ends the connection as the client leaving
     * (1000), and while upgrading only the probe and the upgrade are expected.
     */
    @Override
    boolean handledByTransport(Session session, String message) {
        if (upgrade != null) {
            continueUpgrade(session, message);
            return true;
        }
        if (SocketIoCodec.isEngineNoop(message)) {
            return true;
        }
        if (SocketIoCodec.isEngineClose(message)) {
            refuse(session, new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "client close"));
            return true;
        }
        return false;
    }

    private void continueUpgrade(Session session, String message) {
        if (PROBE.equals(message)) {
            CompletableFuture<Void> answered = new CompletableFuture<>();
            probeAnswered = answered;
            upgradeTransport.send(PROBE_ANSWER, error -> answered.complete(null));
            upgrade.probed();
        } else if (UPGRADE.equals(message)) {
            EngineIo.Upgrade completing = upgrade;
            SessionTransport webSocket = upgradeTransport;
            upgrade = null;
            carry(completing.connection());
            probeAnswered.thenRun(() -> completing.complete(webSocket));
        } else {
            refuse(session, new CloseReason(CloseReason.CloseCodes.PROTOCOL_ERROR, "expected 2probe or 5"));
        }
    }
}
