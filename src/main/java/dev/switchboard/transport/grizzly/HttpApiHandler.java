package dev.switchboard.transport.grizzly;

import dev.switchboard.http.ApiRequest;
import dev.switchboard.http.ApiResponse;
import dev.switchboard.http.HttpApi;
import java.io.IOException;
import org.glassfish.grizzly.http.server.HttpHandler;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;

/** Hands the requests under the API's path and {@code /metrics} to {@link HttpApi} on Grizzly. */
final class HttpApiHandler extends HttpHandler {
    private final HttpApi api;

    HttpApiHandler(HttpApi api) {
        this.api = api;
    }

    @Override
    public void service(Request request, Response response) {
        ApiRequest apiRequest = new ApiRequest(request.getMethod().getMethodString(), request.getRequestURI(),
                request.getQueryString(), request.getHeader("Authorization"), request.getInputStream());
        // An emit with acks answers later, from another thread.
        response.suspend();
        api.handle(apiRequest).whenComplete((answer, failure) -> {
            try {
                write(answer, response);
            } finally {
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
