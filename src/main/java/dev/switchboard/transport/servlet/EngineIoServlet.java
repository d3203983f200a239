package dev.switchboard.transport.servlet;

import dev.switchboard.api.Handshake;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Engine.IO's HTTP long-polling at {@code <context path>/socket.io/} in a web application: each
 * request goes async and is handed to {@link EngineIo}, which answers it now or, for a GET waiting
 * for packets, later from another thread. WebSocket upgrades on that path never get here: the
 * container's upgrade filter hands them to the Socket.IO endpoint.
 */
final class EngineIoServlet extends HttpServlet {
    private final transient Switchboard switchboard;
    private final transient EngineIo engine;

    EngineIoServlet(Switchboard switchboard) {
        this.switchboard = switchboard;
        this.engine = EngineIo.of(switchboard);
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        AsyncContext async = request.startAsync();
        // The heartbeat answers a waiting GET within pingInterval; the container must not time it out first.
        async.setTimeout(0);
        if (!"POST".equals(request.getMethod())) {
            dispatch(request, async, null);
            return;
        }
        // The body is read as it arrives, not by a blocking read: a POST whose body trickles in or
        // never comes would hold a container thread until the connection timeout ends it. That
        // timeout, or the client going away, ends such a request in onError.
        ServletInputStream in = request.getInputStream();
        in.setReadListener(new ReadListener() {
            /** maxPayload counts a body's bytes, as the reference server's maxHttpBufferSize does. */
            private final long byteLimit = switchboard.options().maxPayloadBytes();
            private final ByteArrayOutputStream body = new ByteArrayOutputStream();
            private final byte[] chunk = new byte[8192];
            /** Whether the request was handed to Engine.IO, which then answers it; the callbacks run one at a time. */
            private boolean dispatched;

            @Override
            public void onDataAvailable() throws IOException {
                // Reading until isReady() says no asks the container to call again when more arrives.
                while (!dispatched && in.isReady()) {
                    int read = in.read(chunk);
                    if (read < 0) {
                        return;
                    }
                    body.write(chunk, 0, read);
                    if (body.size() > byteLimit) {
                        // Too large: answered now, the rest left unread for the container to discard.
                        handOn(null);
                    }
                }
            }

            @Override
            public void onAllDataRead() {
                if (!dispatched) {
                    handOn(body.toString(StandardCharsets.UTF_8));
                }
            }

            @Override
            public void onError(Throwable failure) {
                // The client went away mid-body, or the container's timeout ended the read; nothing
                // reached Engine.IO. Completing frees the request; where the connection is still
                // open (Jetty answers a timed-out read) the answer must not be a 200.
                if (!dispatched) {
                    dispatched = true;
                    ((HttpServletResponse) async.getResponse()).setStatus(HttpServletResponse.SC_BAD_REQUEST);
                    async.complete();
                }
            }

            private void handOn(String text) {
                dispatched = true;
                dispatch(request, async, text);
            }
        });
    }

    /** Hands a suspended request, whose POST body is read ({@code null} when too large), to Engine.IO. */
    private void dispatch(HttpServletRequest request, AsyncContext async, String body) {
        Map<String, List<String>> headers = new HashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, Collections.list(request.getHeaders(name)));
        }
        String uri = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        // Who the client is, as the upgrade guard resolves it: behind a trusted proxy, not the proxy.
        Forwarding.Client client = Forwarding.resolve(request.getRemoteAddr(), request.isSecure(), request.getHeader("Host"),
                name -> Collections.list(request.getHeaders(name)), switchboard.options().trustedProxies());
        Map<String, String[]> parameters;
        try {
            parameters = request.getParameterMap();
        } catch (RuntimeException e) {
            // Tomcat and Jetty throw for a query they cannot decode (an escape that is none, such
            // as %ZZ), which the servlet API does not foresee; thrown out of a request gone async,
            // it left the request unanswered. Engine.IO answers it as a bad request.
            parameters = null;
        }
        Handshake handshake = parameters == null ? null : engine.handshake(uri, headers, parameters, client.address());
        engine.handle(new PollRequest(request.getMethod(), handshake, client, body) {
            @Override
            protected void answer(int status, String contentType, String text) {
                HttpServletResponse answer = (HttpServletResponse) async.getResponse();
                try {
                    answer.setStatus(status);
                    answer.setContentType(contentType);
                    answer.setCharacterEncoding("UTF-8");
                    answer.getWriter().write(text);
                } catch (IOException | IllegalStateException e) {
                    // The client went away; the session's heartbeat ends it.
                } finally {
                    async.complete();
                }
            }
        });
    }
}
