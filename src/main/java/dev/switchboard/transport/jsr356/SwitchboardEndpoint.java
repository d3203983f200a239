package dev.switchboard.transport.jsr356;

import dev.switchboard.server.Connection;
import dev.switchboard.server.Handshake;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.MessageAssembler;
import jakarta.websocket.CloseReason;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;

/**
 * The WebSocket endpoint at {@code /switchboard}. The container makes one instance per
 * connection; each feeds its connection's messages to the {@link Switchboard} found in
 * {@link SwitchboardRegistry}.
 *
 * <p>Messages are taken in parts and joined by a {@link MessageAssembler}, so the container's
 * read buffers stay small while the server's own size limit applies.
 *
 * <p>Threads: the container calls these methods for one connection one at a time.
 */
@ServerEndpoint(value = SwitchboardEndpoint.PATH, configurator = SwitchboardConfigurator.class)
public class SwitchboardEndpoint {
    /** The endpoint path under the application's context path. */
    public static final String PATH = "/switchboard";

    private static final String REMOTE_ADDRESS_PROPERTY = "jakarta.websocket.endpoint.remoteAddress";

    private final Switchboard switchboard;
    private final MessageAssembler assembler;
    private Connection connection;

    /** For containers that create endpoints without the configurator. */
    public SwitchboardEndpoint() {
        this(SwitchboardRegistry.require());
    }

    SwitchboardEndpoint(Switchboard switchboard) {
        this.switchboard = switchboard;
        this.assembler = new MessageAssembler(switchboard.options().maxPayloadBytes());
    }

    @OnOpen
    public void onOpen(Session session, EndpointConfig config) throws IOException {
        Object captured = config.getUserProperties().get(SwitchboardConfigurator.UPGRADE_REQUEST);
        SwitchboardConfigurator.UpgradeRequest request = captured instanceof SwitchboardConfigurator.UpgradeRequest r
                ? r : new SwitchboardConfigurator.UpgradeRequest(session.getRequestURI(), Map.of(), session.getRequestParameterMap());
        Handshake handshake = new Handshake(request.uri() == null ? URI.create(PATH) : request.uri(), request.headers(),
                request.query(), remoteAddress(session), Instant.now(switchboard.options().clock()), null);
        // The HTTP layer answers a foreign Origin with 403 before the upgrade; this is the last line.
        if (!switchboard.originPolicy().allows(handshake.header("Origin"), handshake.header("Host"))) {
            switchboard.metrics().countRejectedOrigin();
            session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "origin not allowed"));
            return;
        }
        session.setMaxIdleTimeout(0);
        connection = switchboard.open(new SessionTransport(session), handshake);
        if (connection == null) {
            session.close(switchboard.accepting()
                    ? new CloseReason(CloseReason.CloseCodes.TRY_AGAIN_LATER, "too many connections")
                    : new CloseReason(CloseReason.CloseCodes.GOING_AWAY, "server shutting down"));
        }
    }

    @OnMessage
    public void onText(String part, boolean last) {
        if (connection == null) {
            return;
        }
        try {
            String message = assembler.append(part, last);
            if (message != null) {
                connection.onText(message);
            }
        } catch (MessageAssembler.MessageTooBigException e) {
            connection.onMessageTooBig();
        }
    }

    @OnMessage
    public void onBinary(ByteBuffer part, boolean last) {
        if (connection != null && last) {
            connection.onBinary();
        }
    }

    @OnClose
    public void onClose(Session session, CloseReason reason) {
        if (connection != null) {
            connection.onTransportClosed(reason.getCloseCode().getCode());
        }
    }

    @OnError
    public void onError(Session session, Throwable error) {
        if (connection != null) {
            connection.onTransportError(error);
        }
    }

    /**
     * The client's IP address. JSR 356 has no API for it: Tomcat and Jetty put it in the user
     * properties, Tyrus on its session.
     */
    private static String remoteAddress(Session session) {
        Object address = session.getUserProperties().get(REMOTE_ADDRESS_PROPERTY);
        if (address == null) {
            try {
                address = session.getClass().getMethod("getRemoteAddr").invoke(session);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
        if (address instanceof InetSocketAddress socketAddress && socketAddress.getAddress() != null) {
            return socketAddress.getAddress().getHostAddress();
        }
        return address == null ? null : address.toString();
    }

}
