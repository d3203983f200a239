package dev.switchboard.transport.grizzly;

import dev.switchboard.http.ApiRequest;
import dev.switchboard.http.ApiResponse;
import dev.switchboard.http.HttpApi;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.http.server.HttpHandler;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;

/** Hands the requests under the API's path and {@code /metrics} to {@link HttpApi} on Grizzly. */
final class HttpApiHandler extends HttpHandler {
    private final HttpApi api;
    private final PendingConnections pending;

    HttpApiHandler(HttpApi api, PendingConnections pending) {
        this.api = api;
        this.pending = pending;
    }

    @Override
    public void service(Request request, Response response) {
        // Refused before its body is read: a body nobody may send is never buffered.
        ApiResponse refused = api.refusal(apiRequest(request, InputStream.nullInputStream()));
        if (refused != null) {
            write(refused, response);
            return;
        }
        // An emit with acks answers later, from another thread.
        response.suspend();
        // One byte past the limit is enough for the API to answer 413.
        RequestBody.read(request, response, api.settings().maxBodyBytes(), body -> answer(request, response, body));
    }

    private static ApiRequest apiRequest(Request request, InputStream body) {
        return new ApiRequest(request.getMethod().getMethodString(), request.getRequestURI(),
                request.getQueryString(), request.getHeader("Authorization"), body);
    }

    private void answer(Request request, Response response, byte[] body) {
        // Read whole, the request is the API's to answer, within the longest ack wait it allows: an
        // emit waiting for acks is not idle, and the idle timeout must not cut it.
        Connection<?> connection = request.getContext().getConnection();
        pending.settled(connection);
        api.answer(apiRequest(request, new ByteArrayInputStream(body))).whenComplete((answer, failure) -> {
            try {
                write(answer, response);
            } finally {
                // Idle until its next request, timed again; before the answer goes out, so that
                // this cannot undo the settling of the next request.
                pending.rejoin(connection);
                response.resume();
            }
        });
    }

    private static void write(ApiResponse answer, Response response) {
        response.setStatus(answer.status());
        answer.allHeaders().forEach(response::setHeader);
        try {
            response.getOutputStream().write(answer.bodyBytes());
        } catch (IOException e) {
            // The caller went away; nothing to answer.
        }
    }
}
