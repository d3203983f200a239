package dev.switchboard.transport.grizzly;

import dev.switchboard.http.ApiRequest;
import dev.switchboard.http.ApiResponse;
import dev.switchboard.http.HttpApi;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.ReadHandler;
import org.glassfish.grizzly.http.io.NIOInputStream;
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
        // An emit with acks answers later, from another thread.
        response.suspend();
        // The body is read as it arrives, not by a blocking read: a body that trickles in or never
        // comes (a backend gone mid-request) would hold one of Grizzly's few worker threads, which
        // read every request and upgrade and run the WebSockets' listeners, until the idle timeout.
        // One byte past the limit is enough for the API to answer 413.
        int limit = api.settings().maxBodyBytes();
        NIOInputStream input = request.getNIOInputStream();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        input.notifyAvailable(new ReadHandler() {
            private final byte[] chunk = new byte[8192];

            @Override
            public void onDataAvailable() throws Exception {
                if (readReady()) {
                    input.notifyAvailable(this);
                }
            }

            @Override
            public void onAllDataRead() throws Exception {
                if (readReady()) {
                    answer(request, response, body.toByteArray());
                }
            }

            @Override
            public void onError(Throwable failure) {
                // The caller went away mid-body, or the idle timeout dropped it: nothing to answer.
                response.resume();
            }

            /** Reads what has arrived; false once past the limit, when the request has been answered. */
            private boolean readReady() throws IOException {
                while (input.isReady() && body.size() <= limit) {
                    int read = input.read(chunk);
                    if (read < 0) {
                        break;
                    }
                    body.write(chunk, 0, read);
                }
                if (body.size() > limit) {
                    answer(request, response, body.toByteArray());
                    return false;
                }
                return true;
            }
        });
    }

    private void answer(Request request, Response response, byte[] body) {
        ApiRequest apiRequest = new ApiRequest(request.getMethod().getMethodString(), request.getRequestURI(),
                request.getQueryString(), request.getHeader("Authorization"), new ByteArrayInputStream(body));
        // Read whole, the request is the API's to answer, within the longest ack wait it allows: an
        // emit waiting for acks is not idle, and the idle timeout must not cut it.
        Connection<?> connection = request.getContext().getConnection();
        pending.settled(connection);
        api.handle(apiRequest).whenComplete((answer, failure) -> {
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
