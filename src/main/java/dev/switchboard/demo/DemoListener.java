package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.servlet.SwitchboardServletListener;
import jakarta.servlet.ServletContext;

/**
 * Starts the demo in a servlet container: the WAR's {@code web.xml} declares it (an annotation
 * would start the demo in every WAR that carries this library). The page and its script come from
 * {@code webapp/}, the same files {@link DemoServer} serves standalone. Started with {@code
 * -Ddemo.apiKey=<key>}, it serves the HTTP API and {@code /metrics} with that key.
 */
public final class DemoListener extends SwitchboardServletListener {
    @Override
    protected Switchboard createSwitchboard(ServletContext context) {
        Switchboard server = Switchboard.create(DemoApp.options());
        DemoApp.install(server);
        EchoApp.install(server);
        return server;
    }

    @Override
    protected HttpApiSettings httpApiSettings(ServletContext context) {
        return DemoApp.httpApi(super.httpApiSettings(context));
    }
}
