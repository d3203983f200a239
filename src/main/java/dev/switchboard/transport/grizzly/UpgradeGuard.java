package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
import java.io.IOException;
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
 * Checks WebSocket upgrade requests before Tyrus sees them: a foreign Origin gets 403 (JSR 356's
 * {@code checkOrigin} is not shown the Host the request went to), a request without a key 400
 * (Tyrus would answer 500), an unsupported version 426 naming version 13. Registered before
 * Tyrus's add-on, so its filter runs first.
 */
final class UpgradeGuard implements AddOn {
    private final Switchboard switchboard;

    UpgradeGuard(Switchboard switchboard) {
        this.switchboard = switchboard;
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(HttpServerFilter.class), new Filter());
    }

    private final class Filter extends BaseFilter {
        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            if (!(ctx.getMessage() instanceof HttpContent content)
                    || !(content.getHttpHeader() instanceof HttpRequestPacket request)
                    || !"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
                return ctx.getInvokeAction();
            }
            if (request.getHeader("Sec-WebSocket-Key") == null) {
                return refuse(ctx, request, 400, "Bad Request", null);
            }
            if (!"13".equals(request.getHeader("Sec-WebSocket-Version"))) {
                return refuse(ctx, request, 426, "Upgrade Required", "13");
            }
            if (!switchboard.originPolicy().allows(request.getHeader("Origin"), request.getHeader("Host"))) {
                switchboard.metrics().countRejectedOrigin();
                return refuse(ctx, request, 403, "Forbidden", null);
            }
            return ctx.getInvokeAction();
        }

        private NextAction refuse(FilterChainContext ctx, HttpRequestPacket request, int status, String phrase,
                                  String supportedVersion) {
            HttpResponsePacket response = request.getResponse();
            response.setStatus(status);
            response.setReasonPhrase(phrase);
            response.setContentLength(0);
            response.getHeaders().setValue("Connection").setString("close");
            if (supportedVersion != null) {
                response.getHeaders().setValue("Sec-WebSocket-Version").setString(supportedVersion);
            }
            ctx.write(HttpContent.builder(response).last(true).build());
            ctx.flush(null);
            ctx.getConnection().closeSilently();
            return ctx.getStopAction();
        }
    }
}
