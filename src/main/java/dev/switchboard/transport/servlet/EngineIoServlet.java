package dev.switchboard.transport.servlet;

import dev.switchboard.api.Handshake;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.time.Instant;
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
        // Read before going async: a suspended request's body is read only asynchronously.
        String body = "POST".equals(request.getMethod()) ? readBody(request, switchboard.options().maxPayloadBytes()) : null;
        AsyncContext async = request.startAsync();
        // The heartbeat answers a waiting GET within pingInterval; the container must not time it out first.
        async.setTimeout(0);
        engine.handle(new ServletPollRequest(request, async, body));
    }

    private static String readBody(HttpServletRequest request, int limit) throws IOException {
        StringBuilder body = new StringBuilder();
        char[] chunk = new char[8192];
        request.setCharacterEncoding("UTF-8");
        try (Reader in = request.getReader()) {
            for (int read = in.read(chunk); read >= 0; read = in.read(chunk)) {
                body.append(chunk, 0, read);
                if (body.length() > limit) {
                    return null;
                }
            }
        }
        return body.toString();
    }

    private final class ServletPollRequest implements PollRequest {
        private final HttpServletRequest request;
        private final AsyncContext async;
        private final String body;

        ServletPollRequest(HttpServletRequest request, AsyncContext async, String body) {
            this.request = request;
            this.async = async;
            this.body = body;
        }

        @Override
        public String method() {
            return request.getMethod();
        }

        @Override
        public Handshake handshake() {
            Map<String, List<String>> headers = new HashMap<>();
            for (String name : Collections.list(request.getHeaderNames())) {
                headers.put(name, Collections.list(request.getHeaders(name)));
            }
            Map<String, List<String>> query = new HashMap<>();
            request.getParameterMap().forEach((name, values) -> query.put(name, List.of(values)));
            String uri = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
            return new Handshake(URI.create(uri), headers, query, request.getRemoteAddr(),
                    Instant.now(switchboard.options().clock()), null);
        }

        @Override
        public boolean secure() {
            return request.isSecure();
        }

        @Override
        public String body() {
            return body;
        }

        @Override
        public void answer(int status, String contentType, String text) {
            HttpServletResponse response = (HttpServletResponse) async.getResponse();
            try {
                response.setStatus(status);
                response.setContentType(contentType);
                response.setCharacterEncoding("UTF-8");
                response.getWriter().write(text);
            } catch (IOException | IllegalStateException e) {
                // The client went away; the session's heartbeat ends it.
            } finally {
                async.complete();
            }
        }
    }
}
