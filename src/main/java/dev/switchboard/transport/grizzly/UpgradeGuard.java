package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.UpgradeCheck;
import dev.switchboard.transport.jsr356.SwitchboardConfigurator;
import dev.switchboard.transport.jsr356.SwitchboardEndpoint;
import java.io.IOException;
import java.util.function.Consumer;
import java.util.Set;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.GenericCloseListener;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.BaseFilter;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.http.HttpContent;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.HttpResponsePacket;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.HttpServerFilter;
import org.glassfish.grizzly.http.server.NetworkListener;

/**
 * Checks requests to the WebSocket endpoint, and upgrades anywhere, before Tyrus sees them, as
 * {@link UpgradeCheck} says: a plain request to the endpoint gets 426 (Grizzly would answer 404),
 * an upgrade without {@code Connection: Upgrade} or a key 400 (Tyrus would answer 500), another
 * version 426, a foreign Origin 403 (JSR 356's {@code checkOrigin} is not shown the Host the
 * request went to). Registered before Tyrus's add-on, so its filter runs first.
 */
final class UpgradeGuard implements AddOn {
    /** Set on a connection whose upgrade passed: its frames need no more checking. */
    private static final Attribute<Boolean> UPGRADED =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(UpgradeGuard.class.getName() + ".upgraded");

    private final Switchboard switchboard;
    /** The paths of the WebSocket endpoints; plain requests to Socket.IO's are its long-polling. */
    private final Set<String> endpointPaths;
    private final Consumer<Connection<?>> onUpgrade;

    /** @param onUpgrade told of each connection whose upgrade to the endpoint goes ahead */
    UpgradeGuard(Switchboard switchboard, Consumer<Connection<?>> onUpgrade) {
        this.switchboard = switchboard;
        this.onUpgrade = onUpgrade;
        this.endpointPaths = Set.of(SwitchboardEndpoint.PATH, switchboard.options().socketIoPath());
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(HttpServerFilter.class), new Filter());
    }

    private final class Filter extends BaseFilter {
        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            if (UPGRADED.isSet(ctx.getConnection())) {
                // Bytes after an upgrade request come up as its content, until Tyrus has answered
                // 101 and UpgradeRelease takes them past the codec (a refused handshake stays here).
                return ctx.getInvokeAction();
            }
            // Whatever an earlier request on this thread left for a handshake that never ran.
            SwitchboardConfigurator.connectionAccess(null);
            SwitchboardConfigurator.client(null);
            if (!(ctx.getMessage() instanceof HttpContent content)
                    || !(content.getHttpHeader() instanceof HttpRequestPacket request)
                    || (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))
                            && !SwitchboardEndpoint.PATH.equals(request.getRequestURI()))) {
                return ctx.getInvokeAction();
            }
            Forwarding.Client client = ProxyProtocol.client(ctx.getConnection(), request, switchboard.options().trustedProxies());
            UpgradeCheck.Refusal refusal = UpgradeCheck.check(request::getHeader, request.getQueryString(), client, switchboard);
            if (refusal == null) {
                // Tyrus upgrades on this thread, right after this filter: its handshake learns who
                // the client is, how to drop this connection should a close never complete, how
                // to write broadcast frames onto it framed once, where its input is handled once
                // its selector thread reads it (SplitReads), and how to take its whole text
                // messages past Tyrus (UpgradeRelease).
                if (endpointPaths.contains(request.getRequestURI())) {
                    SwitchboardConfigurator.client(client);
                    SwitchboardConfigurator.connectionAccess(new SwitchboardConfigurator.ConnectionAccess(
                            new Abort(ctx.getConnection()), new GrizzlyFrameWriter(ctx.getConnection()),
                            WorkerInbox.attach(ctx.getConnection()),
                            WholeTextFrames.attach(ctx.getConnection(), switchboard.options().maxPayloadBytes())));
                    UPGRADED.set(ctx.getConnection(), Boolean.TRUE);
                    onUpgrade.accept(ctx.getConnection());
                }
                return ctx.getInvokeAction();
            }
            if (refusal.status() == 403) {
                switchboard.metrics().countRejectedOrigin();
            }
            return refuse(ctx, request, refusal);
        }

        private NextAction refuse(FilterChainContext ctx, HttpRequestPacket request, UpgradeCheck.Refusal refusal) {
            HttpResponsePacket response = request.getResponse();
            response.setStatus(refusal.status());
            response.setReasonPhrase(refusal.phrase());
            response.setContentLength(0);
            response.getHeaders().setValue("Connection").setString("close");
            if (refusal.header() != null) {
                response.getHeaders().setValue(refusal.header()).setString(refusal.value());
            }
            ctx.write(HttpContent.builder(response).last(true).build());
            ctx.flush(null);
            ctx.getConnection().closeSilently();
            return ctx.getStopAction();
        }
    }

    /**
     * Drops a connection at once, if it is still open. It lets go of the connection when that
     * closes, so that a deadline waiting to run it holds no closed connection.
     */
    private static final class Abort implements Runnable {
        private volatile Connection<?> connection;

        Abort(Connection<?> connection) {
            this.connection = connection;
            connection.addCloseListener((GenericCloseListener) (closed, type) -> this.connection = null);
        }

        @Override
        public void run() {
            Connection<?> open = connection;
            if (open != null && open.isOpen()) {
                open.terminateSilently();
            }
        }
    }
}
