package dev.switchboard.transport.servlet;

import dev.switchboard.api.Handshake;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
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
        // maxPayload counts a body's bytes, as the reference server's maxHttpBufferSize does.
        long byteLimit = switchboard.options().maxPayloadBytes();
        RequestBody.read(request.getInputStream(), async, byteLimit,
                body -> dispatch(request, async, body.length > byteLimit ? null : new String(body, StandardCharsets.UTF_8)));
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
