package dev.switchboard.deployment;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.servlet.SwitchboardServletListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.annotation.WebListener;

/**
 * The listener of docs/DEPLOY.md's "Your own WAR", word for word: the only class of the web
 * application {@link OwnWar} builds, which gets the library from its classes jar.
 */
@WebListener
public class ChatStartup extends SwitchboardServletListener {
    @Override
    protected Switchboard createSwitchboard(ServletContext context) {
        Switchboard server = Switchboard.create();
        server.onConnection(socket -> socket.on("chat", event -> server.emit("chat", event.args().raw(0))));
        return server;
    }
}
