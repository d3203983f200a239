package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.ReadHandler;
import org.glassfish.grizzly.http.io.NIOReader;
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
        // The body is read as it arrives, not by a blocking read: a POST whose body trickles in or
        // never comes would hold one of Grizzly's few worker threads, which read every request and
        // upgrade and run the WebSockets' listeners, until the idle timeout drops its connection.
        // Taking the reader also keeps Grizzly from reading a form-encoded body for the parameters.
        int limit = switchboard.options().maxPayloadBytes();
        // UTF-8 whatever the Content-Type says, as the reference server and the servlet read it:
        // Grizzly would take a body without a charset (text/plain alone, or no type) for ISO-8859-1.
        request.setCharacterEncoding("UTF-8");
        NIOReader reader = request.getNIOReader();
        StringBuilder body = new StringBuilder();
        reader.notifyAvailable(new ReadHandler() {
            private final char[] chunk = new char[8192];

            @Override
            public void onDataAvailable() throws Exception {
                if (readReady()) {
                    reader.notifyAvailable(this);
                }
            }

            @Override
            public void onAllDataRead() throws Exception {
                if (readReady()) {
                    dispatch(request, response, body.toString());
                }
            }

            @Override
            public void onError(Throwable failure) {
                // The client went away mid-body, or the idle timeout dropped it: nothing to answer.
                response.resume();
            }

            /** Reads what has arrived; false once the body is past the limit, when the request has been dispatched as too large. */
            private boolean readReady() throws IOException {
                while (reader.isReady() && body.length() <= limit) {
                    int read = reader.read(chunk);
                    if (read < 0) {
                        break;
                    }
                    body.append(chunk, 0, read);
                }
                if (body.length() > limit) {
                    dispatch(request, response, null);
                    return false;
                }
                return true;
            }
        });
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
        // Who the client is, as the WebSocket upgrade guard resolves it: behind a trusted proxy or balancer, not the proxy.
        String proxied = ProxyProtocol.clientAddress(request.getContext().getConnection());
        Forwarding.Client client = Forwarding.resolve(proxied != null ? proxied : request.getRemoteAddr(), request.isSecure(),
                request.getHeader("Host"), name -> UpgradeGuard.headerValues(request.getRequest(), name),
                switchboard.options().trustedProxies());
        Connection<?> connection = request.getContext().getConnection();
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
