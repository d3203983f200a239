package dev.switchboard.transport.jsr356;

import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpointConfig;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The Socket.IO endpoint at {@link dev.switchboard.server.SwitchboardOptions#socketIoPath()}
 * ({@code /socket.io/} by default): Engine.IO v4 over WebSocket, for the official
 * Socket.IO clients, served by the same {@link Switchboard} as {@link SwitchboardEndpoint}, with
 * the same namespaces, rooms and sessions. A client that connects here directly ({@code
 * transports: ["websocket"]}) gets a connection of its own; one that carries the {@code sid} of a
 * long-polling session upgrades that session ({@code 2probe}, {@code 3probe}, {@code 5}). Its
 * path is an option, so it carries no {@code @ServerEndpoint} annotation: the standalone server
 * and {@code SwitchboardServletListener} add it with {@link #config}, as a {@link Programmatic}
 * endpoint that feeds it.
 *
 * <pre>{@code
 * serverContainer.addEndpoint(SocketIoEndpoint.config(server));
 * // in the browser: io("http://localhost:8080/chat", { auth: { name: "Maciel" } });
 * }</pre>
 *
 * <p>Threads: as {@link SwitchboardEndpoint}.
 */
public class SocketIoEndpoint extends SwitchboardEndpoint {

    private static final String PROBE = "2probe";
    private static final String PROBE_ANSWER = "3probe";
    private static final String UPGRADE = "5";

    private final EngineIo engine;
    /** The polling session this WebSocket takes over, until it has; read and written on the reading thread. */
    private EngineIo.Upgrade upgrade;
    private SessionTransport upgradeTransport;
    /** Completes once {@code 3probe} is written: the WebSocket carries one send at a time. */
    private CompletableFuture<Void> probeAnswered = CompletableFuture.completedFuture(null);

    SocketIoEndpoint(Switchboard switchboard) {
        super(switchboard);
        this.engine = EngineIo.of(switchboard);
    }

    /** The endpoint's deployment for {@code server}, at its {@code socketIoPath} under the application's context path. */
    public static ServerEndpointConfig config(Switchboard server) {
        return ServerEndpointConfig.Builder.create(Programmatic.class, server.options().socketIoPath())
                .configurator(new SwitchboardConfigurator(server)).build();
    }

    /**
     * The form JSR 356 deploys at a path known only at runtime: a programmatic endpoint that
     * hands each message part and the session's end to a {@link SocketIoEndpoint}.
     */
    public static final class Programmatic extends Endpoint {
        private final SocketIoEndpoint endpoint;

        Programmatic(SocketIoEndpoint endpoint) {
            this.endpoint = endpoint;
        }

        @Override
        public void onOpen(Session session, EndpointConfig config) {
            session.addMessageHandler(String.class, (MessageHandler.Partial<String>) (part, last) ->
                    endpoint.onText(part, last, session));
            session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) (part, last) ->
                    endpoint.onBinary(part, last, session));
            endpoint.onOpen(session, config);
        }

        @Override
        public void onClose(Session session, CloseReason reason) {
            endpoint.onClose(session, reason);
        }

        @Override
        public void onError(Session session, Throwable error) {
            endpoint.onError(session, error);
        }
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
        if (!upgrade.begin(opened)) {
            upgrade = null;
            refuse(session, new CloseReason(CloseReason.CloseCodes.PROTOCOL_ERROR, "upgrade under way"));
            return false;
        }
        upgradeTransport = opened;
        return true;
    }

    /** A probe that ended before it upgraded leaves its polling session to poll on. */
    @Override
    void ended() {
        if (upgrade != null) {
            upgrade.abandoned(upgradeTransport);
            upgrade = null;
        }
    }

    @Override
    Codec codec() {
        return engine.codec();
    }

    /**
     * Engine.IO's own packets: noop is nothing, close ends the connection as a transport close
     * (as over long-polling; a client that leaves says so with a DISCONNECT packet first), and
     * while upgrading only the probe and the upgrade are expected.
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
            transportClosedByClient(session);
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
