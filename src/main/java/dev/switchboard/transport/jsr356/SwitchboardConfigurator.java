package dev.switchboard.transport.jsr356;

import dev.switchboard.outbound.FrameWriter;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.DirectText;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.Inbox;
import jakarta.websocket.Extension;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.util.List;
import java.util.Map;

/**
 * Captures each upgrade request for the endpoint and hands the container endpoints bound to the
 * registered server. The per-connection copy of the user properties that the container passes
 * here (Jakarta WebSocket 2.1 and later) is what the endpoint's {@code onOpen} receives.
 *
 * <p>It turns down permessage-deflate, which every browser offers and Tomcat and Jetty accept by
 * default: events are small JSON, and the compressor keeps about 300 KB of memory per connection
 * (zlib's window and state) for the life of the connection.
 */
public class SwitchboardConfigurator extends ServerEndpointConfig.Configurator {
    static final String UPGRADE_REQUEST = "dev.switchboard.upgradeRequest";
    /** Set by an HTTP layer in front of the container for the handshake it passes on; see {@link #client}. */
    private static final ThreadLocal<Forwarding.Client> CLIENT = new ThreadLocal<>();
    /** Likewise; see {@link #connectionAccess}. */
    private static final ThreadLocal<ConnectionAccess> CONNECTION_ACCESS = new ThreadLocal<>();

    /**
     * The server of the deployment that made this configurator (containers make one per deployed
     * endpoint), or {@code null} to use the registered one: a servlet container deploys the
     * endpoint before the application's listener has built its server.
     */
    private final Switchboard deployedFor;

    /** For the annotated endpoint: bound to the deployment under way on this thread, if any. */
    public SwitchboardConfigurator() {
        this(SwitchboardRegistry.deploying());
    }

    /** For an endpoint deployed by hand for {@code server}. */
    SwitchboardConfigurator(Switchboard deployedFor) {
        this.deployedFor = deployedFor;
    }

    /**
     * What the endpoint needs from the upgrade request.
     *
     * @param client          the client as the HTTP layer saw it (behind trusted proxies, the one they name),
     *                        {@code null} if it did not say
     * @param access          what the HTTP layer can do on the connection itself, {@code null} if nothing
     */
    record UpgradeRequest(java.net.URI uri, Map<String, List<String>> headers, Map<String, List<String>> query,
                          Forwarding.Client client, ConnectionAccess access) {
    }

    /**
     * What an HTTP layer in front of the container can do on an upgraded connection itself, past
     * the container's JSR 356 session.
     *
     * @param abort       drops the connection at once, without a close handshake
     * @param frameWriter writes frames already framed, {@code null} if it cannot (see {@link FrameWriter})
     * @param inbox       where the endpoint handles the client's input, {@code null} for the thread the container calls it on
     * @param directText  whole text messages read past the container, {@code null} if it reads none
     */
    public record ConnectionAccess(Runnable abort, FrameWriter frameWriter, Inbox inbox, DirectText directText) {
    }

    /**
     * Tells the handshake that this thread is about to run who the client is: its address, and
     * the scheme and host it used, as {@link Forwarding} resolved them; {@code null} clears it.
     * For an HTTP layer that sees the request before the container upgrades it on the same thread
     * (a servlet filter, the standalone server's guard): JSR 356 has no API for the address,
     * Tomcat offers it no other way, and none knows about proxies.
     */
    public static void client(Forwarding.Client client) {
        if (client == null) {
            CLIENT.remove();
        } else {
            CLIENT.set(client);
        }
    }

    /**
     * Tells the handshake that this thread is about to run what can be done on its connection past
     * the container; {@code null} clears it. For an HTTP layer in front of the container that can
     * (the standalone server's Grizzly): drop the connection at once, since a close waits until the
     * peer has taken what was sent before the close frame, which a peer that stopped reading never
     * does, and Tyrus then keeps the connection and its buffers for as long as the peer stays; and
     * write broadcast frames framed once, rather than have the container encode and frame the same
     * message again for every recipient; and handle the client's input on a thread other than the
     * one that read it ({@link Inbox}).
     */
    public static void connectionAccess(ConnectionAccess access) {
        if (access == null) {
            CONNECTION_ACCESS.remove();
        } else {
            CONNECTION_ACCESS.set(access);
        }
    }

    @Override
    public void modifyHandshake(ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
        config.getUserProperties().put(UPGRADE_REQUEST, new UpgradeRequest(request.getRequestURI(),
                request.getHeaders(), request.getParameterMap(), CLIENT.get(), CONNECTION_ACCESS.get()));
        // Taken by this handshake: the thread must not keep the connection until its next request.
        CONNECTION_ACCESS.remove();
        CLIENT.remove();
    }

    @Override
    public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
        return List.of();
    }

    @Override
    public <T> T getEndpointInstance(Class<T> endpointClass) throws InstantiationException {
        if (endpointClass != SwitchboardEndpoint.class && endpointClass != SocketIoEndpoint.Programmatic.class) {
            return super.getEndpointInstance(endpointClass);
        }
        try {
            Switchboard server = deployedFor != null ? deployedFor : SwitchboardRegistry.require();
            return endpointClass.cast(endpointClass == SocketIoEndpoint.Programmatic.class
                    ? new SocketIoEndpoint.Programmatic(new SocketIoEndpoint(server)) : new SwitchboardEndpoint(server));
        } catch (IllegalStateException e) {
            throw (InstantiationException) new InstantiationException(e.getMessage()).initCause(e);
        }
    }
}
