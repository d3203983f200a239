package dev.switchboard.transport.jsr356;

import dev.switchboard.server.Connection;
import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.DirectText;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.Inbox;
import dev.switchboard.transport.MessageAssembler;
import dev.switchboard.transport.jetty.JettyCoreSend;
import dev.switchboard.transport.tomcat.TomcatSocketWrite;
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
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The WebSocket endpoint at {@code /switchboard}. The container makes one instance per
 * connection; each feeds its connection's messages to the {@link Switchboard} found in
 * {@link SwitchboardRegistry}.
 *
 * <p>Servlet containers deploy it by themselves: Tomcat and Jetty (whose WebSocket module brings
 * annotation scanning) find the annotated class in the WAR. Nothing should add it again: Tomcat
 * fails the whole WebSocket deployment of an application when a path is added twice. Only where
 * scanning is off does the application add it, once; the standalone server registers it with Tyrus.
 *
 * <pre>{@code
 * SwitchboardRegistry.register(server);                       // always, at startup
 * serverContainer.addEndpoint(SwitchboardEndpoint.class);     // only where scanning is off
 * }</pre>
 *
 * <p>Messages are taken in parts and joined by a {@link MessageAssembler}, so the container's
 * read buffers stay small while the server's own size limit applies.
 *
 * <p>Threads: the container calls these methods for one connection one at a time, and each hands
 * its work to the connection's {@link Inbox}, which runs it in the order it came (at once on
 * servlet containers; on a worker of the standalone server). {@code transport} and {@code inbox}
 * are set by {@link #onOpen} and read by the calling thread; everything else is the inbox's. Whole
 * text messages read past the container ({@link DirectText}) come on the reading thread, which may
 * run beside the container's own report of a close (a deadline's abort): a message queued behind
 * the close is then ignored, since the connection has ended.
 */
@ServerEndpoint(value = SwitchboardEndpoint.PATH, configurator = SwitchboardConfigurator.class)
public class SwitchboardEndpoint {
    /** The endpoint path under the application's context path. */
    public static final String PATH = "/switchboard";

    private static final String REMOTE_ADDRESS_PROPERTY = "jakarta.websocket.endpoint.remoteAddress";
    /**
     * Tomcat's limit on blocking sends (its default is 20 s). Tomcat answers a client's close frame
     * (and a ping) with one on its request thread, and that send first waits for the send of ours in
     * flight, which a client that stopped reading never completes; so it is short. Our own close
     * frame goes that way too, but only once no send of ours is in flight (see OutboundQueue).
     */
    private static final String TOMCAT_BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    private static final long BLOCKING_SEND_TIMEOUT_MILLIS = 100;
    /**
     * How long Tomcat waits for the peer's close frame after sending ours before it drops the
     * connection (its default is 30 s); Tyrus and Jetty drop it at once.
     */
    private static final String TOMCAT_SESSION_CLOSE_TIMEOUT = "org.apache.tomcat.websocket.SESSION_CLOSE_TIMEOUT";
    private static final long SESSION_CLOSE_TIMEOUT_MILLIS = 5_000;

    private final Switchboard switchboard;
    private final MessageAssembler assembler;
    private Connection connection;
    private SessionTransport transport;
    private Inbox inbox = Inbox.INLINE;

    /** For containers that create endpoints without the configurator. */
    public SwitchboardEndpoint() {
        this(SwitchboardRegistry.require());
    }

    SwitchboardEndpoint(Switchboard switchboard) {
        this.switchboard = switchboard;
        this.assembler = new MessageAssembler(switchboard.options().maxPayloadBytes());
    }

    /**
     * Waits for connections still being closed in the background, for their close deadlines to
     * run, and for the threads of both to end. For a web application stopping, after
     * {@link Switchboard#close()}: servlet containers report threads that outlive the application
     * as leaks, and such a thread would keep the application's classes loaded.
     *
     * @return whether all ended within {@code timeout}
     */
    public static boolean awaitClosing(Duration timeout) {
        return SessionTransport.awaitClosers(timeout);
    }

    @OnOpen
    public void onOpen(Session session, EndpointConfig config) {
        // Removed, not read: the request would otherwise live as long as the connection, next to
        // the Handshake that keeps what the application may ask for.
        Object captured = config.getUserProperties().remove(SwitchboardConfigurator.UPGRADE_REQUEST);
        SwitchboardConfigurator.UpgradeRequest request = captured instanceof SwitchboardConfigurator.UpgradeRequest r
                ? r : new SwitchboardConfigurator.UpgradeRequest(session.getRequestURI(), Map.of(),
                        session.getRequestParameterMap(), null, null);
        Forwarding.Client client = request.client();
        Handshake handshake = new Handshake(request.uri() == null ? URI.create(PATH) : request.uri(), request.headers(),
                request.query(), client != null ? client.address() : remoteAddress(session),
                Instant.now(switchboard.options().clock()), null);
        if (client == null) {
            client = new Forwarding.Client(handshake.remoteAddress(), session.isSecure(), handshake.header("Host"));
        }
        // The HTTP layer answers a foreign Origin with 403 before the upgrade; this is the last line.
        if (!switchboard.originPolicy().allows(handshake.header("Origin"), client.host(), client.secure())) {
            switchboard.metrics().countRejectedOrigin();
            refuse(session, new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "origin not allowed"));
            return;
        }
        // The heartbeat, not the container's idle timer, decides when a connection is dead. A
        // container whose default never falls due (the standalone server's, TyrusContainer.NEVER)
        // keeps it: on Tyrus, 0 costs a thread woken per message.
        if (session.getMaxIdleTimeout() != Long.MAX_VALUE) {
            session.setMaxIdleTimeout(0);
        }
        JettyCoreSend direct = JettyCoreSend.of(session);
        TomcatSocketWrite tomcatWrite = direct == null && request.access() == null ? TomcatSocketWrite.of(session) : null;
        // A backstop for the container's resources: the heartbeat ends a connection whose peer
        // stopped reading within pingInterval + pingTimeout; a send stuck longer fails the connection.
        // Not on Jetty, where the timeout costs a timer entry per send and the connection is
        // dropped instead once a close does not complete (see SessionTransport.close), nor on
        // Tomcat (see isTomcat).
        if (direct == null && !isTomcat(session)) {
            session.getAsyncRemote().setSendTimeout(
                    switchboard.options().pingInterval().plus(switchboard.options().pingTimeout()).toMillis());
        }
        session.getUserProperties().put(TOMCAT_BLOCKING_SEND_TIMEOUT, BLOCKING_SEND_TIMEOUT_MILLIS);
        session.getUserProperties().put(TOMCAT_SESSION_CLOSE_TIMEOUT, SESSION_CLOSE_TIMEOUT_MILLIS);
        SessionTransport opened = new SessionTransport(session, request.access(), direct, tomcatWrite);
        if (open(session, opened, handshake)) {
            transport = opened;
            inbox = opened.inbox();
            if (request.access() != null && request.access().directText() != null) {
                // As the container would: nothing once it has closed the session (a protocol error).
                request.access().directText().deliverTo(message -> {
                    if (session.isOpen()) {
                        onText(message, true, session);
                    }
                }, () -> inbox.submit(0, () -> tooBig(session)));
            }
        }
    }

    /**
     * Opens the server's connection over {@code opened}, or refuses the session.
     *
     * @return whether the session is served; false when it was refused (and closed)
     */
    boolean open(Session session, SessionTransport opened, Handshake handshake) {
        connection = switchboard.open(opened, handshake, codec());
        if (connection == null) {
            refuse(session, refusal(switchboard));
            return false;
        }
        return true;
    }

    /**
     * Why the server refused a session that the container had already upgraded. An upgrade that
     * raced a drain is told 1012 like the clients being drained, so that it too reconnects to
     * another node rather than reading 1001 as the end of the service.
     */
    private static CloseReason refusal(Switchboard switchboard) {
        if (switchboard.accepting()) {
            return new CloseReason(CloseReason.CloseCodes.TRY_AGAIN_LATER,
                    switchboard.available() ? "too many connections" : "cluster unavailable");
        }
        DisconnectReason reason = switchboard.draining() ? DisconnectReason.SERVER_RESTARTING
                : DisconnectReason.SERVER_SHUTTING_DOWN;
        return new CloseReason(CloseReason.CloseCodes.getCloseCode(reason.closeCode()), reason.text());
    }

    /** Lets a session served without a connection of its own yet carry {@code carried} from now on. */
    void carry(Connection carried) {
        connection = carried;
    }

    /**
     * The client closed the transport within its own protocol (Engine.IO's close packet), which
     * is not leaving: a transport close that recovery covers, as a dropped WebSocket is, whatever
     * code the container reports once the WebSocket closes.
     */
    void transportClosedByClient(Session session) {
        if (connection != null) {
            connection.onClientTransportClose();
        } else {
            refuse(session, new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "transport close"));
        }
    }

    /** The wire format of this endpoint: the server's own by default. */
    Codec codec() {
        return switchboard.options().codec();
    }

    /** Whether the transport handles {@code message} itself rather than pass it to the connection; none by default. */
    boolean handledByTransport(Session session, String message) {
        return false;
    }

    /**
     * Tomcat needs no send timeout, and pays for one on every send: it enters the session in a
     * skip list ordered by deadline for each message and takes it out when the message is written.
     * It drops a connection itself when our close frame cannot be written within the blocking send
     * timeout (above), which is how a stalled reader's connection ends there: evicted as a slow
     * consumer or by the heartbeat, then closed.
     */
    private static boolean isTomcat(Session session) {
        return session.getClass().getName().startsWith("org.apache.tomcat.");
    }

    static void refuse(Session session, CloseReason reason) {
        try {
            session.close(reason);
        } catch (IOException e) {
            // The connection is gone already, which is all refusing it wanted.
        }
    }

    /** Messages arrive in parts, joined here: see the class comment. */
    @OnMessage
    public void onText(String part, boolean last, Session session) {
        if (transport == null) {
            return;
        }
        transport.inputArrived();
        inbox.submit(part.length(), () -> text(part, last, session));
    }

    private void text(String part, boolean last, Session session) {
        try {
            String message = assembler.append(part, last);
            if (message != null && !handledByTransport(session, message) && connection != null) {
                connection.onText(message, assembler.lastTextBytes());
            }
        } catch (MessageAssembler.MessageTooBigException e) {
            tooBig(session);
        }
    }

    /** Binary messages are the attachments of binary packets, joined as text messages are. */
    @OnMessage
    public void onBinary(ByteBuffer part, boolean last, Session session) {
        if (transport == null) {
            return;
        }
        transport.inputArrived();
        // The container may reuse its buffer once this returns.
        ByteBuffer copy = ByteBuffer.allocate(part.remaining()).put(part).flip();
        inbox.submit(copy.remaining(), () -> binary(copy, last, session));
    }

    private void binary(ByteBuffer part, boolean last, Session session) {
        try {
            byte[] message = assembler.appendBinary(part, last);
            if (message != null && connection != null) {
                connection.onBinary(message);
            }
        } catch (MessageAssembler.MessageTooBigException e) {
            tooBig(session);
        }
    }

    private void tooBig(Session session) {
        if (connection != null) {
            connection.onMessageTooBig();
        } else {
            refuse(session, new CloseReason(CloseReason.CloseCodes.TOO_BIG, "message too big"));
        }
    }

    @OnClose
    public void onClose(Session session, CloseReason reason) {
        // After the input before it: the client's last messages still count.
        inbox.submit(0, () -> closed(reason));
    }

    private void closed(CloseReason reason) {
        if (transport != null) {
            transport.closed();
        }
        if (connection != null) {
            connection.onTransportClosed(reason.getCloseCode().getCode());
        }
        if (transport != null) {
            // After the close is reported, so that it, not this failure, says why the client left.
            transport.writesEnded();
        }
        ended();
    }

    /** The session ended, after its last input; nothing more by default. */
    void ended() {
    }

    /**
     * An error while the session is open ends the connection. One while it closes is part of
     * the close, which the container reports next (Tomcat: its answer to the client's close frame
     * timed out behind a send of ours): the close, not the error, says why the client left.
     */
    @OnError
    public void onError(Session session, Throwable error) {
        boolean open = session.isOpen();
        inbox.submit(0, () -> {
            if (connection != null && open) {
                connection.onTransportError(error);
            }
        });
    }

    /**
     * The client's IP address as the container reports it. JSR 356 has no API for it: Jetty puts
     * it in the user properties, Tyrus on its session; Tomcat has none (the servlet filter passes
     * it, see {@link SwitchboardConfigurator#client}).
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
