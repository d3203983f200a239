package dev.switchboard.transport.servlet;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.Forwarding;
import dev.switchboard.transport.UpgradeCheck;
import dev.switchboard.transport.jsr356.SwitchboardConfigurator;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;

/**
 * Checks requests to the WebSocket endpoint before the container upgrades them, as the standalone
 * server's guard does ({@link UpgradeCheck}): a plain request gets 426 (the containers would answer
 * 404), an upgrade without {@code Connection: Upgrade} or a key, or whose query is no URI (a bad
 * escape, or {@code { } | ^} and the backtick, which browsers leave unescaped), 400 (Tomcat and
 * Jetty would answer 500), another version 426 naming
 * version 13 (Jetty would answer 404), a foreign Origin 403 (JSR 356's {@code checkOrigin} is not
 * shown the Host the request went to). It also hands the handshake the client's address, which
 * Tomcat does not give WebSocket endpoints: behind a trusted proxy, the one the proxy names
 * ({@link Forwarding}).
 */
final class UpgradeGuard implements Filter {
    private final Switchboard server;

    UpgradeGuard(Switchboard server) {
        this.server = server;
    }

    /** A plain request to the Socket.IO path is Engine.IO's long-polling, for its servlet. */
    private boolean isLongPolling(HttpServletRequest request) {
        return !"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))
                && request.getRequestURI().endsWith(server.options().socketIoPath());
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Forwarding.Client client = new Forwarding.Client(request.getRemoteAddr(), request.isSecure(), null);
        if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse answer
                && !isLongPolling(http)) {
            client = Forwarding.resolve(http.getRemoteAddr(), http.isSecure(), http.getHeader("Host"),
                    name -> Collections.list(http.getHeaders(name)), server.options().trustedProxies());
            UpgradeCheck.Refusal refusal = UpgradeCheck.check(http::getHeader, http.getQueryString(), client, server);
            if (refusal != null) {
                if (refusal.status() == HttpServletResponse.SC_FORBIDDEN) {
                    server.metrics().countRejectedOrigin();
                }
                if (refusal.header() != null) {
                    answer.setHeader(refusal.header(), refusal.value());
                }
                answer.setStatus(refusal.status());
                answer.setContentLength(0);
                return;
            }
        }
        // The container upgrades within the chain, on this thread.
        SwitchboardConfigurator.client(client);
        try {
            chain.doFilter(request, response);
        } finally {
            SwitchboardConfigurator.client(null);
        }
    }
}
