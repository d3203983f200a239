package dev.switchboard.transport.grizzly;

import dev.switchboard.api.Handshake;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.engineio.PollRequest;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    EngineIoHttpHandler(Switchboard switchboard) {
        this.switchboard = switchboard;
        this.engine = EngineIo.of(switchboard);
    }

    @Override
    public void service(Request request, Response response) throws IOException {
        String body = "POST".equals(request.getMethod().getMethodString())
                ? readBody(request, switchboard.options().maxPayloadBytes()) : null;
        response.suspend();
        engine.handle(new GrizzlyPollRequest(request, response, body));
    }

    /** The body up to {@code limit} characters, or {@code null} when it is longer. */
    private static String readBody(Request request, int limit) throws IOException {
        StringBuilder body = new StringBuilder();
        char[] chunk = new char[8192];
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

    private final class GrizzlyPollRequest implements PollRequest {
        private final Request request;
        private final Response response;
        private final String body;

        GrizzlyPollRequest(Request request, Response response, String body) {
            this.request = request;
            this.response = response;
            this.body = body;
        }

        @Override
        public String method() {
            return request.getMethod().getMethodString();
        }

        @Override
        public Handshake handshake() {
            Map<String, List<String>> headers = new HashMap<>();
            for (String name : request.getHeaderNames()) {
                List<String> values = new java.util.ArrayList<>();
                request.getHeaders(name).forEach(values::add);
                headers.put(name, values);
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
        public void answer(int status, String contentType, String body) {
            try {
                response.setStatus(status);
                response.setContentType(contentType);
                response.setCharacterEncoding("UTF-8");
                response.getWriter().write(body);
            } catch (IOException e) {
                // The client went away; the session's heartbeat ends it.
            } finally {
                response.resume();
            }
        }
    }
}
