package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.http.server.HttpHandler;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;

/**
 * Engine.IO's HTTP long-polling at {@code /socket.io/} on the standalone server: each request is
 * suspended and handed to {@link EngineIo}, which answers it now or, for a GET waiting for
 * packets, later from another thread.
 */
final class EngineIoHttpHandler extends HttpHandler {
    private final Switchboard switchboard;
    private final EngineIo engine;
    private final PendingConnections pending;

    EngineIoHttpHandler(Switchboard switchboard, PendingConnections pending) {
        this.switchboard = switchboard;
        this.engine = EngineIo.of(switchboard);
        this.pending = pending;
    }

    @Override
    public void service(Request request, Response response) throws IOException {
        response.suspend();
        if (!"POST".equals(request.getMethod().getMethodString())) {
            dispatch(request, response, null);
            return;
        }
        // maxPayload counts a body's bytes, as the reference server's maxHttpBufferSize does. The
        // text is UTF-8 whatever the Content-Type says, as the reference server reads it.
        int limit = switchboard.options().maxPayloadBytes();
        RequestBody.read(request, response, limit,
                body -> dispatch(request, response, body.length > limit ? null : new String(body, StandardCharsets.UTF_8)));
    }

    /** Hands a request, whose POST body is read ({@code null} when too large), to Engine.IO. */
    private void dispatch(Request request, Response response, String body) {
        String method = request.getMethod().getMethodString();
        Map<String, List<String>> headers = new HashMap<>();
        for (String name : request.getHeaderNames()) {
            List<String> values = new ArrayList<>();
            request.getHeaders(name).forEach(values::add);
            headers.put(name, values);
        }
        String uri = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        Connection<?> connection = request.getContext().getConnection();
        // Who the client is, as the WebSocket upgrade guard resolves it: behind a trusted proxy or balancer, not the proxy.
        Forwarding.Client client = ProxyProtocol.client(connection, request.getRequest(), switchboard.options().trustedProxies());
        engine.handle(new PollRequest(method, engine.handshake(uri, headers, request.getParameterMap(), client.address()),
                client, body) {
            /** Whether the connection left the pending bound for this request; written before it is handled. */
            private volatile boolean settled;

            @Override
            protected void held() {
                // A GET waits up to pingInterval, a POST for its listeners, where the pending table could not evict it.
                settled = true;
                pending.settled(connection);
            }

            @Override
            protected void answer(int status, String contentType, String text) {
                try {
                    response.setStatus(status);
                    response.setContentType(contentType);
                    response.setCharacterEncoding("UTF-8");
                    response.getWriter().write(text);
                } catch (IOException e) {
                    // The client went away; the session's heartbeat ends it.
                } finally {
                    if (settled) {
                        // Idle between polls it is timed and counted again, like any keep-alive connection;
                        // before the answer goes out, so that it cannot undo the settling of the next GET.
                        pending.rejoin(connection);
                    }
                    response.resume();
                }
            }
        });
    }
}
