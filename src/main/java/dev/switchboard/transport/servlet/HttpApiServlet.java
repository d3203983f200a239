package dev.switchboard.transport.servlet;

import dev.switchboard.http.ApiRequest;
import dev.switchboard.http.ApiResponse;
import dev.switchboard.http.HttpApi;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Hands the requests under the API's path and {@code /metrics} (where served) to {@link HttpApi}
 * in a servlet container; {@link SwitchboardServletListener} registers it when a key is configured.
 * A request's body is read only once the API admitted it, and as it arrives ({@link RequestBody}).
 */
final class HttpApiServlet extends HttpServlet {
    /**
     * The time a body may take to arrive. A stalled one is ended sooner by the container's read
     * timeout (Tomcat's 20 s, Jetty's 30 s by default); a trickling one holds no thread meanwhile.
     */
    private static final long BODY_MILLIS = 60_000;

    private final transient HttpApi api;

    private HttpApiServlet(HttpApi api) {
        this.api = api;
    }

    /** Registers the servlet for {@code api}'s paths in this web application. */
    static void register(ServletContext context, HttpApi api) {
        ServletRegistration.Dynamic servlet = context.addServlet(HttpApiServlet.class.getName(), new HttpApiServlet(api));
        if (servlet == null) {
            throw new IllegalStateException("the Switchboard HTTP API is registered in this web application already");
        }
        servlet.setAsyncSupported(true);
        servlet.addMapping(api.settings().path() + "/*");
        if (api.settings().metrics()) {
            servlet.addMapping("/metrics");
        }
    }

    /** Every method comes here, so that the API answers 405 itself. */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String method = request.getMethod();
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        String query = request.getQueryString();
        String authorization = request.getHeader("Authorization");
        // Refused before its body is read: a body nobody may send is never read.
        ApiResponse refused = api.refusal(new ApiRequest(method, path, query, authorization, InputStream.nullInputStream()));
        if (refused != null) {
            write(refused, response);
            return;
        }
        // An emit with acks answers later, from another thread; the API bounds how long. The
        // container's timeout also runs while the body arrives, so it leaves the body its own time.
        AsyncContext async = request.startAsync();
        async.setTimeout(BODY_MILLIS + api.settings().maxAckWaitMillis() + 10_000);
        // Read as it arrives, as long-polling bodies are. One byte past the limit is enough for
        // the API to answer 413.
        RequestBody.read(request.getInputStream(), async, api.settings().maxBodyBytes(),
                body -> answer(async, new ApiRequest(method, path, query, authorization, new ByteArrayInputStream(body))));
    }

    private void answer(AsyncContext async, ApiRequest request) {
        api.answer(request).whenComplete((answer, failure) -> {
            try {
                write(answer, (HttpServletResponse) async.getResponse());
            } finally {
                async.complete();
            }
        });
    }

    private static void write(ApiResponse answer, HttpServletResponse response) {
        response.setStatus(answer.status());
        answer.allHeaders().forEach(response::setHeader);
        try {
            response.getOutputStream().write(answer.bodyBytes());
        } catch (IOException e) {
            // The caller went away; nothing to answer.
        }
    }
}
