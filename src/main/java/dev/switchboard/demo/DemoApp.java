package dev.switchboard.demo;

import dev.switchboard.server.Switchboard;

/**
 * The demo's event handlers: the minimal page at {@code /} relays {@code message} events to
 * everyone and says who joined and left.
 *
 * <pre>{@code
 * DemoApp.install(Switchboard.create());
 * }</pre>
 */
public final class DemoApp {
    private DemoApp() {
    }

    /** Installs the demo's handlers on {@code server}. */
    public static void install(Switchboard server) {
        server.onConnection(socket -> {
            socket.broadcast().emit("presence", socket.id(), "joined");
            socket.on("message", event -> {
                server.emit("message", event.args().raw(0));
                event.ack("delivered");
            });
            socket.onDisconnect(reason -> server.emit("presence", socket.id(), "left: " + reason.text()));
        });
    }
}
