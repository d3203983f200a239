package dev.switchboard.transport.servlet;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.jsr356.SwitchboardConfigurator;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Checks WebSocket upgrade requests before the container upgrades them, as the standalone
 * server's guard does: a foreign Origin gets 403 (JSR 356's {@code checkOrigin} is not shown the
 * Host the request went to), a request without a key 400, an unsupported version 426 naming
 * version 13 (Jetty would answer 404). It also hands the handshake the client's address, which
 * Tomcat does not give WebSocket endpoints.
 */
final class UpgradeGuard implements Filter {
    private final Switchboard server;

    UpgradeGuard(Switchboard server) {
        this.server = server;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse answer
                && "websocket".equalsIgnoreCase(http.getHeader("Upgrade"))) {
            if (http.getHeader("Sec-WebSocket-Key") == null) {
                refuse(answer, HttpServletResponse.SC_BAD_REQUEST);
                return;
            }
            if (!"13".equals(http.getHeader("Sec-WebSocket-Version"))) {
                answer.setHeader("Sec-WebSocket-Version", "13");
                refuse(answer, HttpServletResponse.SC_UPGRADE_REQUIRED);
                return;
            }
            if (!server.originPolicy().allows(http.getHeader("Origin"), http.getHeader("Host"))) {
                server.metrics().countRejectedOrigin();
                refuse(answer, HttpServletResponse.SC_FORBIDDEN);
                return;
            }
        }
        // The container upgrades within the chain, on this thread.
        SwitchboardConfigurator.clientAddress(request.getRemoteAddr());
        try {
            chain.doFilter(request, response);
        } finally {
            SwitchboardConfigurator.clientAddress(null);
        }
    }

    private static void refuse(HttpServletResponse response, int status) {
        response.setStatus(status);
        response.setContentLength(0);
    }
}
