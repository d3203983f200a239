package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.servlet.SwitchboardServletListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;

/**
 * Starts the demo in a servlet container: the WAR's {@code web.xml} declares it (an annotation
 * would start the demo in every WAR that carries this library). The page and its script come from
 * {@code webapp/}, the same files {@link DemoServer} serves standalone. Started with {@code
 * -Ddemo.apiKey=<key>}, it serves the HTTP API and {@code /metrics} with that key. The context
 * parameter or system property {@code demo.redis} makes it a node of a cluster on that Redis
 * (docs/DEPLOY.md).
 */
public final class DemoListener extends SwitchboardServletListener {
    /** Set once by {@link #createSwitchboard}, read by {@link #contextDestroyed}: the container's threads. */
    private volatile DemoCluster cluster;

    @Override
    protected Switchboard createSwitchboard(ServletContext context) {
        String redis = context.getInitParameter(DemoCluster.SETTING);
        if (redis == null || redis.isBlank()) {
            redis = System.getProperty(DemoCluster.SETTING, "");
        }
        if (!redis.isBlank()) {
            cluster = DemoCluster.join(redis, DemoApp.options());
        }
        Switchboard server = Switchboard.create(cluster == null ? DemoApp.options() : cluster.options());
        DemoApp.install(server);
        EchoApp.install(server);
        return server;
    }

    @Override
    protected HttpApiSettings httpApiSettings(ServletContext context) {
        return DemoApp.httpApi(super.httpApiSettings(context));
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        super.contextDestroyed(event);
        if (cluster != null) {
            cluster.leave();
        }
    }
}
