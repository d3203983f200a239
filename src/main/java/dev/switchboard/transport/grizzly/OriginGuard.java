package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
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
import org.glassfish.grizzly.http.util.HttpStatus;
import java.io.IOException;

/**
 * Refuses WebSocket upgrades from a foreign Origin with 403 before Tyrus sees them. JSR 356's
 * {@code checkOrigin} cannot do this alone: it is not shown the Host the request was sent to.
 * Registered before Tyrus's add-on, so its filter runs first.
 */
final class OriginGuard implements AddOn {
    private final Switchboard switchboard;

    OriginGuard(Switchboard switchboard) {
        this.switchboard = switchboard;
    }

    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(HttpServerFilter.class), new Filter());
    }

    private final class Filter extends BaseFilter {
        @Override
        public NextAction handleRead(FilterChainContext ctx) throws IOException {
            if (ctx.getMessage() instanceof HttpContent content
                    && content.getHttpHeader() instanceof HttpRequestPacket request
                    && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"))
                    && !switchboard.originPolicy().allows(request.getHeader("Origin"), request.getHeader("Host"))) {
                switchboard.metrics().countRejectedOrigin();
                HttpResponsePacket response = request.getResponse();
                HttpStatus.FORBIDDEN_403.setValues(response);
                response.setContentLength(0);
                response.getHeaders().setValue("Connection").setString("close");
                ctx.write(HttpContent.builder(response).last(true).build());
                ctx.flush(null);
                ctx.getConnection().closeSilently();
                return ctx.getStopAction();
            }
            return ctx.getInvokeAction();
        }
    }
}
