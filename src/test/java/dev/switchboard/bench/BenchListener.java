package dev.switchboard.bench;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.servlet.SwitchboardServletListener;
import jakarta.servlet.ServletContext;

/**
 * The benchmark's application in a servlet container (Tomcat, Jetty): the web application that
 * {@link BenchWebapp} lays out declares it in its {@code web.xml}.
 */
public final class BenchListener extends SwitchboardServletListener {
    @Override
    protected Switchboard createSwitchboard(ServletContext context) {
        return BenchApp.create(true, null);
    }
}
