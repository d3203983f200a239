package dev.switchboard.transport.servlet;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
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
        String body = null;
        if ("POST".equals(request.getMethod())) {
            // Read before going async: a suspended request's body is read only asynchronously.
            request.setCharacterEncoding("UTF-8");
            body = engine.readBody(request.getReader());
        }
        Map<String, List<String>> headers = new HashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, Collections.list(request.getHeaders(name)));
        }
        String uri = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        // Who the client is, as the upgrade guard resolves it: behind a trusted proxy, not the proxy.
        Forwarding.Client client = Forwarding.resolve(request.getRemoteAddr(), request.isSecure(), request.getHeader("Host"),
                name -> Collections.list(request.getHeaders(name)), switchboard.options().trustedProxies());
        AsyncContext async = request.startAsync();
        // The heartbeat answers a waiting GET within pingInterval; the container must not time it out first.
        async.setTimeout(0);
        engine.handle(new PollRequest(request.getMethod(), engine.handshake(uri, headers, request.getParameterMap(),
                client.address()), client, body) {
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
